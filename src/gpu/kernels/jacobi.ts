// Descriptors of the batched parallel-Jacobi kernels (shaders/jacobi-*.wgsl).
import rotateSource from '../../../shaders/jacobi-rotate.wgsl?raw';
import measureSource from '../../../shaders/jacobi-measure.wgsl?raw';
import sweepsSource from '../../../shaders/jacobi-sweeps.wgsl?raw';
import matrixInWorkgroupSource from '../../../shaders/common/jacobi-matrix-workgroup.wgsl?raw';
import matrixInStorageSource from '../../../shaders/common/jacobi-matrix-storage.wgsl?raw';
import rotationSource from '../../../shaders/common/jacobi-rotation.wgsl?raw';
import { ceilDiv, type Kernel } from '../kernel';

export const JACOBI_WG = 16;

export const jacobiRotateKernel: Kernel = {
  name: 'jacobi-rotate',
  source: `${rotateSource}\n${rotationSource}`,
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

// ---------------------------------------------------------------------------------------------
// Whole sweeps in one dispatch, one workgroup per matrix (shaders/jacobi-sweeps.wgsl).

/** Where jacobi-sweeps keeps the matrix while rotating it. */
export type SweepsMatrixPlace = 'workgroup' | 'storage';

/** Threads per matrix on a GPU: 64 when the matrix sits in workgroup memory (N ≤ ~90), 256 in
 *  storage. A software adapter runs a workgroup on one CPU thread, where more invocations only add
 *  barrier overhead: see sweepsThreads. */
export const SWEEPS_WG = { workgroup: 64, storage: 256 } as const;

/** The largest N the storage variant takes: its pair arrays are sized for MAX_N/2 pairs. */
export const SWEEPS_STORAGE_MAX_N = 1024;

/** Workgroup memory of jacobi-sweeps, in bytes. */
export function sweepsWorkgroupBytes(place: SweepsMatrixPlace, maxN: number): number {
  const pairs = (maxN / 2) * (4 + 4 + 8); // pair_p, pair_q (u32), rotation (vec2f)
  const sums = SWEEPS_WG[place] * 8; // vec2f per thread (at most this many threads)
  const flags = 2 * 4; // keep_going, active_size (u32)
  const matrix = place === 'workgroup' ? maxN * maxN * 4 : 0; // local_matrix
  return pairs + sums + flags + matrix;
}

/** The largest even N whose matrix fits in `workgroupBytes` of workgroup memory. */
export function largestWorkgroupN(workgroupBytes: number): number {
  let n = 2;
  while (sweepsWorkgroupBytes('workgroup', n + 2) <= workgroupBytes) n += 2;
  return n;
}

/**
 * The MAX_N a pipeline for N × N matrices is compiled with: the smallest size class that holds N.
 * Classes, not one largest pipeline, because compile time grows with the workgroup arrays (on
 * SwiftShader ~1 s per 1,000 words: 8 s for a matrix of 88² floats, 1 s for 32²).
 */
export function sweepsSizeClass(place: SweepsMatrixPlace, n: number, workgroupBytes: number): number {
  const largest = place === 'workgroup' ? largestWorkgroupN(workgroupBytes) : SWEEPS_STORAGE_MAX_N;
  const classes = place === 'workgroup' ? [16, 32, 64] : [128, 256, 512];
  return classes.find((c) => n <= c && c <= largest) ?? largest;
}

/** Threads per matrix: SWEEPS_WG on a GPU; 16 on a software adapter, where a workgroup runs on one
 *  CPU thread and every extra invocation only adds barrier work (SwiftShader, 4 matrices, 6
 *  sweeps: N = 32 in 37 ms with 16 threads, 126 ms with 256; N = 128 in 1.5 s vs 2.1 s). */
export function sweepsThreads(place: SweepsMatrixPlace, software: boolean): number {
  return software ? 16 : SWEEPS_WG[place];
}

export function jacobiSweepsKernel(place: SweepsMatrixPlace, maxN: number, threads: number = SWEEPS_WG[place]): Kernel {
  return {
    name: `jacobi-sweeps-${place}`,
    source: `${sweepsSource}\n${place === 'workgroup' ? matrixInWorkgroupSource : matrixInStorageSource}\n${rotationSource}`,
    overrides: { WG: threads, MAX_N: maxN },
    bindings: ['storage', 'storage', 'storage', 'uniform', 'read-only-storage'],
  };
}

/** Sweeps one dispatch may run: about 2^27 element updates per dispatch, so that a chunk stays
 *  short on any adapter (browsers stop GPU work that runs for seconds). */
export function sweepsPerDispatch(n: number, count: number, vectors: boolean, maxSweeps: number): number {
  // Per sweep (N − 1 steps): A's upper triangle of 2 × 2 blocks, ~N³ element updates; Vᵀ's rows, N³.
  const perSweep = count * n ** 3 * (vectors ? 2 : 1);
  return Math.max(1, Math.min(maxSweeps, Math.floor(2 ** 27 / perSweep)));
}
