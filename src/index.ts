/**
 * vaat's public API: open a dump (openVmcore), then ask the kernel model — one module per
 * subsystem, each helper named after the kernel concept, kernel objects in and typed records out
 * (bigint addresses, numbers, enums); toJson() writes any record as `--json` does.
 */
export { openVmcore, Vmcore, type OpenVmcoreOptions } from './vmcore.js';
export { staticContext, type KernelContext, type KernelMemory, type StaticContextParts } from './context.js';
export { Dump, type MemoryReader, type DumpAttrs, type CpuRegs } from './dump/dump.js';
export { VmcoreInfo } from './dump/vmcoreinfo.js';
export * from './dump/errors.js';
export { defineCommand, type VaatCommand, type CommandContext, type OptionSpec } from './plugin.js';
export { builtinCommand } from '../commands/index.js';
export { Output, type TreeNode } from './output/sink.js';
export { toJson, commandSchema, type JsonSchema } from './output/json.js';

// The kernel model, for scripts: one module per subsystem, each helper named after the kernel concept.
export { forEachTask, listTasks, findTask, taskAt, type Task, type TaskStateChar } from './kernel/tasks.js';
export { cpuMask, forEachOnlineCpu, forEachPossibleCpu, cpuCurr, nrCpuIds } from './kernel/cpu.js';
export { panicInfo, panicCpu, panicTask, panicMessage, crashTime, taintString, type PanicInfo, type PanicCpu, type CrashTime } from './kernel/panic.js';
export { utsname, uptime, loadAverage, totalRam, type Utsname, type Uptime, type LoadAverage } from './kernel/sys.js';
export { readKernelLog, type LogRecord } from './kernel/printk/index.js';
export { formatLog } from './output/printk-text.js';
export { taskStack, cpuStack, panicStack, type StackTrace, type StackFrame } from './kernel/stack/index.js';
export { groupTaskStacks } from './kernel/stack/groups.js';
export { runqueues, cpuRq, rqModel, cfsRqForEachEntity, taskGroupTree } from './kernel/sched/index.js';
export type { RqModel } from './kernel/sched/index.js';
export type { CfsEntity, CfsRqInfo, EevdfInfo } from './kernel/sched/cfs.js';
export type { TaskGroupNode } from './kernel/sched/group.js';
export { cgroupRoots, cgroupTree, cgroupPath, cgroupTasks, type CgroupHierarchy, type CgroupInfo } from './kernel/cgroup/index.js';
export { cpuTopologyAll, cpuTopology, type CpuTopology, type Topology } from './kernel/sched/topology.js';
export { cpuTlbStates, type TlbSummary, type CpuTlbState } from './kernel/mm/tlb.js';
export { lockInfo, mutexOwner, mutexForEachWaiter, rwsemOwner, type LockInfo, type MutexOwner, type RwsemOwner } from './kernel/locking/index.js';
export { taskBlockedOn, waitForGraph, type TaskWait, type WaitGraph } from './kernel/locking/waits.js';
export { listModules, type KernelModule } from './kernel/module/index.js';
export { KObject } from './object/kobject.js';
export { archOf, isKernelAddress, type Arch, type AddressSpace, type ThreadSize } from './arch/index.js';
export { listForEachEntry, hlistForEachEntry, rbForEachEntry, containerOf, cpumaskToList, cpuListString, xaLoad, idrFind } from './object/helpers.js';
export { moduleTypes, vmlinuxBtf } from './kernel/module/btf.js';
export { withInlinedFrames } from './kernel/stack/inline.js';
export type { StackOptions } from './kernel/stack/index.js';
