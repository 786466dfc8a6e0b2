/**
 * vaat's public API: open a dump (openVmcore), then ask the kernel model — one module per
 * subsystem, each helper named after the kernel concept, kernel objects in and typed records out
 * (bigint addresses, numbers, enums); toJson() writes any record as `--json` does. Every function
 * here checks its arguments at the call (src/api-args.ts): a missing or wrong-kind argument is an
 * ArgumentError naming the function and the parameter.
 */
import { arg, checked, optional } from './api-args.js';
import { openVmcore as openVmcoreImpl } from './vmcore.js';
import { defineCommand as defineCommandImpl } from './plugin.js';
import { builtinCommand as builtinCommandImpl } from '../commands/index.js';
import * as tasks from './kernel/tasks.js';
import * as cpu from './kernel/cpu.js';
import * as panic from './kernel/panic.js';
import * as sys from './kernel/sys.js';
import * as printk from './kernel/printk/index.js';
import * as printkText from './output/printk-text.js';
import { staticContext as staticContextImpl } from './context.js';
import { commandSchema as commandSchemaImpl } from './output/json.js';
import * as stack from './kernel/stack/index.js';
import * as groups from './kernel/stack/groups.js';
import * as sched from './kernel/sched/index.js';
import * as cgroup from './kernel/cgroup/index.js';
import * as topology from './kernel/sched/topology.js';
import * as tlb from './kernel/mm/tlb.js';
import * as locking from './kernel/locking/index.js';
import * as waits from './kernel/locking/waits.js';
import * as modules from './kernel/module/index.js';
import * as arch from './arch/index.js';
import * as helpers from './object/helpers.js';
import * as btf from './kernel/module/btf.js';
import * as inline from './kernel/stack/inline.js';

export { Vmcore, type OpenVmcoreOptions } from './vmcore.js';
export type { KernelContext, KernelMemory, StaticContextParts } from './context.js';
export { Dump, type MemoryReader, type DumpAttrs, type CpuRegs } from './dump/dump.js';
export { VmcoreInfo } from './dump/vmcoreinfo.js';
export * from './dump/errors.js';
export { UsageError, ArgumentError, MismatchedDebugInfoError, NotFoundError, EXIT_INPUT, EXIT_USAGE, EXIT_BUG } from './errors/index.js';
export { type VaatCommand, type CommandContext, type OptionSpec } from './plugin.js';
export { Output, type TreeNode } from './output/sink.js';
export { toJson, type JsonSchema } from './output/json.js';
export { KObject } from './object/kobject.js';
export type { Task, TaskStateChar } from './kernel/tasks.js';
export type { PanicInfo, PanicCpu, CrashTime } from './kernel/panic.js';
export type { Utsname, Uptime, LoadAverage } from './kernel/sys.js';
export type { LogRecord } from './kernel/printk/index.js';
export type { StackTrace, StackFrame, StackOptions } from './kernel/stack/index.js';
export type { RqModel } from './kernel/sched/index.js';
export type { CfsEntity, CfsRqInfo, EevdfInfo } from './kernel/sched/cfs.js';
export type { TaskGroupNode } from './kernel/sched/group.js';
export type { CgroupHierarchy, CgroupInfo } from './kernel/cgroup/index.js';
export type { CpuTopology, Topology } from './kernel/sched/topology.js';
export type { TlbSummary, CpuTlbState } from './kernel/mm/tlb.js';
export type { LockInfo, MutexOwner, RwsemOwner } from './kernel/locking/index.js';
export type { TaskWait, WaitGraph } from './kernel/locking/waits.js';
export type { KernelModule } from './kernel/module/index.js';
export type { Arch, AddressSpace, ThreadSize } from './arch/index.js';

const vm = arg.vm();
const opts = optional(arg.object('opts'));
const lockRef = arg.either('lock', 'a lock as a KObject or its address as a bigint', arg.kobject('lock'), arg.address('lock'));

/** Open a vmcore read-only. Throws a typed error (see src/dump/errors.ts) naming the file. */
export const openVmcore = checked('openVmcore', openVmcoreImpl, [arg.string('file'), opts]);
export const defineCommand = checked('defineCommand', defineCommandImpl, [arg.object('cmd', 'a command object { name, run, render, ... }')]);
export const builtinCommand = checked('builtinCommand', builtinCommandImpl, [arg.string('name')]);
/** a kernel context from given parts (synthetic memory and BTF, another front end) */
export const staticContext = checked('staticContext', staticContextImpl, [arg.object('parts', '{ mem, types, ... } (StaticContextParts)')]);
/** the published JSON Schema of a command's --json (schema/v1/NAME.json), null when there is none */
export const commandSchema = checked('commandSchema', commandSchemaImpl, [arg.string('name')]);

// The kernel model, for scripts: one module per subsystem, each helper named after the kernel concept.
export const forEachTask = checked('forEachTask', tasks.forEachTask, [vm, opts]);
export const listTasks = checked('listTasks', tasks.listTasks, [vm]);
export const findTask = checked('findTask', tasks.findTask, [vm, arg.int('pid')]);
export const taskAt = checked('taskAt', tasks.taskAt, [vm, arg.address('address')]);
export const cpuMask = checked('cpuMask', cpu.cpuMask, [vm, arg.oneOf('name', ['possible', 'online', 'present', 'active'])]);
export const forEachOnlineCpu = checked('forEachOnlineCpu', cpu.forEachOnlineCpu, [vm]);
export const forEachPossibleCpu = checked('forEachPossibleCpu', cpu.forEachPossibleCpu, [vm]);
export const cpuCurr = checked('cpuCurr', cpu.cpuCurr, [vm, arg.cpu()]);
export const nrCpuIds = checked('nrCpuIds', cpu.nrCpuIds, [vm]);
export const panicInfo = checked('panicInfo', panic.panicInfo, [vm]);
export const panicCpu = checked('panicCpu', panic.panicCpu, [vm, optional(arg.array('log', 'the kernel log (readKernelLog())'))]);
export const panicTask = checked('panicTask', panic.panicTask, [vm, optional(arg.either('cpu', 'a panicCpu() result or null', arg.object('cpu'), { name: 'cpu', want: 'null', ok: (v) => v === null }))]);
export const panicMessage = checked('panicMessage', panic.panicMessage, [vm, optional(arg.array('log', 'the kernel log (readKernelLog())'))]);
export const crashTime = checked('crashTime', panic.crashTime, [vm]);
export const taintString = checked('taintString', panic.taintString, [vm]);
export const utsname = checked('utsname', sys.utsname, [vm]);
export const uptime = checked('uptime', sys.uptime, [vm]);
export const loadAverage = checked('loadAverage', sys.loadAverage, [vm]);
export const totalRam = checked('totalRam', sys.totalRam, [vm]);
export const readKernelLog = checked('readKernelLog', printk.readKernelLog, [arg.mem('mem'), arg.vmcoreinfo('info'), opts], 'readKernelLog(vm.dump, vm.vmcoreinfo)');
export const formatLog = checked('formatLog', printkText.formatLog, [arg.array('records', 'log records (readKernelLog())'), opts]);
export const taskStack = checked('taskStack', stack.taskStack, [vm, arg.either('task', 'a task_struct KObject or its address as a bigint', arg.kobject('task'), arg.address('task')), opts]);
export const cpuStack = checked('cpuStack', stack.cpuStack, [vm, arg.cpu(), opts]);
export const panicStack = checked('panicStack', stack.panicStack, [vm, optional(arg.cpu()), opts]);
export const groupTaskStacks = checked('groupTaskStacks', groups.groupTaskStacks, [vm, optional(arg.string('states'))]);
export const runqueues = checked('runqueues', sched.runqueues, [vm, optional(arg.cpus('cpus'))]);
export const cpuRq = checked('cpuRq', sched.cpuRq, [vm, arg.cpu()]);
export const rqModel = checked('rqModel', sched.rqModel, [vm, arg.cpu(), optional(arg.boolean('online'))]);
export const cfsRqForEachEntity = checked('cfsRqForEachEntity', sched.cfsRqForEachEntity, [vm, arg.kobject('cfsRq'), opts]);
export const taskGroupTree = checked('taskGroupTree', sched.taskGroupTree, [vm, arg.cpu(), opts]);
export const cgroupRoots = checked('cgroupRoots', cgroup.cgroupRoots, [vm]);
export const cgroupTree = checked('cgroupTree', cgroup.cgroupTree, [vm, arg.object('h', 'a cgroup hierarchy'), opts], 'take one from cgroupRoots(vm)');
export const cgroupPath = checked('cgroupPath', cgroup.cgroupPath, [vm, arg.address('cgrp')]);
export const cgroupTasks = checked('cgroupTasks', cgroup.cgroupTasks, [vm, arg.address('cgrp')]);
export const cpuTopologyAll = checked('cpuTopologyAll', topology.cpuTopologyAll, [vm]);
export const cpuTopology = checked('cpuTopology', topology.cpuTopology, [vm, arg.cpu(), optional(arg.object('masks', '{ online, present } sets of CPU numbers'))]);
export const cpuTlbStates = checked('cpuTlbStates', tlb.cpuTlbStates, [vm]);
export const lockInfo = checked('lockInfo', locking.lockInfo, [vm, arg.address('address'), arg.oneOf('kind', ['mutex', 'rwsem', 'semaphore', 'spinlock', 'rt_mutex']), optional(arg.string('typeSource')), optional(arg.string('typeName'))]);
export const mutexOwner = checked('mutexOwner', locking.mutexOwner, [vm, lockRef]);
export const mutexForEachWaiter = checked('mutexForEachWaiter', locking.mutexForEachWaiter, [vm, lockRef]);
export const rwsemOwner = checked('rwsemOwner', locking.rwsemOwner, [vm, lockRef]);
export const taskBlockedOn = checked('taskBlockedOn', waits.taskBlockedOn, [vm, arg.either('task', 'a Task, a task_struct address as a bigint, or a pid', arg.object('task'), arg.address('task'), arg.int('task'))]);
export const waitForGraph = checked('waitForGraph', waits.waitForGraph, [vm, opts]);
export const listModules = checked('listModules', modules.listModules, [vm]);
export const archOf = checked('archOf', arch.archOf, [vm]);
export const isKernelAddress = checked('isKernelAddress', arch.isKernelAddress, [vm, arg.address('address')]);
export const listForEachEntry = checked('listForEachEntry', helpers.listForEachEntry, [arg.kobject('head'), arg.type(), arg.string('member')]);
export const hlistForEachEntry = checked('hlistForEachEntry', helpers.hlistForEachEntry, [arg.kobject('head'), arg.type(), arg.string('member')]);
export const rbForEachEntry = checked('rbForEachEntry', helpers.rbForEachEntry, [arg.kobject('root'), arg.type(), arg.string('member')]);
export const containerOf = checked('containerOf', helpers.containerOf, [arg.kobject('obj'), arg.address('ptr'), arg.type(), arg.string('member')]);
export const cpumaskToList = checked('cpumaskToList', helpers.cpumaskToList, [arg.kobject('mask'), arg.int('nrCpuIds')]);
export const cpuListString = checked('cpuListString', helpers.cpuListString, [arg.cpus('cpus')]);
export const xaLoad = checked('xaLoad', helpers.xaLoad, [arg.kobject('xa'), arg.address('index')]);
export const idrFind = checked('idrFind', helpers.idrFind, [arg.kobject('idr'), arg.int('id')]);
export const moduleTypes = checked('moduleTypes', btf.moduleTypes, [vm, arg.string('name')]);
export const vmlinuxBtf = checked('vmlinuxBtf', btf.vmlinuxBtf, [vm]);
export const withInlinedFrames = checked('withInlinedFrames', inline.withInlinedFrames, [vm, arg.array('frames', 'stack frames (taskStack(...).frames)')]);
