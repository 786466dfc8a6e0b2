/**
 * The architectures vaat reads, behind one seam (src/arch/arch.ts). Importing this module
 * registers each of them; the kernel model asks `archOf(vm)`.
 */
import './x86_64.js';
import './arm64.js';

export * from './arch.js';
