/**
 * The public API's edge (src/index.ts, src/api-args.ts): every exported function checks its
 * arguments at the call. A missing or wrong-kind argument is an ArgumentError (a UsageError, exit
 * 2 from a CLI script) naming the function, the parameter and what it wanted — never a TypeError
 * from inside the kernel model (issue #16: `cgroupTree(vm)` threw "Cannot read properties of
 * undefined (reading 'cgrp')").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { ArgumentError, UsageError, VaatError, exitCodeFor, EXIT_USAGE } from '../src/errors/index.js';
import { fixturePath } from './hostile/inputs.js';

const KDUMP = fixturePath('sysrq-basic/vmcore.kdump-lzo');
let vm: api.Vmcore;
beforeAll(() => { vm = api.openVmcore(KDUMP); });
afterAll(() => vm?.close());

/** the error a call throws (a generator's body runs only when iterated: the check must not wait for that) */
function thrown(fn: () => unknown): unknown {
  try { fn(); } catch (e) { return e; }
  return undefined;
}

// exports that are classes, or take any value and never fail (the error module's helpers)
const NOT_CHECKED = new Set(['Vmcore', 'Dump', 'VmcoreInfo', 'Output', 'KObject', 'toJson', 'describeFailure', 'fromNative', 'errnoName', 'exitCodeFor', 'isCommanderUsage']);
const functions = Object.entries(api).filter(([name, v]) => typeof v === 'function' && !NOT_CHECKED.has(name) && !/Error$/.test(name)) as [string, (...a: unknown[]) => unknown][];

describe('public API arguments', () => {
  it('exports the helpers scripts use (a sanity check on the list below)', () => {
    expect(functions.length).toBeGreaterThan(50);
    for (const n of ['openVmcore', 'cgroupTree', 'cgroupRoots', 'listTasks', 'taskStack', 'lockInfo', 'listForEachEntry']) expect(functions.map(([k]) => k)).toContain(n);
  });

  it.each(functions.map(([name]) => name))('%s() with no arguments: ArgumentError naming it', (name) => {
    const fn = functions.find(([n]) => n === name)![1];
    const e = thrown(() => fn());
    expect(e, `${name}() threw ${String(e)}`).toBeInstanceOf(ArgumentError);
    expect(e).toBeInstanceOf(UsageError);
    expect(e).toBeInstanceOf(VaatError);
    expect((e as Error).name).toBe('ArgumentError');
    expect((e as Error).message).toMatch(new RegExp(`^${name}\\(\\): missing argument 1 \\(\\w+\\): expected `));
    expect(exitCodeFor(e)).toBe(EXIT_USAGE);
  });

  it('cgroupTree(vm) without its hierarchy: an ArgumentError that says where to get one; with one from cgroupRoots(vm) it works', () => {
    const e = thrown(() => api.cgroupTree(vm, undefined as never));
    expect(e).toBeInstanceOf(ArgumentError);
    expect((e as Error).message).toBe('cgroupTree(): missing argument 2 (h): expected a cgroup hierarchy — take one from cgroupRoots(vm)');
    const roots = api.cgroupRoots(vm);
    expect(roots.length).toBeGreaterThan(0);
    const tree = api.cgroupTree(vm, roots[0]);
    expect(tree.path).toBe('/');
  });

  it.each([
    ['findTask(vm, "1")', () => api.findTask(vm, '1' as never), /findTask\(\): argument 2 \(pid\) is '1': expected an integer >= 0/],
    ['findTask(vm, -1)', () => api.findTask(vm, -1), /findTask\(\): argument 2 \(pid\) is number -1/],
    ['taskAt(vm, 123) (a number for an address)', () => api.taskAt(vm, 123 as never), /taskAt\(\): argument 2 \(address\) is number 123: expected an address as a bigint/],
    ['taskAt(vm, -1n)', () => api.taskAt(vm, -1n), /taskAt\(\): argument 2 \(address\) is -1n/],
    ['cpuRq(vm, 1.5)', () => api.cpuRq(vm, 1.5), /cpuRq\(\): argument 2 \(cpu\) is number 1.5: expected a CPU number/],
    ['cpuMask(vm, "offline")', () => api.cpuMask(vm, 'offline' as never), /cpuMask\(\): argument 2 \(name\) is 'offline': expected one of 'possible', 'online'/],
    ['listTasks(dump) (a Dump for a Vmcore)', () => api.listTasks(vm.dump as never), /listTasks\(\): argument 1 \(vm\) is a Dump: expected a Vmcore from openVmcore\(\)/],
    ['lockInfo(vm, addr, "lock")', () => api.lockInfo(vm, 0xffffffff00000000n, 'lock' as never), /lockInfo\(\): argument 3 \(kind\)/],
    ['forEachTask(vm, "all") (a generator: checked at the call)', () => api.forEachTask(vm, 'all' as never), /forEachTask\(\): argument 2 \(opts\) is 'all': expected an options object/],
    ['listForEachEntry(0n, ...)', () => api.listForEachEntry(0n as never, 'struct task_struct', 'tasks'), /listForEachEntry\(\): argument 1 \(head\) is 0n: expected a KObject/],
    ['readKernelLog(vm)', () => api.readKernelLog(vm as never, undefined as never), /readKernelLog\(\): argument 1 \(mem\) is a Vmcore: expected a memory reader.* — readKernelLog\(vm\.dump, vm\.vmcoreinfo\)/],
    ['readKernelLog(vm.dump)', () => api.readKernelLog(vm.dump, undefined as never), /readKernelLog\(\): missing argument 2 \(info\): expected a VmcoreInfo/],
    ['openVmcore(undefined)', () => api.openVmcore(undefined as never), /openVmcore\(\): missing argument 1 \(file\): expected a string/],
    ['runqueues(vm, [0, "1"])', () => api.runqueues(vm, [0, '1'] as never), /runqueues\(\): argument 2 \(cpus\) is an array: expected an array of CPU numbers/],
  ])('%s: ArgumentError', (_label, call, message) => {
    const e = thrown(call);
    expect(e).toBeInstanceOf(ArgumentError);
    expect((e as Error).message).toMatch(message);
  });

  it('right arguments pass through to the helper unchanged (results as before)', () => {
    const tasks = api.listTasks(vm);
    expect(tasks.length).toBeGreaterThan(10);
    expect(api.findTask(vm, tasks[1].pid)?.address).toBe(tasks[1].address);
    expect(api.taskAt(vm, tasks[1].address).pid).toBe(tasks[1].pid);
    expect([...api.forEachTask(vm)].length).toBe(tasks.length);
    expect(api.cpuListString([0, 1, 2, 5])).toBe('0-2,5');
    expect(api.openVmcore.name).toBe('openVmcore');
  });
});
