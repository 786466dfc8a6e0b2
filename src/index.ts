/** vaat's public API. */
export { openVmcore, Vmcore, type OpenVmcoreOptions } from './vmcore.js';
export { Dump, type MemoryReader, type DumpAttrs, type CpuRegs } from './dump/dump.js';
export { VmcoreInfo } from './dump/vmcoreinfo.js';
export * from './dump/errors.js';
export { defineCommand, type VaatCommand, type CommandContext, type OptionSpec } from './plugin.js';
export { builtinCommand } from '../commands/index.js';
export { Output, toJson, type TreeNode } from './output/sink.js';

// The kernel model, for scripts: one module per subsystem, each helper named after the kernel concept.
export { forEachTask, listTasks, findTask, taskAt, type Task } from './kernel/tasks.js';
export { cpuMask, forEachOnlineCpu, forEachPossibleCpu, cpuCurr, nrCpuIds } from './kernel/cpu.js';
export { panicInfo, panicCpu, panicTask, panicMessage, crashTime, taintString } from './kernel/panic.js';
export { utsname, uptime, loadAverage, totalRam } from './kernel/sys.js';
export { readKernelLog } from './kernel/printk/index.js';
export { formatLog } from './output/printk-text.js';
export { taskStack, cpuStack, panicStack, type StackTrace, type StackFrame } from './kernel/stack/index.js';
export { groupTaskStacks } from './kernel/stack/groups.js';
export { runqueues, cpuRq, rqModel, cfsRqForEachEntity, taskGroupTree } from './kernel/sched/index.js';
export { cgroupTree, cgroupPath, cgroupTasks } from './kernel/cgroup/index.js';
export { cpuTopologyAll, cpuTopology } from './kernel/sched/topology.js';
export { cpuTlbStates } from './kernel/mm/tlb.js';
export { lockInfo, mutexOwner, mutexForEachWaiter, rwsemOwner } from './kernel/locking/index.js';
export { taskBlockedOn, waitForGraph } from './kernel/locking/waits.js';
export { listModules } from './kernel/module/index.js';
export { KObject } from './object/kobject.js';
export { archOf, isKernelAddress, type Arch, type AddressSpace, type ThreadSize } from './arch/index.js';
export { listForEachEntry, hlistForEachEntry, rbForEachEntry, containerOf, cpumaskToList, cpuListString, xaLoad, idrFind } from './object/helpers.js';
export { moduleTypes, vmlinuxBtf } from './kernel/module/btf.js';
export { withInlinedFrames } from './kernel/stack/inline.js';
export type { StackOptions } from './kernel/stack/index.js';
