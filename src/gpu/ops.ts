// Host-side drivers of the kernels: what to bind, how to size dispatches, when to stop.
// Matrices are f32, row-major. Symmetric batches are padded to N × N (N even) with zeros.

import { dftAxisKernel, embedBlocksKernel, embedWorkgroups, frequencyMeansKernel, linearWorkgroups } from './kernels/dft';
import { encodeBatches, productKernel, productWorkgroups, type ProductBatch } from './kernels/product';
import { jacobiMeasureKernel, jacobiRotateKernel, measureWorkgroups, rotateWorkgroups } from './kernels/jacobi';
import type { GpuRuntime } from './runtime';

const MAX_Z = 65535;

/** C-buffer products of a batch table, in as few dispatches as the z limit allows. */
export function runProducts(rt: GpuRuntime, a: GPUBuffer, b: GPUBuffer, c: GPUBuffer, batches: ProductBatch[], label: string): void {
  for (let start = 0; start < batches.length; start += MAX_Z) {
    const chunk = batches.slice(start, start + MAX_Z);
    const table = rt.upload(encodeBatches(chunk), `${label}.batches`);
    rt.submit(label, (pass) => rt.dispatch(pass, productKernel, [a, b, c, table], productWorkgroups(chunk)));
    rt.release(table);
  }
}

export interface JacobiOptions {
  /** Keep and return the eigenvectors (rows of Vᵀ). */
  vectors: boolean;
  maxSweeps?: number;
  /** Stop when ‖offdiag‖/‖A‖ ≤ tolerance for every matrix. */
  tolerance?: number;
  signal?: AbortSignal;
  onSweep?: (sweep: number, worstRatio: number) => void;
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
 * (consumed: it becomes scratch). Each sweep is one submission (a bounded chunk): between sweeps
 * the convergence test is read back, cancellation is checked and progress reported.
 */
export async function jacobiEigenBatch(rt: GpuRuntime, matrices: GPUBuffer, n: number, count: number, options: JacobiOptions): Promise<JacobiBatchResult> {
  if (n % 2 !== 0) throw new Error(`jacobiEigenBatch: N must be even (got ${n})`);
  const bytes = count * n * n * 4;
  const maxSweeps = options.maxSweeps ?? 40;
  const tolerance = options.tolerance ?? JACOBI_TOLERANCE_F32;
  let aCur = matrices;
  let aNext = rt.zeros(bytes, 'jacobi.a-pong');
  // Vᵀ starts as the identity; without vectors, tiny placeholders fill the bindings (never read).
  let vCur: GPUBuffer;
  let vNext: GPUBuffer;
  if (options.vectors) {
    const identity = new Float32Array(count * n * n);
    for (let b = 0; b < count; b++) for (let i = 0; i < n; i++) identity[b * n * n + i * n + i] = 1;
    vCur = rt.upload(identity, 'jacobi.v-ping');
    vNext = rt.zeros(bytes, 'jacobi.v-pong');
  } else {
    vCur = rt.zeros(4, 'jacobi.v-unused');
    vNext = rt.zeros(4, 'jacobi.v-unused');
  }
  // One uniform entry per round-robin step, 256 bytes apart (the uniform offset alignment).
  const stride = 256;
  const params = new Uint32Array(((n - 1) * stride) / 4);
  for (let s = 0; s < n - 1; s++) params.set([n, s, count, options.vectors ? 1 : 0], (s * stride) / 4);
  const paramsBuffer = rt.acquire(params.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'jacobi.params');
  rt.device.queue.writeBuffer(paramsBuffer, 0, params);
  const measured = rt.zeros(count * n * 3 * 4, 'jacobi.measure');
  let sweeps = 0;
  let previousWorst = Infinity;
  const values = new Float32Array(count * n);
  try {
    for (let sweep = 0; sweep <= maxSweeps; sweep++) {
      // Measure first (sweep 0 tells whether there is anything to do).
      rt.submit('jacobi.measure', (pass) =>
        rt.dispatch(pass, jacobiMeasureKernel, [aCur, measured, { buffer: paramsBuffer, offset: 0, size: 16 }], measureWorkgroups(n, count)),
      );
      const out = await rt.read(measured, count * n * 3 * 4, 'jacobi.measure');
      let worst = 0;
      for (let b = 0; b < count; b++) {
        let off = 0;
        let total = 0;
        for (let row = 0; row < n; row++) {
          const o = (b * n + row) * 3;
          off += out[o];
          total += out[o + 1];
          values[b * n + row] = out[o + 2];
        }
        worst = Math.max(worst, total > 0 ? Math.sqrt(off / total) : 0);
      }
      options.onSweep?.(sweep, worst);
      // Converged, or stagnating at round-off after a reasonable number of sweeps.
      if (worst <= tolerance || (sweep >= 6 && worst > 0.5 * previousWorst && worst < 1e-5) || sweep === maxSweeps) break;
      previousWorst = worst;
      if (options.signal?.aborted) throw new DOMException('The computation was cancelled', 'AbortError');
      rt.submit('jacobi.sweep', (pass) => {
        for (let s = 0; s < n - 1; s++) {
          rt.dispatch(pass, jacobiRotateKernel, [aCur, vCur, aNext, vNext, { buffer: paramsBuffer, offset: s * stride, size: 16 }], rotateWorkgroups(n, count, options.vectors));
          [aCur, aNext] = [aNext, aCur];
          [vCur, vNext] = [vNext, vCur];
        }
      });
      sweeps++;
    }
    const vectors = options.vectors ? await rt.read(vCur, bytes, 'jacobi.vectors') : null;
    return { values, vectors, sweeps };
  } finally {
    for (const buffer of [aCur, aNext, vCur, vNext, measured, paramsBuffer]) rt.release(buffer);
  }
}

// ---------------------------------------------------------------------------------------------
// Conv layers through the DFT.


/** A 32-byte uniform of u32 words (the kernels' Params structs). */
function uniformWords(rt: GpuRuntime, words: number[], label: string): GPUBuffer {
  const data = new Uint32Array(8);
  data.set(words);
  const buffer = rt.acquire(32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label);
  rt.device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

export interface ConvDims {
  n: number;
  h: number;
  w: number;
  c: number;
}

/** The 2-D DFT over (H, W) of an NHWC conv tensor (float64 on the host), as complex f32 pairs on the GPU. */
export function spectrumOf(rt: GpuRuntime, dims: ConvDims, data: Float64Array): GPUBuffer {
  const count = dims.n * dims.h * dims.w * dims.c;
  const complex = new Float32Array(2 * count);
  for (let i = 0; i < count; i++) complex[2 * i] = data[i];
  const input = rt.upload(complex, 'dft.input');
  const along = rt.zeros(8 * count, 'dft.along-w');
  const spectrum = rt.zeros(8 * count, 'dft.spectrum');
  const paramsW = uniformWords(rt, [dims.n, dims.h, dims.w, dims.c, 0], 'dft.params-w');
  const paramsH = uniformWords(rt, [dims.n, dims.h, dims.w, dims.c, 1], 'dft.params-h');
  rt.submit('dft', (pass) => {
    rt.dispatch(pass, dftAxisKernel, [input, along, paramsW], linearWorkgroups(count));
    rt.dispatch(pass, dftAxisKernel, [along, spectrum, paramsH], linearWorkgroups(count));
  });
  for (const b of [input, along, paramsW, paramsH]) rt.release(b);
  return spectrum;
}

/**
 * Centred, real-embedded blocks of the frequencies (u, v) listed: block b is 2C × 2N
 * (rows of length 2N), stacked. See shaders/embed-frequency-blocks.wgsl.
 */
export function embedFrequencyBlocks(rt: GpuRuntime, spectrum: GPUBuffer, dims: ConvDims, frequencies: [number, number][]): GPUBuffer {
  const blocks = frequencies.length;
  const list = rt.upload(Uint32Array.from(frequencies.flat()), 'blocks.frequencies');
  const means = rt.zeros(8 * blocks * dims.c, 'blocks.means');
  const out = rt.zeros(4 * blocks * 2 * dims.c * 2 * dims.n, 'blocks.embedded');
  const params = uniformWords(rt, [dims.n, dims.h, dims.w, dims.c, blocks], 'blocks.params');
  rt.submit('blocks', (pass) => {
    rt.dispatch(pass, frequencyMeansKernel, [spectrum, list, means, params], linearWorkgroups(blocks * dims.c));
    rt.dispatch(pass, embedBlocksKernel, [spectrum, list, means, out, params], embedWorkgroups(dims.n, dims.c, blocks));
  });
  for (const b of [list, means, params]) rt.release(b);
  return out;
}
