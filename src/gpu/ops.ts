// Host-side drivers of the kernels: what to bind, how to size dispatches, when to stop.
// Matrices are f32, row-major. Symmetric batches are padded to N × N (N even) with zeros.

// Each driver acquires its buffers through a ledger (runtime.ts BufferLedger) and releases them
// however it ends: finished, beyond a limit, cancelled or with the device lost.

import { BLOCK_SQUARES_WG, blockSquaresKernel, type SquaresBlock } from './kernels/blockSquares';
import { dftAxisKernel, embedBlocksKernel, frequencyMeansKernel, type ConvDims } from './kernels/dft';
import {
  MAX_SCRATCH_BYTES,
  planProducts,
  productKernel,
  productReduceKernel,
  productTiledKernel,
  type ProductBatch,
  type ProductKernelChoice,
} from './kernels/product';
import {
  jacobiMeasureKernel,
  jacobiRotateKernel,
  jacobiSweepsKernel,
  largestWorkgroupN,
  MEASURED,
  SWEEPS_STATE,
  sweepsPerDispatch,
  sweepsSizeClass,
  sweepsThreads,
  SWEEPS_STORAGE_MAX_N,
  type SweepsMatrixPlace,
} from './kernels/jacobi';
import { MAX_WORKGROUPS_PER_DIMENSION } from './kernel';
import type { GpuRuntime } from './runtime';
import { checkAborted } from '../cancel';

export type { ConvDims };

/** Whether a batch multiplies a matrix by itself (op(A) = op(B): a Gram matrix, symmetric). */
function isGram(a: GPUBuffer, b: GPUBuffer, batch: ProductBatch): boolean {
  return a === b && batch.aOffset === batch.bOffset && batch.p === batch.q && batch.lda === batch.ldb && !!batch.transA === !!batch.transB;
}

export interface ProductOptions {
  /** Force a kernel (tests and the bench on SwiftShader); default rt.productKernel ('auto': by adapter). */
  kernel?: ProductKernelChoice;
  /** Workgroups a split-K product aims to fill (default TARGET_WORKGROUPS). */
  targetWorkgroups?: number;
}

/**
 * C-buffer products of a batch table, in as few dispatches as the z limit allows. Gram matrices
 * (A·Aᵀ) are computed as symmetric: half the tiles, mirrored. planProducts chooses the kernel
 * (product-tiled on a hardware GPU, product-batched on a software adapter) and the split-K; a
 * split product's slices go to a scratch buffer and product-reduce sums them into C, in the same
 * compute pass.
 */
export function runProducts(
  rt: GpuRuntime,
  a: GPUBuffer,
  b: GPUBuffer,
  c: GPUBuffer,
  batches: ProductBatch[],
  label: string,
  options: ProductOptions = {},
): void {
  // z is the batch index: at most MAX_WORKGROUPS_PER_DIMENSION products per dispatch.
  for (let start = 0; start < batches.length; start += MAX_WORKGROUPS_PER_DIMENSION) {
    const chunk = batches.slice(start, start + MAX_WORKGROUPS_PER_DIMENSION).map((batch) => (isGram(a, b, batch) ? { ...batch, symmetric: true } : batch));
    const plan = planProducts(chunk, {
      software: rt.software,
      kernel: options.kernel ?? rt.productKernel,
      targetWorkgroups: options.targetWorkgroups,
      maxScratchWords: Math.floor(Math.min(MAX_SCRATCH_BYTES, rt.maxStorageBindingBytes, rt.limits.maxBufferSize) / 4),
    });
    const own = rt.ledger();
    try {
      if (plan.kernel === 'batched') {
        const kernel = productKernel(plan.edge);
        const table = own.upload(kernel.encodeUniforms(plan.batches), `${label}.batches`);
        rt.submit(label, (pass) => rt.dispatch(pass, kernel, [a, b, c, table], kernel.workgroups(plan.batches)));
        continue;
      }
      const tiled = productTiledKernel;
      const direct = plan.direct.length > 0 ? own.upload(tiled.encodeUniforms(plan.direct), `${label}.batches`) : null;
      const split =
        plan.partial.length > 0
          ? {
              table: own.upload(tiled.encodeUniforms(plan.partial), `${label}.split-batches`),
              reduce: own.upload(productReduceKernel.encodeUniforms(plan.reduce), `${label}.reduce`),
              scratch: own.acquire(plan.scratchWords * 4, GPUBufferUsage.STORAGE, `${label}.split-partials`),
            }
          : null;
      rt.submit(label, (pass) => {
        if (direct) rt.dispatch(pass, tiled, [a, b, c, direct], tiled.workgroups(plan.direct));
        if (split) {
          rt.dispatch(pass, tiled, [a, b, split.scratch, split.table], tiled.workgroups(plan.partial));
          rt.dispatch(pass, productReduceKernel, [split.scratch, c, split.reduce], productReduceKernel.workgroups(plan.reduce));
        }
      });
    } finally {
      own.close();
    }
  }
}

/**
 * ‖block‖²_F of every block of `data` (rows × cols f32 words each, see SquaresBlock), with one
 * readback of WG partial sums per block (added here in float64) instead of the blocks themselves.
 */
export async function blockSquaredSums(rt: GpuRuntime, data: GPUBuffer, blocks: SquaresBlock[], label: string): Promise<Float64Array> {
  const sums = new Float64Array(blocks.length);
  const own = rt.ledger();
  try {
    const partials = own.zeros(Math.max(1, blocks.length) * BLOCK_SQUARES_WG * 4, `${label}.partials`);
    // x is the block index: at most MAX_WORKGROUPS_PER_DIMENSION blocks per dispatch.
    for (let start = 0; start < blocks.length; start += MAX_WORKGROUPS_PER_DIMENSION) {
      const chunk = blocks.slice(start, start + MAX_WORKGROUPS_PER_DIMENSION);
      const table = own.upload(blockSquaresKernel.encodeUniforms(chunk), `${label}.blocks`);
      const out = { buffer: partials, offset: start * BLOCK_SQUARES_WG * 4, size: chunk.length * BLOCK_SQUARES_WG * 4 };
      rt.submit(label, (pass) => rt.dispatch(pass, blockSquaresKernel, [data, table, out], blockSquaresKernel.workgroups(chunk)));
    }
    const values = await rt.read(partials, Math.max(1, blocks.length) * BLOCK_SQUARES_WG * 4, label);
    for (let b = 0; b < blocks.length; b++) for (let t = 0; t < BLOCK_SQUARES_WG; t++) sums[b] += values[b * BLOCK_SQUARES_WG + t];
    return sums;
  } finally {
    own.close();
  }
}

export interface JacobiOptions {
  /** Keep and return the eigenvectors (rows of Vᵀ). */
  vectors: boolean;
  maxSweeps?: number;
  /** Stop when ‖offdiag‖/‖A‖ ≤ tolerance for every matrix. */
  tolerance?: number;
  signal?: AbortSignal;
  /** Called between chunks with the sweeps done so far and the worst ‖offdiag‖/‖A‖ of the batch. */
  onSweep?: (sweep: number, worstRatio: number) => void;
  /** Which driver runs the sweeps (default: chooseJacobiStrategy). */
  strategy?: JacobiStrategy;
  /** Each matrix's own size (≤ N; the rest of its N × N is zero padding): the whole-sweep drivers
   *  rotate only that much of it. Default: N for all. */
  sizes?: number[];
  /** Sweeps per dispatch of the whole-sweep drivers (default: sweepsPerDispatch's work bound). */
  sweepsPerDispatch?: number;
  /** Dispatches of the whole-sweep drivers submitted between two readbacks of the convergence
   *  state (default: dispatchesPerReadback). The results do not depend on it. */
  dispatchesPerReadback?: number;
}

/** Sweeps f32 Jacobi usually needs to converge (or stagnate) on the matrices of a job: 6–12. */
const TYPICAL_F32_SWEEPS = 12;

/**
 * How many whole-sweep dispatches go to the GPU between two readbacks of the convergence state.
 * Each dispatch stays within its work bound (sweepsPerDispatch: what a browser lets one GPU command
 * run), and a matrix that has converged returns at once from the dispatches after, so the results
 * are those of one dispatch per readback; only the host's round trips (a GPU idle while the host
 * waits for the state, then decides) go. A hardware GPU gets enough dispatches to cover a typical
 * solve in one round trip. On a software adapter, where one dispatch at the bound runs for about a
 * second on the CPU, two per round trip keep cancellation and progress prompt.
 */
export function dispatchesPerReadback(rt: GpuRuntime, sweepsPerDispatchBudget: number, maxSweeps: number): number {
  const typical = Math.ceil(Math.min(TYPICAL_F32_SWEEPS, maxSweeps) / sweepsPerDispatchBudget);
  return Math.max(1, rt.software ? Math.min(2, typical) : typical);
}

/**
 * How the sweeps are run:
 * - 'sweeps-in-workgroup': one workgroup per matrix holds it in workgroup memory and runs whole
 *   sweeps, convergence test included, in one dispatch (N up to ~62 with 16 KiB, ~88 with 32 KiB).
 * - 'sweeps-in-storage': the same with the matrix left in its storage buffer (N ≤ 1024).
 * - 'step-per-dispatch': one dispatch per round-robin step over every element of every matrix,
 *   and a readback of the convergence test per sweep: the whole GPU works on each matrix.
 */
export type JacobiStrategy = 'sweeps-in-workgroup' | 'sweeps-in-storage' | 'step-per-dispatch';

/**
 * On a hardware GPU, small matrices run whole sweeps in workgroup memory; larger ones run whole
 * sweeps from storage when the batch is big enough to give every compute unit a matrix, and a few
 * large matrices spread each step over the whole device instead. On a software adapter, where a
 * dispatch costs far more than its arithmetic and compile time grows with workgroup memory
 * (SwiftShader: 3 s for a 64² matrix in workgroup memory, 0.7 s for the storage pipeline), whole
 * sweeps from storage.
 */
export function chooseJacobiStrategy(rt: GpuRuntime, n: number, count: number): JacobiStrategy {
  if (count > rt.limits.maxComputeWorkgroupsPerDimension) return 'step-per-dispatch';
  if (rt.software) return n <= SWEEPS_STORAGE_MAX_N ? 'sweeps-in-storage' : 'step-per-dispatch';
  if (n <= largestWorkgroupN(rt.limits.maxComputeWorkgroupStorageSize)) return 'sweeps-in-workgroup';
  if (n <= SWEEPS_STORAGE_MAX_N && count >= 16) return 'sweeps-in-storage';
  return 'step-per-dispatch';
}

export interface JacobiBatchResult {
  /** count × N diagonal entries (eigenvalues, unsorted). */
  values: Float32Array;
  /** count × N × N, row i of matrix b = eigenvector for values[b·N + i]; null unless asked for. */
  vectors: Float32Array | null;
  sweeps: number;
}

/** f32 Jacobi reaches about this relative off-diagonal mass and then stagnates. */
export const JACOBI_TOLERANCE_F32 = 2e-7;

/**
 * Batched parallel-ordered Jacobi on `count` symmetric N × N matrices stored in `matrices`
 * (consumed: it becomes scratch and is released). Work is submitted in bounded chunks: between
 * them the convergence test is read back, cancellation is checked and progress reported.
 */
export async function jacobiEigenBatch(rt: GpuRuntime, matrices: GPUBuffer, n: number, count: number, options: JacobiOptions): Promise<JacobiBatchResult> {
  if (n % 2 !== 0) throw new Error(`jacobiEigenBatch: N must be even (got ${n})`);
  const strategy = options.strategy ?? chooseJacobiStrategy(rt, n, count);
  if (strategy === 'sweeps-in-workgroup') return jacobiBySweeps(rt, matrices, n, count, options, 'workgroup');
  if (strategy === 'sweeps-in-storage') return jacobiBySweeps(rt, matrices, n, count, options, 'storage');
  return jacobiBySteps(rt, matrices, n, count, options);
}

/** Whole sweeps per dispatch, one workgroup per matrix (shaders/jacobi-sweeps.wgsl). */
async function jacobiBySweeps(
  rt: GpuRuntime,
  matrices: GPUBuffer,
  n: number,
  count: number,
  options: JacobiOptions,
  place: SweepsMatrixPlace,
): Promise<JacobiBatchResult> {
  const maxSweeps = options.maxSweeps ?? 40;
  const tolerance = options.tolerance ?? JACOBI_TOLERANCE_F32;
  const maxN = sweepsSizeClass(place, n, rt.limits.maxComputeWorkgroupStorageSize);
  if (n > maxN) throw new Error(`jacobiEigenBatch: N = ${n} is beyond the ${place} variant's ${maxN}`);
  const kernel = jacobiSweepsKernel(place, maxN, sweepsThreads(place, rt.software));
  const bytes = count * n * n * 4; // count matrices × N × N f32
  const stride = SWEEPS_STATE.diagonal + n; // per matrix: the SWEEPS_STATE words, then the N diagonal entries
  // Even and at least 2 (a round-robin needs a pair), at most N.
  const ownSizes = Uint32Array.from({ length: count }, (_, b) => Math.min(n, Math.max(2, (options.sizes?.[b] ?? n) + ((options.sizes?.[b] ?? n) % 2))));
  const meanCube = ownSizes.reduce((sum, size) => sum + size ** 3, 0) / count;
  const budget = options.sweepsPerDispatch ?? sweepsPerDispatch(Math.cbrt(meanCube), count, options.vectors, maxSweeps);
  const dispatchSizes = (first: boolean) => ({ n, count, vectors: options.vectors, sweepBudget: budget, maxSweeps, tolerance, first });
  const perReadback = options.dispatchesPerReadback ?? dispatchesPerReadback(rt, budget, maxSweeps);
  const own = rt.ledger();
  try {
    const vt = own.zeros(options.vectors ? bytes : 4, options.vectors ? 'jacobi.vt' : 'jacobi.vt-unused');
    const state = own.zeros(count * stride * 4, 'jacobi.state');
    // The first dispatch starts every matrix (Vᵀ = I, state "not started"); the rest resume from the state.
    const startParams = own.uniform(kernel.encodeUniforms(dispatchSizes(true)), 'jacobi.sweeps-params');
    const resumeParams = own.uniform(kernel.encodeUniforms(dispatchSizes(false)), 'jacobi.sweeps-params');
    const sizes = own.upload(ownSizes, 'jacobi.sizes');
    let out: Float32Array;
    let sweeps = 0;
    for (let round = 0; ; round++) {
      // One round: `perReadback` dispatches in one pass (each sees the state the last one wrote), then the state is read once.
      rt.submit('jacobi.sweeps', (pass) => {
        for (let d = 0; d < perReadback; d++) {
          const params = round === 0 && d === 0 ? startParams : resumeParams;
          rt.dispatch(pass, kernel, [matrices, vt, state, params, sizes], kernel.workgroups(dispatchSizes(false)));
        }
      });
      out = await rt.read(state, count * stride * 4, 'jacobi.state');
      let done = true;
      let worst = 0;
      for (let b = 0; b < count; b++) {
        done &&= out[b * stride + SWEEPS_STATE.done] !== 0;
        sweeps = Math.max(sweeps, out[b * stride + SWEEPS_STATE.sweeps]);
        worst = Math.max(worst, out[b * stride + SWEEPS_STATE.ratio]);
      }
      options.onSweep?.(sweeps, worst);
      if (done) break;
      checkAborted(options.signal);
    }
    const values = new Float32Array(count * n);
    for (let b = 0; b < count; b++) values.set(out.subarray(b * stride + SWEEPS_STATE.diagonal, b * stride + SWEEPS_STATE.diagonal + n), b * n);
    const vectors = options.vectors ? await rt.read(vt, bytes, 'jacobi.vectors') : null;
    return { values, vectors, sweeps };
  } finally {
    own.close();
    rt.release(matrices); // consumed
  }
}

/** One dispatch per round-robin step (shaders/jacobi-rotate.wgsl), a convergence readback per sweep. */
async function jacobiBySteps(rt: GpuRuntime, matrices: GPUBuffer, n: number, count: number, options: JacobiOptions): Promise<JacobiBatchResult> {
  const bytes = count * n * n * 4;
  const maxSweeps = options.maxSweeps ?? 40;
  const tolerance = options.tolerance ?? JACOBI_TOLERANCE_F32;
  const own = rt.ledger();
  try {
    let aCur = matrices;
    let aNext = own.zeros(bytes, 'jacobi.a-pong');
    // Vᵀ starts as the identity; without vectors, tiny placeholders fill the bindings (never read).
    let vCur: GPUBuffer;
    let vNext: GPUBuffer;
    if (options.vectors) {
      const identity = new Float32Array(count * n * n);
      for (let b = 0; b < count; b++) for (let i = 0; i < n; i++) identity[b * n * n + i * n + i] = 1;
      vCur = own.upload(identity, 'jacobi.v-ping');
      vNext = own.zeros(bytes, 'jacobi.v-pong');
    } else {
      vCur = own.zeros(4, 'jacobi.v-unused');
      vNext = own.zeros(4, 'jacobi.v-unused');
    }
    // One uniform entry per round-robin step, 256 bytes apart (the uniform offset alignment).
    const stride = 256;
    const entryBytes = jacobiRotateKernel.params.fields.length * 4;
    const steps = Array.from({ length: n - 1 }, (_, step) => ({ n, step, count, vectors: options.vectors }));
    const params = new Uint32Array(((n - 1) * stride) / 4);
    for (const sizes of steps) params.set(jacobiRotateKernel.encodeUniforms(sizes), (sizes.step * stride) / 4);
    const paramsBuffer = own.uniform(params, 'jacobi.params');
    const measureParams = own.uniform(jacobiMeasureKernel.encodeUniforms({ n, count }), 'jacobi.measure-params');
    const measured = own.zeros(count * n * MEASURED.words * 4, 'jacobi.measure'); // count × N rows × MEASURED words, f32
    let sweeps = 0;
    let previousWorst = Infinity;
    const values = new Float32Array(count * n);
    for (let sweep = 0; sweep <= maxSweeps; sweep++) {
      // Measure first (sweep 0 tells whether there is anything to do).
      rt.submit('jacobi.measure', (pass) =>
        rt.dispatch(pass, jacobiMeasureKernel, [aCur, measured, measureParams], jacobiMeasureKernel.workgroups({ n, count })),
      );
      const out = await rt.read(measured, count * n * MEASURED.words * 4, 'jacobi.measure');
      let worst = 0;
      for (let b = 0; b < count; b++) {
        let off = 0;
        let total = 0;
        for (let row = 0; row < n; row++) {
          const o = (b * n + row) * MEASURED.words;
          off += out[o + MEASURED.offDiagonal];
          total += out[o + MEASURED.total];
          values[b * n + row] = out[o + MEASURED.diagonal];
        }
        worst = Math.max(worst, total > 0 ? Math.sqrt(off / total) : 0);
      }
      options.onSweep?.(sweep, worst);
      // Converged, or stagnating at round-off after a reasonable number of sweeps.
      if (worst <= tolerance || (sweep >= 6 && worst > 0.5 * previousWorst && worst < 1e-5) || sweep === maxSweeps) break;
      previousWorst = worst;
      checkAborted(options.signal);
      rt.submit('jacobi.sweep', (pass) => {
        for (const sizes of steps) {
          rt.dispatch(
            pass,
            jacobiRotateKernel,
            [aCur, vCur, aNext, vNext, { buffer: paramsBuffer, offset: sizes.step * stride, size: entryBytes }],
            jacobiRotateKernel.workgroups(sizes),
          );
          [aCur, aNext] = [aNext, aCur];
          [vCur, vNext] = [vNext, vCur];
        }
      });
      sweeps++;
    }
    const vectors = options.vectors ? await rt.read(vCur, bytes, 'jacobi.vectors') : null;
    return { values, vectors, sweeps };
  } finally {
    own.close();
    rt.release(matrices); // consumed (it served as ping or pong)
  }
}

// ---------------------------------------------------------------------------------------------
// Conv layers through the DFT.

/** The 2-D DFT over (H, W) of an NHWC conv tensor (float64 on the host), as complex f32 pairs on the GPU (the caller owns it). */
export function spectrumOf(rt: GpuRuntime, dims: ConvDims, data: Float64Array): GPUBuffer {
  const count = dims.n * dims.h * dims.w * dims.c;
  const complex = new Float32Array(2 * count);
  for (let i = 0; i < count; i++) complex[2 * i] = data[i];
  const own = rt.ledger();
  try {
    const input = own.upload(complex, 'dft.input');
    const along = own.zeros(8 * count, 'dft.along-w');
    const spectrum = own.zeros(8 * count, 'dft.spectrum');
    const alongW = { ...dims, axis: 0 as const };
    const alongH = { ...dims, axis: 1 as const };
    const paramsW = own.uniform(dftAxisKernel.encodeUniforms(alongW), 'dft.params-w');
    const paramsH = own.uniform(dftAxisKernel.encodeUniforms(alongH), 'dft.params-h');
    rt.submit('dft', (pass) => {
      rt.dispatch(pass, dftAxisKernel, [input, along, paramsW], dftAxisKernel.workgroups(alongW));
      rt.dispatch(pass, dftAxisKernel, [along, spectrum, paramsH], dftAxisKernel.workgroups(alongH));
    });
    return own.handOn(spectrum);
  } finally {
    own.close();
  }
}

/**
 * Centred, real-embedded blocks of the frequencies (u, v) listed: block b is 2C × 2N
 * (rows of length 2N), stacked (the caller owns the buffer). See shaders/embed-frequency-blocks.wgsl.
 */
export function embedFrequencyBlocks(rt: GpuRuntime, spectrum: GPUBuffer, dims: ConvDims, frequencies: [number, number][]): GPUBuffer {
  const sizes = { ...dims, blocks: frequencies.length };
  const own = rt.ledger();
  try {
    const list = own.upload(Uint32Array.from(frequencies.flat()), 'blocks.frequencies');
    const means = own.zeros(8 * sizes.blocks * dims.c, 'blocks.means');
    const out = own.zeros(4 * sizes.blocks * 2 * dims.c * 2 * dims.n, 'blocks.embedded');
    const params = own.uniform(frequencyMeansKernel.encodeUniforms(sizes), 'blocks.params'); // the same struct for both kernels
    rt.submit('blocks', (pass) => {
      rt.dispatch(pass, frequencyMeansKernel, [spectrum, list, means, params], frequencyMeansKernel.workgroups(sizes));
      rt.dispatch(pass, embedBlocksKernel, [spectrum, list, means, out, params], embedBlocksKernel.workgroups(sizes));
    });
    return own.handOn(out);
  } finally {
    own.close();
  }
}
