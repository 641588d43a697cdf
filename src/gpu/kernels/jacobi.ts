// Descriptors of the batched parallel-Jacobi kernels (shaders/jacobi-*.wgsl).
import rotateSource from '../../../shaders/jacobi-rotate.wgsl?raw';
import measureSource from '../../../shaders/jacobi-measure.wgsl?raw';
import sweepsSource from '../../../shaders/jacobi-sweeps.wgsl?raw';
import matrixInWorkgroupSource from '../../../shaders/common/jacobi-matrix-workgroup.wgsl?raw';
import matrixInStorageSource from '../../../shaders/common/jacobi-matrix-storage.wgsl?raw';
import rotationSource from '../../../shaders/common/jacobi-rotation.wgsl?raw';
import stepParamsSource from '../../../shaders/common/jacobi-step-params.wgsl?raw';
import { ceilDiv, encodeStruct, structLayout, type Kernel } from '../kernel';

/** shaders/common/jacobi-step-params.wgsl `Params`, composed into jacobi-rotate.wgsl and jacobi-measure.wgsl (one layout, so one uniform entry per step serves both). */
const stepParams = structLayout('Params', [
  ['n', 'u32'],
  ['step', 'u32'],
  ['count', 'u32'],
  ['vectors', 'u32'],
]);

/** One round-robin step over `count` padded N × N matrices; `vectors`: also rotate Vᵀ. */
export interface JacobiStepSizes {
  n: number;
  step: number;
  count: number;
  vectors: boolean;
}

const ROTATE_WG = 16; // workgroup edge: WG × WG threads cover a WG × WG block of entries

export const jacobiRotateKernel: Kernel<JacobiStepSizes> = {
  name: 'jacobi-rotate',
  source: `${rotateSource}\n${stepParamsSource}\n${rotationSource}`,
  overrides: { WG: ROTATE_WG },
  bindings: ['read-only-storage', 'read-only-storage', 'storage', 'storage', 'uniform'],
  params: stepParams,
  // A and Vᵀ: z = 2·count; A only: z = count.
  workgroups: (s) => [ceilDiv(s.n, ROTATE_WG), ceilDiv(s.n, ROTATE_WG), s.vectors ? 2 * s.count : s.count],
  encodeUniforms: (s) => encodeStruct(stepParams, s),
};

/** Words of jacobi-sweeps' per-matrix state (shaders/jacobi-sweeps.wgsl `state`), then the N diagonal entries. */
export const SWEEPS_STATE = { done: 0, sweeps: 1, previousRatio: 2, ratio: 3, diagonal: 4 } as const;

/** Words per row of jacobi-measure's output (shaders/jacobi-measure.wgsl `out`): off-diagonal² and total² of the row, its diagonal entry. */
export const MEASURED = { offDiagonal: 0, total: 1, diagonal: 2, words: 3 } as const;

const MEASURE_WG = 64; // rows per workgroup

export const jacobiMeasureKernel: Kernel<Pick<JacobiStepSizes, 'n' | 'count'>> = {
  name: 'jacobi-measure',
  source: `${measureSource}\n${stepParamsSource}`,
  overrides: { WG: MEASURE_WG },
  bindings: ['read-only-storage', 'storage', 'uniform'],
  params: stepParams,
  // One thread per row of every matrix.
  workgroups: (s) => [ceilDiv(s.n, MEASURE_WG), s.count, 1],
  encodeUniforms: (s) => encodeStruct(stepParams, { ...s, step: 0, vectors: false }),
};

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

/** shaders/jacobi-sweeps.wgsl `Params`. */
const sweepsParams = structLayout('Params', [
  ['n', 'u32'],
  ['count', 'u32'],
  ['vectors', 'u32'],
  ['sweep_budget', 'u32'],
  ['max_sweeps', 'u32'],
  ['tolerance', 'f32'],
  ['first', 'u32'],
  ['_pad', 'u32'],
]);

/** One dispatch of whole sweeps over `count` padded N × N matrices. */
export interface JacobiSweepsSizes {
  n: number;
  count: number;
  /** Accumulate Vᵀ. */
  vectors: boolean;
  /** Sweeps this dispatch may run per matrix. */
  sweepBudget: number;
  /** A matrix stops after this many sweeps in all. */
  maxSweeps: number;
  /** Converged when ‖offdiag(A)‖_F / ‖A‖_F ≤ tolerance. */
  tolerance: number;
  /** The first dispatch of a batch: Vᵀ = I and the state "not started". */
  first: boolean;
}

export function jacobiSweepsKernel(place: SweepsMatrixPlace, maxN: number, threads: number = SWEEPS_WG[place]): Kernel<JacobiSweepsSizes> {
  return {
    name: `jacobi-sweeps-${place}`,
    source: `${sweepsSource}\n${place === 'workgroup' ? matrixInWorkgroupSource : matrixInStorageSource}\n${rotationSource}`,
    overrides: { WG: threads, MAX_N: maxN },
    bindings: ['storage', 'storage', 'storage', 'uniform', 'read-only-storage'],
    params: sweepsParams,
    // One workgroup per matrix.
    workgroups: (s) => [s.count, 1, 1],
    encodeUniforms: (s) =>
      encodeStruct(sweepsParams, {
        n: s.n,
        count: s.count,
        vectors: s.vectors,
        sweep_budget: s.sweepBudget,
        max_sweeps: s.maxSweeps,
        tolerance: s.tolerance,
        first: s.first,
      }),
  };
}

/** Sweeps one dispatch may run: about 2^27 element updates per dispatch, so that a chunk stays
 *  short on any adapter (browsers stop GPU work that runs for seconds). */
export function sweepsPerDispatch(n: number, count: number, vectors: boolean, maxSweeps: number): number {
  // Per sweep (N − 1 steps): A's upper triangle of 2 × 2 blocks, ~N³ element updates; Vᵀ's rows, N³.
  const perSweep = count * n ** 3 * (vectors ? 2 : 1);
  return Math.max(1, Math.min(maxSweeps, Math.floor(2 ** 27 / perSweep)));
}
