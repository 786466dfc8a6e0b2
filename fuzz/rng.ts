/** A small seeded PRNG (mulberry32): input `i` of seed `s` is the same on every machine and run. */
export interface Rng {
  (): number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (() => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as Rng;
  next.int = (n) => Math.floor(next() * Math.max(1, n));
  next.pick = (xs) => xs[next.int(xs.length)];
  next.chance = (p) => next() < p;
  return next;
}

/** the generator of input `index` of run `seed`: independent of every other input */
export function inputRng(seed: number, index: number): Rng {
  return rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}
