// Descriptors of the batched parallel-Jacobi kernels (shaders/jacobi-*.wgsl).
import rotateSource from '../../../shaders/jacobi-rotate.wgsl?raw';
import measureSource from '../../../shaders/jacobi-measure.wgsl?raw';
import { ceilDiv, type Kernel } from '../kernel';

export const JACOBI_WG = 16;

export const jacobiRotateKernel: Kernel = {
  name: 'jacobi-rotate',
  source: rotateSource,
  overrides: { WG: JACOBI_WG },
  bindings: ['read-only-storage', 'read-only-storage', 'storage', 'storage', 'uniform'],
};

export const jacobiMeasureKernel: Kernel = {
  name: 'jacobi-measure',
  source: measureSource,
  overrides: { WG: 64 },
  bindings: ['read-only-storage', 'storage', 'uniform'],
};

/** Workgroups of the measure kernel: one thread per row of every matrix. */
export function measureWorkgroups(n: number, count: number): [number, number, number] {
  return [ceilDiv(n, 64), count, 1];
}

/** Workgroups of one rotation step over `count` padded N × N matrices (A and Vᵀ: z = 2·count; A only: z = count). */
export function rotateWorkgroups(n: number, count: number, vectors: boolean): [number, number, number] {
  return [ceilDiv(n, JACOBI_WG), ceilDiv(n, JACOBI_WG), vectors ? 2 * count : count];
}
