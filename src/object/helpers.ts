/**
 * The kernel's generic containers, walked through KObjects: container_of, list_head, hlist,
 * rbtree, xarray/idr, per-CPU variables and cpumasks. Each walk is bounded, so a corrupt or
 * cyclic list in a dump ends with an error instead of looping forever.
 */
import type { TypeRef } from '../types/typeinfo.js';
import { KObject, ObjectError } from './kobject.js';
import { UsageError } from '../errors/index.js';

/** list walks stop here: far more entries than any kernel list holds in a sane dump */
export const MAX_LIST_ENTRIES = 1_000_000;

/** C's container_of: the `type` object whose `member` is at `ptr` */
export function containerOf(obj: KObject, ptr: bigint, type: TypeRef, member: string): KObject {
  const off = obj.ctx.types.offsetof(type, member);
  return KObject.at(obj.ctx, ptr - BigInt(off), type);
}

/**
 * Brent's cycle finder over a walk: `step(p)` is false once p is a node seen before. A corrupt
 * pointer that loops back into the middle of a list (never to its head) is caught after about
 * twice the loop's length, not after MAX_LIST_ENTRIES reads (a minute of a fuzzed dump's time).
 */
function cycleCheck(): (p: bigint) => boolean {
  let saved = -1n;
  let power = 1;
  let lam = 0;
  return (p) => {
    if (p === saved) return false;
    if (++lam === power) { saved = p; power *= 2; lam = 0; }
    return true;
  };
}

/** addresses of the nodes of a circular `struct list_head` (excluding the head itself) */
export function* listNodes(head: KObject): Generator<bigint> {
  const start = head.address;
  const fresh = cycleCheck();
  // each node's `next` read directly, not through a KObject per node: a css_set's task list on a
  // 20,000-task dump is 20,000 nodes
  const mem = head.ctx.mem;
  const nextOff = BigInt(head.ctx.types.offsetof('struct list_head', 'next'));
  let p = head.member('next').pointer();
  for (let n = 0; p !== start; n++) {
    if (p === 0n) throw new ObjectError(`NULL in list at 0x${start.toString(16)}`);
    if (n >= MAX_LIST_ENTRIES) throw new ObjectError(`list at 0x${start.toString(16)} does not end (corrupt or cyclic)`);
    if (!fresh(p)) throw new ObjectError(`list at 0x${start.toString(16)} loops back to 0x${p.toString(16)} without reaching its head (corrupt)`);
    yield p;
    p = mem.readVirt(p + nextOff, 8).readBigUInt64LE(0);
  }
}

/** list_for_each_entry: each `type` whose `member` (a list_head) is linked on `head` */
export function* listForEachEntry(head: KObject, type: TypeRef, member: string): Generator<KObject> {
  const off = BigInt(head.ctx.types.offsetof(type, member));
  for (const node of listNodes(head)) yield KObject.at(head.ctx, node - off, type);
}

/** hlist_for_each_entry over a `struct hlist_head` */
export function* hlistForEachEntry(head: KObject, type: TypeRef, member: string): Generator<KObject> {
  const off = BigInt(head.ctx.types.offsetof(type, member));
  let p = head.member('first').pointer();
  const fresh = cycleCheck();
  for (let n = 0; p !== 0n; n++) {
    if (n >= MAX_LIST_ENTRIES) throw new ObjectError(`hlist at 0x${head.address.toString(16)} does not end`);
    if (!fresh(p)) throw new ObjectError(`hlist at 0x${head.address.toString(16)} loops back to 0x${p.toString(16)} (corrupt)`);
    yield KObject.at(head.ctx, p - off, type);
    p = KObject.at(head.ctx, p, 'struct hlist_node').member('next').pointer();
  }
}

/** in-order addresses of the `struct rb_node`s under an rb_root or rb_root_cached */
export function* rbInorder(root: KObject): Generator<bigint> {
  const r = root.hasMember('rb_root') ? root.member('rb_root') : root;
  const stack: bigint[] = [];
  let node = r.member('rb_node').pointer();
  let n = 0;
  const rb = (a: bigint) => KObject.at(root.ctx, a, 'struct rb_node');
  const seen = new Set<bigint>(); // a tree visits each node once: a second visit is a cycle
  while (stack.length || node !== 0n) {
    while (node !== 0n) {
      if (++n > MAX_LIST_ENTRIES) throw new ObjectError(`rbtree at 0x${root.address.toString(16)} does not end`);
      if (seen.has(node)) throw new ObjectError(`rbtree at 0x${root.address.toString(16)} reaches node 0x${node.toString(16)} twice (corrupt)`);
      seen.add(node);
      stack.push(node);
      node = rb(node).member('rb_left').pointer();
    }
    node = stack.pop()!;
    yield node;
    node = rb(node).member('rb_right').pointer();
  }
}

/** rbtree_postorder / in-order entries: each `type` whose `member` is the rb_node */
export function* rbForEachEntry(root: KObject, type: TypeRef, member: string): Generator<KObject> {
  const off = BigInt(root.ctx.types.offsetof(type, member));
  for (const node of rbInorder(root)) yield KObject.at(root.ctx, node - off, type);
}

/** the CPUs set in a `struct cpumask` (or its `bits` array), up to nrCpuIds */
export function cpumaskToList(mask: KObject, nrCpuIds: number): number[] {
  const bits = mask.hasMember('bits') ? mask.member('bits') : mask;
  const words = Math.ceil(nrCpuIds / 64);
  const out: number[] = [];
  for (let w = 0; w < words; w++) {
    const v = bits.index(w).bigint();
    for (let b = 0; b < 64 && w * 64 + b < nrCpuIds; b++) if ((v >> BigInt(b)) & 1n) out.push(w * 64 + b);
  }
  return out;
}

/** "0-3,6" form of a CPU list, as the kernel prints cpusets */
export function cpuListString(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** CPU numbers a cpumask can hold at most (NR_CPUS is at most 8192 on every architecture vaat reads) */
const MAX_CPU_NUMBER = 65_535;

/** cpulist_parse(): "0-2,5" → [0, 1, 2, 5], sorted, without repeats; the inverse of cpuListString */
export function parseCpuList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UsageError(`bad CPU list '${text}' (want e.g. 0-2,5)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new UsageError(`bad CPU range '${part}'`);
    if (hi > MAX_CPU_NUMBER) throw new UsageError(`CPU ${hi} in '${text}' is beyond any kernel's CPU numbers (at most ${MAX_CPU_NUMBER})`);
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

// XArray node layout constants from include/linux/xarray.h (unchanged 4.20 → 6.12).
const XA_CHUNK_SHIFT = 6n;
const XA_CHUNK_MASK = (1n << XA_CHUNK_SHIFT) - 1n;

/** xa_load: the entry stored at `index` in a `struct xarray`, 0n when absent */
export function xaLoad(xa: KObject, index: bigint): bigint {
  // Node pointers are tagged 0b10 and lie above the first page; small 0b10 values are internal
  // entries (retry, sibling) that hold no object.
  const isNode = (e: bigint) => (e & 3n) === 2n && e > 4096n;
  let entry = xa.member('xa_head').pointer();
  if (!isNode(entry)) return index === 0n ? entry : 0n;
  for (let depth = 0; isNode(entry); depth++) {
    if (depth > 16) throw new ObjectError(`xarray at 0x${xa.address.toString(16)} is too deep`);
    const node = KObject.at(xa.ctx, entry - 2n, 'struct xa_node');
    const shift = BigInt(node.member('shift').number());
    // the top node covers indexes below 64 << shift; anything above is absent
    if (depth === 0 && index >> (shift + XA_CHUNK_SHIFT) !== 0n) return 0n;
    entry = node.member('slots').index(Number((index >> shift) & XA_CHUNK_MASK)).pointer();
  }
  return (entry & 3n) === 2n ? 0n : entry;
}

/** idr_find (4.20+: an IDR is an xarray-backed radix tree at idr_rt, offset by idr_base) */
export function idrFind(idr: KObject, id: number): bigint {
  const base = idr.hasMember('idr_base') ? idr.member('idr_base').number() : 0;
  return xaLoad(idr.member('idr_rt').cast('struct xarray'), BigInt(id - base));
}
