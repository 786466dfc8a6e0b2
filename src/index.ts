/** vaat's public API. */
export { openVmcore, Vmcore, type OpenVmcoreOptions } from './vmcore.js';
export { Dump, type MemoryReader, type DumpAttrs, type CpuRegs } from './dump/dump.js';
export { VmcoreInfo } from './dump/vmcoreinfo.js';
export * from './dump/errors.js';
export { defineCommand, type VaatCommand, type CommandContext, type OptionSpec } from './plugin.js';
export { Output, toJson, type TreeNode } from './output/sink.js';

// The kernel model, for scripts: one module per subsystem, each helper named after the kernel concept.
export { forEachTask, listTasks, findTask, taskAt, type Task } from './kernel/tasks.js';
export { cpuMask, forEachOnlineCpu, forEachPossibleCpu, cpuCurr, nrCpuIds } from './kernel/cpu.js';
export { panicInfo, panicCpu, panicTask, panicMessage, crashTime, taintString } from './kernel/panic.js';
export { utsname, uptime, loadAverage, totalRam } from './kernel/sys.js';
export { readKernelLog, formatLog } from './kernel/printk.js';
export { taskStack, cpuStack, panicStack, type StackTrace, type StackFrame } from './kernel/stack.js';
export { groupTaskStacks } from './kernel/stack-groups.js';
export { runqueues, cpuRq, rqModel, cfsRqForEachEntity, taskGroupTree } from './kernel/sched.js';
export { cgroupTree, cgroupPath, cgroupTasks } from './kernel/cgroup.js';
export { cpuTopologyAll, cpuTopology } from './kernel/topology.js';
export { cpuTlbStates } from './kernel/tlb.js';
export { lockInfo, mutexOwner, mutexForEachWaiter, rwsemOwner } from './kernel/locking.js';
export { taskBlockedOn, waitForGraph } from './kernel/waits.js';
export { listModules } from './kernel/modules.js';
export { KObject } from './object/kobject.js';
export { listForEachEntry, hlistForEachEntry, rbForEachEntry, containerOf, cpumaskToList, cpuListString, xaLoad, idrFind } from './object/helpers.js';
export { moduleTypes, vmlinuxBtf } from './types/module-btf.js';
export { withInlinedFrames } from './kernel/inline-frames.js';
export type { StackOptions } from './kernel/stack.js';
