/**
 * The kernel's clocks as of the last tick: the timekeeper (tk_core.timekeeper) and HZ.
 */
import type { KernelContext } from '../context.js';
import { CorruptDumpError, VaatError } from '../errors/index.js';
import type { KObject } from '../object/kobject.js';
import { tkCoreTimekeeperOffset } from '../types/well-known.js';

/** tk_core.timekeeper: the timekeeper the tick updates (its place in tk_core: src/types/well-known.ts) */
export function timekeeper(vm: KernelContext): KObject {
  return vm.objectAt(vm.address('tk_core') + BigInt(tkCoreTimekeeperOffset(vm.types)), 'struct timekeeper');
}

/**
 * CLOCK_MONOTONIC at the last tick, in ns: what ktime_get_coarse() returns,
 * tkr_mono.base + (tkr_mono.xtime_nsec >> tkr_mono.shift).
 */
export function monotonicNs(vm: KernelContext): bigint {
  const mono = timekeeper(vm).member('tkr_mono').snapshot();
  return mono.member('base').bigint() + (mono.member('xtime_nsec').bigint() >> mono.member('shift').bigint());
}

/** CONFIG_HZ values the architectures offer (kernel/Kconfig.hz and the arch Kconfigs) */
const HZ_CHOICES = [24, 32, 48, 64, 100, 128, 200, 250, 256, 300, 500, 1000, 1024, 1200];

/**
 * HZ, which no variable holds: tick_nsec is TICK_NSEC = NSEC_PER_SEC / HZ (rounded, and NTP
 * adjusts it by parts per million), so round(1e9 / tick_nsec) gives HZ back exactly. Where
 * tick_nsec has no symbol (a bare arm64 dump: kallsyms without data), the HZ whose jiffies since
 * INITIAL_JIFFIES match CLOCK_MONOTONIC at the same tick, within a tenth of a second; both
 * advance on the tick and neither counts suspended time.
 */
export function hz(vm: KernelContext): number {
  if (vm.symbols.lookup('tick_nsec')) {
    const tickNsec = vm.object('tick_nsec', 'unsigned long').number();
    if (tickNsec <= 0) throw new CorruptDumpError(`tick_nsec is ${tickNsec}`);
    return Math.round(1e9 / tickNsec);
  }
  const j = vm.mem.u64(vm.address('jiffies_64'));
  const seconds = Number(monotonicNs(vm)) / 1e9;
  const fits = HZ_CHOICES.map((h) => {
    const elapsed = Number(BigInt.asIntN(64, j - initialJiffies(h)));
    return { h, off: Math.abs(elapsed / h - seconds) };
  }).filter((f) => f.off < 0.1);
  if (fits.length !== 1) throw new VaatError(`HZ is unknown: no tick_nsec symbol, and ${fits.length} HZ values fit jiffies_64 against the timekeeper`);
  return fits[0].h;
}

/**
 * INITIAL_JIFFIES, (unsigned long)(unsigned int)(-300 * HZ) (include/linux/jiffies.h): jiffies
 * start five minutes before the 32-bit wrap so wrap bugs show early.
 */
export function initialJiffies(hzValue: number): bigint {
  return BigInt.asUintN(32, BigInt(-300 * hzValue));
}
