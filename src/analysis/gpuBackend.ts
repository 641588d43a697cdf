// The WebGPU backend: the same contract as the float64 CPU backend (src/analysis/backend.ts), in f32.
//
// Shapes: every representation is n neurons × m datapoints, row-major. Per grid side (one checkpoint's
// layers) the work is batched:
//   1. centre on the CPU in float64 while converting to f32 (exact means, one pass), stack all layers
//      into one buffer;
//   2. Gram matrices G_i = Xc_i Xc_iᵀ of every layer in one batched product dispatch;
//   3. (cca only) read G back, apply cca_core's rescaling and ε pruning, upload Σ̃;
//   4. eigendecomposition of every layer at once by batched parallel-ordered Jacobi;
//   5. on the CPU: sort, choose k (99% of Σs² or fixed), re-orthonormalise the kept vectors in
//      float64 (f32 Jacobi drifts from orthogonality by ~1e-6), scale them into whitening rows P_i;
//   6. Z_i = P_i Xc_i for every layer in one batched product: the factor, kept on the GPU.
// A grid of pairs is then one product T = [Z_a1; Z_a2; …] [Z_b1; Z_b2; …]ᵀ, one batched Gram of the
// pair blocks (T_ij T_ijᵀ, the smaller side) and one batched Jacobi for all pairs' singular values.
// CKA uses the centred data itself: one product for all pairs' cross-covariances. Conv layers through
// the DFT are cut into per-frequency blocks on the GPU (see compareDft).
// PWCCA, layers wider than their datapoints, and work beyond this device's limits run on the float64
// path; each such pair carries `fallback` (the reason), which the engine turns into a warning.

import { embedFrequencyBlocks, jacobiEigenBatch, runProducts, spectrumOf, type ConvDims } from '../gpu/ops';
import { globalKeep, halve, sharedFrequencies, type SharedFrequency } from '../math/dft';
import type { ProductBatch } from '../gpu/kernels/product';
import { chooseK, summarize, svdOfCross, type CcaSvd } from '../math/cca';
import { completeRotation, weightsFromGram } from '../math/pwcca';
import { ckaFromStatistics } from '../math/cka';
import type { Matrix } from '../math/matrix';
import { denseAsConv, reduceToMatrix, type Representation } from '../math/reduce';
import { checkAborted, forgetGpuBackend, type ComputeBackend, type GpuBackendFactory } from './backend';
import { compareFactors, factorize, type Factor, type PairNumbers } from './metrics';
import type { AnalysisOptions } from './types';
import { acquireDevice } from '../gpu/device';
import { GpuLimitError, GpuRuntime } from '../gpu/runtime';

/** Relative eigenvalue floor below which f32 whitening treats a direction as null. */
export const CLIP_TOLERANCE_F32 = 1e-6;

/** A buffer shared by the factors of one batch, freed when the last of them is released. */
interface SharedBuffer {
  buffer: GPUBuffer;
  references: number;
}

/** What PWCCA needs beyond the CCA factor: the centred rows (on the GPU) and the eigenbasis. */
interface PwccaExtras {
  /** Centred rows of this layer (n × m) at `xRow` of `x`. */
  x: SharedBuffer;
  xRow: number;
  /** Input rows kept by the ε pruning. */
  kept: number[];
  /** keptDims × keptDims, row i = eigenvector i of Σ̃ (descending; the first `rows` re-orthonormalised). */
  basis: Matrix;
}

interface GpuCcaFactor {
  kind: 'gpu-cca';
  pwcca?: PwccaExtras;
  /** Z rows (r × m) at `rowOffset` of `z` (rows of length m). */
  z: SharedBuffer;
  rowOffset: number;
  rows: number;
  keptDims: number;
  dropped: number;
  clipped: number;
  spectrum: number[] | null;
  neurons: number;
  datapoints: number;
  rep: Representation;
}

interface GpuCkaFactor {
  kind: 'gpu-cka';
  /** Centred rows (n × m) at `rowOffset` of `x`. */
  x: SharedBuffer;
  rowOffset: number;
  rows: number;
  selfDot: number;
  rowNorms: Float64Array;
  squaredNorm: number;
  neurons: number;
  datapoints: number;
  rep: Representation;
}

/** A conv layer's 2-D DFT (complex f32 pairs, NHWC) on the GPU; blocks are cut per pair's shared frequencies. */
interface GpuDftFactor {
  kind: 'gpu-dft';
  spectrum: GPUBuffer;
  dims: ConvDims;
  datapoints: number;
  rep: Representation;
  /** Factored per-frequency blocks, by the frequency list they were cut for (see compareDft). They
   *  live as long as the factor: the reference side of a dynamics job is cut once, not per step. */
  blockSets: Map<string, DftBlockSet>;
}

type DftBlockSet = Awaited<ReturnType<GpuBackend['factorStacked']>>;

/** Work this backend hands to the float64 path (PWCCA, n > m). */
interface CpuFallbackFactor {
  kind: 'cpu';
  factor: Factor;
  rep: Representation;
  reason: string;
}

export type GpuFactor = GpuCcaFactor | GpuCkaFactor | GpuDftFactor | CpuFallbackFactor;

const even = (n: number) => n + (n % 2);

/** Centres rows in float64 and stacks them as f32: rows of every matrix one after another. */
function centreAndStack(matrices: Matrix[]): { data: Float32Array; rowOffsets: number[]; rowNorms: Float64Array[]; squaredNorms: number[] } {
  const m = matrices[0].cols;
  const totalRows = matrices.reduce((s, x) => s + x.rows, 0);
  const data = new Float32Array(totalRows * m);
  const rowOffsets: number[] = [];
  const rowNorms: Float64Array[] = [];
  const squaredNorms: number[] = [];
  let row = 0;
  for (const x of matrices) {
    rowOffsets.push(row);
    const norms = new Float64Array(m);
    let squared = 0;
    for (let i = 0; i < x.rows; i++, row++) {
      let sum = 0;
      for (let j = 0; j < m; j++) sum += x.data[i * m + j];
      const mean = sum / m;
      for (let j = 0; j < m; j++) {
        const v = x.data[i * m + j] - mean;
        data[row * m + j] = v;
        norms[j] += v * v;
        squared += v * v;
      }
    }
    rowNorms.push(norms);
    squaredNorms.push(squared);
  }
  return { data, rowOffsets, rowNorms, squaredNorms };
}

/** Stacked rows restricted to the datapoint columns [column0, column0 + columns), on the GPU. */
interface DataChunk {
  buffer: GPUBuffer;
  column0: number;
  columns: number;
}

/** Uploads `rows` × `m` data as column chunks of at most `perChunk` columns (one chunk: no copy). */
function uploadChunks(rt: GpuRuntime, data: Float32Array, rows: number, m: number, perChunk: number): DataChunk[] {
  if (perChunk >= m) return [{ buffer: rt.upload(data, 'factor.centred'), column0: 0, columns: m }];
  const chunks: DataChunk[] = [];
  for (let column0 = 0; column0 < m; column0 += perChunk) {
    const columns = Math.min(perChunk, m - column0);
    const part = new Float32Array(rows * columns);
    for (let r = 0; r < rows; r++) part.set(data.subarray(r * m + column0, r * m + column0 + columns), r * columns);
    chunks.push({ buffer: rt.upload(part, `factor.centred-chunk-${chunks.length}`), column0, columns });
  }
  return chunks;
}

/** Modified Gram–Schmidt (twice) on the rows of `vectors` (count × n, float64), in place. */
function reorthonormalize(vectors: Float64Array, count: number, n: number): void {
  for (let i = 0; i < count; i++) {
    const vi = vectors.subarray(i * n, (i + 1) * n);
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        const vj = vectors.subarray(j * n, (j + 1) * n);
        let dot = 0;
        for (let t = 0; t < n; t++) dot += vi[t] * vj[t];
        for (let t = 0; t < n; t++) vi[t] -= dot * vj[t];
      }
    }
    let norm = 0;
    for (let t = 0; t < n; t++) norm += vi[t] * vi[t];
    norm = Math.sqrt(norm);
    if (norm > 0) for (let t = 0; t < n; t++) vi[t] /= norm;
  }
}

/** Sorted (descending) eigenpairs of matrix `b` of a Jacobi batch, restricted to its first `size` coordinates. */
function sortedEigen(values: Float32Array, vectors: Float32Array | null, b: number, padded: number, size: number) {
  const order = Array.from({ length: padded }, (_, i) => i).sort((i, j) => values[b * padded + j] - values[b * padded + i]);
  const sortedValues = order.slice(0, size).map((i) => values[b * padded + i]);
  let sortedVectors: Float64Array | null = null;
  if (vectors) {
    sortedVectors = new Float64Array(size * size);
    order.slice(0, size).forEach((from, to) => {
      for (let t = 0; t < size; t++) sortedVectors![to * size + t] = vectors[b * padded * padded + from * padded + t];
    });
  }
  return { values: sortedValues, vectors: sortedVectors };
}

export class GpuBackend implements ComputeBackend<GpuFactor> {
  readonly kind = 'webgpu' as const;
  /** Float64 factors of GPU factors that met a pair the GPU does not handle (compareOnCpu); they
   *  go with their GPU factor (a factor belongs to one job, so to one set of options). */
  private readonly cpuTwins = new WeakMap<GpuFactor, Factor>();
  readonly precision = 'float32' as const;
  /**
   * @param maxChunkBytes largest buffer of stacked datapoints uploaded at once (default: the device's
   *   storage-binding limit). Beyond it the datapoints stream in column chunks: Gram matrices
   *   accumulate over chunks and Z's columns are written chunk by chunk, so m is bounded by GPU
   *   memory rather than by the binding limit.
   */
  constructor(
    readonly runtime: GpuRuntime,
    readonly maxChunkBytes?: number,
  ) {}

  private chunkLimit(): number {
    return this.maxChunkBytes ?? Math.min(this.runtime.maxStorageBindingBytes, this.runtime.limits.maxBufferSize);
  }

  datapointsOf(f: GpuFactor): number {
    return f.kind === 'cpu' ? f.factor.datapoints : f.datapoints;
  }

  release(factors: GpuFactor[]): void {
    for (const f of factors) {
      if (f.kind === 'gpu-dft') {
        if (!this.runtime.lost) for (const buffer of [f.spectrum, ...[...f.blockSets.values()].map((set) => set.z)]) this.runtime.release(buffer);
        f.blockSets.clear();
        continue;
      }
      if (f.kind === 'gpu-cca' && f.pwcca) {
        f.pwcca.x.references--;
        if (f.pwcca.x.references === 0 && !this.runtime.lost) this.runtime.release(f.pwcca.x.buffer);
      }
      const shared = f.kind === 'gpu-cca' ? f.z : f.kind === 'gpu-cka' ? f.x : null;
      if (!shared) continue;
      shared.references--;
      if (shared.references === 0 && !this.runtime.lost) this.runtime.release(shared.buffer);
    }
  }

  async factorize(reps: Representation[], options: AnalysisOptions, dft: boolean): Promise<GpuFactor[]> {
    try {
      return await this.factorizeOnGpu(reps, options, dft);
    } catch (error) {
      // Beyond this device's limits: the float64 path computes the same numbers (and says so).
      if (!(error instanceof GpuLimitError)) throw error;
      return reps.map((rep) => ({ kind: 'cpu', factor: factorize(rep, options, dft), rep, reason: error.message }));
    }
  }

  private async factorizeOnGpu(reps: Representation[], options: AnalysisOptions, dft: boolean): Promise<GpuFactor[]> {
    this.runtime.checkAlive();
    if (dft && (options.metric === 'svcca' || options.metric === 'cca')) {
      return reps.map((rep) => {
        const conv = rep.kind === 'conv' ? rep.conv : denseAsConv(rep.x);
        const dims = { n: conv.datapoints, h: conv.height, w: conv.width, c: conv.channels };
        return { kind: 'gpu-dft', spectrum: spectrumOf(this.runtime, dims, conv.data), dims, datapoints: conv.datapoints, rep, blockSets: new Map() };
      });
    }
    const cpuReason = dft ? 'the DFT path with this metric' : null;
    if (cpuReason || reps.length === 0) {
      return reps.map((rep) => ({ kind: 'cpu', factor: factorize(rep, options, dft), rep, reason: cpuReason ?? '' }));
    }
    const reduction = options.convReduction === 'dft' ? 'flatten' : options.convReduction;
    const matrices = reps.map((rep) => reduceToMatrix(rep, reduction));
    const m = matrices[0].cols;
    if (matrices.some((x) => x.cols !== m) || matrices.some((x) => x.rows > m) || m < 2) {
      // Wide layers (n > m) and mixed datapoint counts: degenerate or refused later; float64 handles them.
      return reps.map((rep) => ({ kind: 'cpu', factor: factorize(rep, options, false), rep, reason: 'layers with more neurons than datapoints run in float64' }));
    }
    const stacked = centreAndStack(matrices);
    const totalRows = stacked.data.length / m;
    const cka = options.metric === 'cka' || options.metric === 'cka-debiased';
    const columnsPerChunk = Math.max(1, Math.floor(this.chunkLimit() / (totalRows * 4)));
    const pwcca = options.metric === 'pwcca';
    if ((cka || pwcca) && columnsPerChunk < m) {
      // CKA's cross products and PWCCA's directions need whole rows; past the binding limit the float64 path takes them.
      return reps.map((rep) => ({ kind: 'cpu', factor: factorize(rep, options, false), rep, reason: 'datapoints beyond one GPU binding' }));
    }
    const chunks = uploadChunks(this.runtime, stacked.data, totalRows, m, columnsPerChunk);
    const x = chunks[0].buffer; // the whole data when there is one chunk (always for CKA and PWCCA)
    const padded = even(Math.max(...matrices.map((mat) => mat.rows)));
    const gram = this.runtime.zeros(matrices.length * padded * padded * 4, 'factor.gram');
    chunks.forEach((chunk, index) =>
      runProducts(
        this.runtime,
        chunk.buffer,
        chunk.buffer,
        gram,
        matrices.map((mat, i) => ({
          aOffset: stacked.rowOffsets[i] * chunk.columns,
          bOffset: stacked.rowOffsets[i] * chunk.columns,
          cOffset: i * padded * padded,
          p: mat.rows,
          q: mat.rows,
          k: chunk.columns,
          lda: chunk.columns,
          ldb: chunk.columns,
          ldc: padded,
          accumulate: index > 0, // Σ over datapoint chunks
        })),
        'factor.gram',
      ),
    );
    if (cka) {
      const grams = await this.runtime.read(gram, matrices.length * padded * padded * 4, 'factor.gram');
      this.runtime.release(gram);
      const shared: SharedBuffer = { buffer: x, references: matrices.length };
      return matrices.map((mat, i) => {
        let selfDot = 0;
        for (let r = 0; r < mat.rows; r++) for (let c = 0; c < mat.rows; c++) selfDot += grams[i * padded * padded + r * padded + c] ** 2;
        return {
          kind: 'gpu-cka',
          x: shared,
          rowOffset: stacked.rowOffsets[i],
          rows: mat.rows,
          selfDot,
          rowNorms: stacked.rowNorms[i],
          squaredNorm: stacked.squaredNorms[i],
          neurons: mat.rows,
          datapoints: m,
          rep: reps[i],
        };
      });
    }
    try {
      // PWCCA's CCA step is cca_core's (ε pruning, no SVD step).
      const ccaOptions = pwcca ? { ...options, metric: 'cca' as const } : options;
      const { z, plans } = await this.factorStacked(chunks, gram, matrices.map((mat) => mat.rows), stacked.rowOffsets, m, padded, ccaOptions);
      const shared: SharedBuffer = { buffer: z, references: matrices.length };
      const centred: SharedBuffer | null = pwcca ? { buffer: x, references: matrices.length } : null;
      return plans.map(({ kept, basis, ...plan }, b) => ({
        kind: 'gpu-cca',
        z: shared,
        ...plan,
        neurons: matrices[b].rows,
        datapoints: m,
        rep: reps[b],
        ...(centred ? { pwcca: { x: centred, xRow: stacked.rowOffsets[b], kept, basis } } : {}),
      }));
    } finally {
      // PWCCA keeps the centred rows (one chunk) for its directions; everything else goes now.
      for (const chunk of chunks) if (!pwcca) this.runtime.release(chunk.buffer);
    }
  }

  /**
   * Steps 3–6 of the module comment for centred matrices stacked in `chunks` (each chunk: all rows,
   * a range of datapoint columns) whose
   * Gram matrices are in `gram` (padded × padded each; consumed). `keeps`, when given, chooses the
   * SVD directions of every matrix at once from all their spectra (the DFT's global 99% rule).
   */
  private async factorStacked(
    chunks: DataChunk[],
    gram: GPUBuffer,
    sizes: number[],
    rowOffsets: number[],
    m: number,
    padded: number,
    options: AnalysisOptions,
    keeps?: (spectra: number[][]) => number[],
  ): Promise<{
    z: GPUBuffer;
    plans: { rowOffset: number; rows: number; keptDims: number; dropped: number; clipped: number; spectrum: number[] | null; kept: number[]; basis: Matrix }[];
  }> {
    const rt = this.runtime;
    const count = sizes.length;
    // Per matrix: which input rows CCA sees (all for svcca; ε-pruned for cca) and the rescaling.
    const kept: number[][] = sizes.map((size) => Array.from({ length: size }, (_, i) => i));
    const xmax: number[] = sizes.map(() => 1);
    let eigenInput = gram;
    if (options.metric === 'cca') {
      const grams = await rt.read(gram, count * padded * padded * 4, 'factor.gram');
      rt.release(gram);
      const rescaled = new Float32Array(count * padded * padded);
      sizes.forEach((size, b) => {
        const base = b * padded * padded;
        let max = 0;
        for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) max = Math.max(max, Math.abs(grams[base + i * padded + j]) / (m - 1));
        xmax[b] = max;
        kept[b] = max > 0 ? kept[b].filter((i) => grams[base + i * padded + i] / (m - 1) / max >= options.epsilon) : [];
        kept[b].forEach((a, i) => kept[b].forEach((c, j) => (rescaled[base + i * padded + j] = grams[base + a * padded + c] / (m - 1) / max)));
      });
      eigenInput = rt.upload(rescaled, 'factor.rescaled');
    }
    const eig = await jacobiEigenBatch(rt, eigenInput, padded, count, { vectors: true, sizes: sizes.map((size, b) => (options.metric === 'cca' ? kept[b].length : size)) });
    const eigens = sizes.map((size, b) => sortedEigen(eig.values, eig.vectors, b, padded, options.metric === 'cca' ? kept[b].length : size));
    const spectra = eigens.map((e) => e.values.map((g) => Math.max(g, 0) / (m - 1)));
    const ks = options.metric === 'svcca' ? (keeps ? keeps(spectra) : spectra.map((sp) => chooseK(sp, options.keep))) : [];
    // Whitening rows P (r_b × n_b) for every matrix, stacked; Z = P·Xc.
    const plans = sizes.map((size, b) => {
      const { values, vectors } = eigens[b];
      let rows: number;
      let keptDims: number;
      const scales: number[] = [];
      if (options.metric === 'svcca') {
        const spectrum = spectra[b];
        const top = Math.max(spectrum[0] ?? 0, 0);
        // ε pruning (a suffix: variances descend) and clipping on the kept SVD directions.
        keptDims = 0;
        while (keptDims < ks[b] && top > 0 && spectrum[keptDims] / top >= options.epsilon) keptDims++;
        rows = 0;
        while (rows < keptDims && spectrum[rows] / top > CLIP_TOLERANCE_F32) rows++;
        for (let i = 0; i < rows; i++) scales.push(1 / Math.sqrt(Math.max(values[i], 0) + options.epsilon * Math.max(values[0], 0)));
      } else {
        keptDims = kept[b].length;
        const top = Math.max(values[0] ?? 0, 0);
        rows = 0;
        while (rows < keptDims && values[rows] > CLIP_TOLERANCE_F32 * top) rows++;
        for (let i = 0; i < rows; i++) scales.push(1 / (Math.sqrt(values[i] + options.epsilon) * Math.sqrt((m - 1) * xmax[b])));
      }
      const inputs = options.metric === 'cca' ? kept[b].length : size;
      if (vectors) reorthonormalize(vectors, rows, inputs);
      // P rows over the matrix's `size` input rows (pruned rows get weight 0).
      const projection = new Float32Array(rows * size);
      for (let i = 0; i < rows; i++) {
        for (let t = 0; t < inputs; t++) {
          const column = options.metric === 'cca' ? kept[b][t] : t;
          projection[i * size + column] = scales[i] * vectors![i * inputs + t];
        }
      }
      const dropped = options.metric === 'svcca' ? ks[b] - keptDims : size - keptDims;
      const basis: Matrix = { rows: inputs, cols: inputs, data: vectors ?? new Float64Array(0) };
      return { rows, keptDims, dropped, clipped: keptDims - rows, spectrum: options.metric === 'svcca' ? spectra[b] : null, projection, kept: kept[b], basis };
    });
    const projectionData = new Float32Array(Math.max(1, plans.reduce((s, p) => s + p.projection.length, 0)));
    const projectionOffsets: number[] = [];
    const zOffsets: number[] = [];
    let pOffset = 0;
    let zRow = 0;
    plans.forEach((plan) => {
      projectionOffsets.push(pOffset);
      zOffsets.push(zRow);
      projectionData.set(plan.projection, pOffset);
      pOffset += plan.projection.length;
      zRow += plan.rows;
    });
    const projection = rt.upload(projectionData, 'factor.projection');
    const z = rt.zeros(Math.max(1, zRow) * m * 4, 'factor.whitened');
    for (const chunk of chunks) {
      // Z's columns [column0, column0 + columns) from this chunk of datapoints.
      const batches: ProductBatch[] = plans
        .map((plan, b) => ({
          aOffset: projectionOffsets[b],
          bOffset: rowOffsets[b] * chunk.columns,
          cOffset: zOffsets[b] * m + chunk.column0,
          p: plan.rows,
          q: chunk.columns,
          k: sizes[b],
          lda: sizes[b],
          ldb: chunk.columns,
          ldc: m,
          transB: true, // op(B) = Xcᵀ (columns × n): Z = P · Xc
        }))
        .filter((batch) => batch.p > 0);
      if (batches.length > 0) runProducts(rt, projection, chunk.buffer, z, batches, 'factor.whiten');
    }
    rt.release(projection);
    await rt.settle();
    return {
      z,
      plans: plans.map(({ projection: _unused, ...plan }, b) => ({ ...plan, rowOffset: zOffsets[b] })),
    };
  }

  async compareGrid(a: GpuFactor[], b: GpuFactor[], options: AnalysisOptions, onPairs?: (count: number) => void, signal?: AbortSignal): Promise<PairNumbers[][]> {
    this.runtime.checkAlive();
    try {
      const withExtras = (f: GpuFactor) => f.kind === 'gpu-cca' && f.pwcca !== undefined;
      if (options.metric === 'pwcca' && a.every(withExtras) && b.every(withExtras)) {
        const grid = await this.comparePwcca(a as GpuCcaFactor[], b as GpuCcaFactor[], options, signal);
        onPairs?.(a.length * b.length);
        return grid;
      }
      if (options.metric !== 'pwcca' && a.every((f) => f.kind === 'gpu-cca') && b.every((f) => f.kind === 'gpu-cca')) {
        const grid = await this.compareCca(a as GpuCcaFactor[], b as GpuCcaFactor[], signal);
        onPairs?.(a.length * b.length);
        return grid;
      }
      if (a.every((f) => f.kind === 'gpu-dft') && b.every((f) => f.kind === 'gpu-dft')) {
        return await this.compareDft(a as GpuDftFactor[], b as GpuDftFactor[], options, onPairs, signal);
      }
      if (a.every((f) => f.kind === 'gpu-cka') && b.every((f) => f.kind === 'gpu-cka')) {
        const grid = await this.compareCka(a as GpuCkaFactor[], b as GpuCkaFactor[], options);
        onPairs?.(a.length * b.length);
        return grid;
      }
    } catch (error) {
      if (!(error instanceof GpuLimitError)) throw error;
      return this.compareOnCpu(a, b, options, error.message, onPairs, signal);
    }
    const reasons = [...a, ...b].flatMap((f) => (f.kind === 'cpu' ? [f.reason] : []));
    return this.compareOnCpu(a, b, options, reasons[0] ?? 'factors of different kinds', onPairs, signal);
  }

  /** The float64 path, pair by pair, for factors (or pairs) the GPU does not handle; `reason` travels with every pair. */
  private async compareOnCpu(a: GpuFactor[], b: GpuFactor[], options: AnalysisOptions, reason: string, onPairs?: (count: number) => void, signal?: AbortSignal): Promise<PairNumbers[][]> {
    const cpuFactor = (f: GpuFactor): Factor => {
      if (f.kind === 'cpu') return f.factor;
      // A GPU factor's float64 twin, made once: a dynamics job meets the reference side at every step.
      let twin = this.cpuTwins.get(f);
      if (!twin) this.cpuTwins.set(f, (twin = factorize(f.rep, options, f.kind === 'gpu-dft')));
      return twin;
    };
    const fa = a.map(cpuFactor);
    const fb = b.map(cpuFactor);
    const grid: PairNumbers[][] = [];
    for (const x of fa) {
      checkAborted(signal);
      grid.push(fb.map((y) => ({ ...compareFactors(x, y, options), fallback: reason })));
      onPairs?.(fb.length);
    }
    return grid;
  }

  /** Copies the factors' rows into one stacked buffer (unless they already are one, in order). */
  private stack<F extends { rowOffset: number; rows: number; datapoints: number }>(factors: F[], bufferOf: (f: F) => GPUBuffer, label: string): { buffer: GPUBuffer; offsets: number[]; owned: boolean } {
    const m = factors[0].datapoints;
    const first = bufferOf(factors[0]);
    let contiguous = factors.every((f) => bufferOf(f) === first);
    let row = factors[0].rowOffset;
    for (const f of factors) {
      if (f.rowOffset !== row) contiguous = false;
      row += f.rows;
    }
    if (contiguous) return { buffer: first, offsets: factors.map((f) => f.rowOffset - factors[0].rowOffset), owned: false };
    const total = factors.reduce((s, f) => s + f.rows, 0);
    const buffer = this.runtime.zeros(Math.max(1, total) * m * 4, label);
    const encoder = this.runtime.device.createCommandEncoder({ label: `${label}.encoder` });
    const offsets: number[] = [];
    let at = 0;
    for (const f of factors) {
      offsets.push(at);
      if (f.rows > 0) encoder.copyBufferToBuffer(bufferOf(f), f.rowOffset * m * 4, buffer, at * m * 4, f.rows * m * 4);
      at += f.rows;
    }
    this.runtime.device.queue.submit([encoder.finish()]);
    return { buffer, offsets, owned: true };
  }

  /**
   * One product of two stacks of rows over the datapoints: T (rowsA × rowsB) with
   * T[offsetsA[i] + r][offsetsB[j] + c] = ⟨row r of a[i], row c of b[j]⟩. `release` frees T and any copies.
   */
  private stackedCross<F extends { rowOffset: number; rows: number; datapoints: number }>(a: F[], b: F[], bufferOf: (f: F) => GPUBuffer, label: string) {
    const rt = this.runtime;
    const m = a[0].datapoints;
    const sa = this.stack(a, bufferOf, `${label}.stack-a`);
    const sb = this.stack(b, bufferOf, `${label}.stack-b`);
    const rowsA = a.reduce((s, f) => s + f.rows, 0);
    const rowsB = b.reduce((s, f) => s + f.rows, 0);
    const t = rt.zeros(Math.max(1, rowsA * rowsB) * 4, `${label}.cross`);
    if (rowsA > 0 && rowsB > 0) {
      const first = (stack: typeof sa, factors: F[]) => (stack.owned ? 0 : factors[0].rowOffset) * m;
      runProducts(rt, sa.buffer, sb.buffer, t, [{ aOffset: first(sa, a), bOffset: first(sb, b), cOffset: 0, p: rowsA, q: rowsB, k: m, lda: m, ldb: m, ldc: rowsB }], `${label}.cross`);
    }
    const release = () => {
      if (rt.lost) return;
      rt.release(t);
      if (sa.owned) rt.release(sa.buffer);
      if (sb.owned) rt.release(sb.buffer);
    };
    return { t, rowsA, rowsB, offsetsA: sa.offsets, offsetsB: sb.offsets, release };
  }

  private async compareCca(a: GpuCcaFactor[], b: GpuCcaFactor[], signal?: AbortSignal): Promise<PairNumbers[][]> {
    const rt = this.runtime;
    const { t, rowsB, offsetsA, offsetsB, release } = this.stackedCross(a, b, (f) => f.z.buffer, 'pairs');
    try {
      checkAborted(signal);
      // Gram of every pair block, of its smaller side: G = T Tᵀ (ka ≤ kb) or Tᵀ T.
      const pairs = a.flatMap((fa, i) => b.map((fb, j) => ({ i, j, small: Math.min(fa.rows, fb.rows), leftSmaller: fa.rows <= fb.rows })));
      const padded = even(Math.max(2, ...pairs.map((p) => p.small)));
      const grams = rt.zeros(pairs.length * padded * padded * 4, 'pairs.gram');
      const batches: ProductBatch[] = pairs
        .map((p, index) => ({ ...p, index }))
        .filter((p) => p.small > 0)
        .map((p) => {
          const offset = offsetsA[p.i] * rowsB + offsetsB[p.j]; // block (i, j) of T, row stride rowsB
          const index = p.index;
          return p.leftSmaller
            ? { aOffset: offset, bOffset: offset, cOffset: index * padded * padded, p: a[p.i].rows, q: a[p.i].rows, k: b[p.j].rows, lda: rowsB, ldb: rowsB, ldc: padded }
            : { aOffset: offset, bOffset: offset, cOffset: index * padded * padded, p: b[p.j].rows, q: b[p.j].rows, k: a[p.i].rows, lda: rowsB, ldb: rowsB, ldc: padded, transA: true, transB: true };
        });
      if (batches.length > 0) runProducts(rt, t, t, grams, batches, 'pairs.gram');
      const eig = await jacobiEigenBatch(rt, grams, padded, pairs.length, { vectors: false, signal, sizes: pairs.map((p) => p.small) });
      const grid: PairNumbers[][] = a.map(() => []);
      pairs.forEach((p, index) => {
        const fa = a[p.i];
        const fb = b[p.j];
        const count = Math.min(fa.keptDims, fb.keptDims);
        const rho = new Array<number>(count).fill(0);
        const values = Array.from(eig.values.subarray(index * padded, (index + 1) * padded))
          .sort((x, y) => y - x)
          .slice(0, p.small)
          .map((g) => Math.sqrt(Math.max(g, 0)));
        for (let r = 0; r < Math.min(count, values.length); r++) rho[r] = values[r];
        const s = summarize(rho);
        grid[p.i][p.j] = {
          similarity: s.mean,
          mean98: s.mean98,
          meanSquared: s.meanSquared,
          rho: s.rho,
          kept: [fa.keptDims, fb.keptDims],
          neurons: [fa.neurons, fb.neurons],
          dropped: [fa.dropped, fb.dropped],
          clipped: [fa.clipped, fb.clipped],
          spectra: fa.spectrum && fb.spectrum ? [fa.spectrum, fb.spectrum] : null,
          frequencies: null,
        };
      });
      return grid;
    } finally {
      release();
    }
  }

  /**
   * Per-frequency CCA / SVCCA between conv layers (src/math/dft.ts is the float64 twin): for every pair,
   * the blocks of the frequencies both layers share (cut and factored once per layer and frequency
   * list, batched over frequencies), then one product, one Gram and one Jacobi batch over them.
   */
  private async compareDft(a: GpuDftFactor[], b: GpuDftFactor[], options: AnalysisOptions, onPairs?: (count: number) => void, signal?: AbortSignal): Promise<PairNumbers[][]> {
    const rt = this.runtime;
    // A layer's blocks depend on which of its frequencies are cut and on their multiplicities (the
    // global 99% rule weighs them); the options are those of the job the factor belongs to.
    const blockSet = async (f: GpuDftFactor, frequencies: SharedFrequency[], own: 'indexA' | 'indexB'): Promise<DftBlockSet> => {
      const list = frequencies.map((q) => q[own]);
      const key = JSON.stringify([list, frequencies.map((q) => q.multiplicity)]);
      const cached = f.blockSets.get(key);
      if (cached) return cached;
      const { n, c } = f.dims;
      const embedded = embedFrequencyBlocks(rt, f.spectrum, f.dims, list);
      const sizes = list.map(() => 2 * c);
      const offsets = list.map((_, blockIndex) => blockIndex * 2 * c);
      const padded = 2 * c;
      const gram = rt.zeros(list.length * padded * padded * 4, 'dft.gram');
      runProducts(
        rt,
        embedded,
        embedded,
        gram,
        offsets.map((row, blockIndex) => ({ aOffset: row * 2 * n, bOffset: row * 2 * n, cOffset: blockIndex * padded * padded, p: 2 * c, q: 2 * c, k: 2 * n, lda: 2 * n, ldb: 2 * n, ldc: padded })),
        'dft.gram',
      );
      // SVCCA through the DFT: the 99% rule over all blocks' complex eigenvalues together.
      const keeps = (spectra: number[][]) =>
        globalKeep(
          spectra,
          frequencies.map((f) => f.multiplicity),
          options.keep,
        ).map((k) => 2 * k); // k complex directions are 2k real ones
      const set = await this.factorStacked([{ buffer: embedded, column0: 0, columns: 2 * n }], gram, sizes, offsets, 2 * n, padded, options, keeps);
      rt.release(embedded);
      f.blockSets.set(key, set);
      return set;
    };
    const grid: PairNumbers[][] = a.map(() => []);
    for (let i = 0; i < a.length; i++) {
      for (let j = 0; j < b.length; j++) {
        checkAborted(signal);
        const frequencies = sharedFrequencies({ height: a[i].dims.h, width: a[i].dims.w }, { height: b[j].dims.h, width: b[j].dims.w });
        const setA = await blockSet(a[i], frequencies, 'indexA');
        const setB = await blockSet(b[j], frequencies, 'indexB');
        grid[i][j] = await this.dftPair(setA, setB, frequencies, a[i].dims.c, b[j].dims.c, 2 * a[i].dims.n, options, signal);
      }
      onPairs?.(b.length);
    }
    return grid;
  }

  private async dftPair(
    setA: DftBlockSet,
    setB: DftBlockSet,
    frequencies: SharedFrequency[],
    channelsA: number,
    channelsB: number,
    m: number,
    options: AnalysisOptions,
    signal?: AbortSignal,
  ): Promise<PairNumbers> {
    const rt = this.runtime;
    const blocks = frequencies.map((_, index) => ({ pa: setA.plans[index], pb: setB.plans[index] }));
    const crossOffsets: number[] = [];
    let crossSize = 0;
    for (const { pa, pb } of blocks) {
      crossOffsets.push(crossSize);
      crossSize += pa.rows * pb.rows;
    }
    const cross = rt.zeros(Math.max(1, crossSize) * 4, 'dft.cross');
    const padded = even(Math.max(2, ...blocks.map(({ pa, pb }) => Math.min(pa.rows, pb.rows))));
    const grams = rt.zeros(blocks.length * padded * padded * 4, 'dft.pair-gram');
    try {
      const crossBatches: ProductBatch[] = [];
      const gramBatches: ProductBatch[] = [];
      blocks.forEach(({ pa, pb }, index) => {
        if (pa.rows === 0 || pb.rows === 0) return;
        crossBatches.push({ aOffset: pa.rowOffset * m, bOffset: pb.rowOffset * m, cOffset: crossOffsets[index], p: pa.rows, q: pb.rows, k: m, lda: m, ldb: m, ldc: pb.rows });
        const o = crossOffsets[index];
        gramBatches.push(
          pa.rows <= pb.rows
            ? { aOffset: o, bOffset: o, cOffset: index * padded * padded, p: pa.rows, q: pa.rows, k: pb.rows, lda: pb.rows, ldb: pb.rows, ldc: padded }
            : { aOffset: o, bOffset: o, cOffset: index * padded * padded, p: pb.rows, q: pb.rows, k: pa.rows, lda: pb.rows, ldb: pb.rows, ldc: padded, transA: true, transB: true },
        );
      });
      if (crossBatches.length > 0) {
        runProducts(rt, setA.z, setB.z, cross, crossBatches, 'dft.cross');
        runProducts(rt, cross, cross, grams, gramBatches, 'dft.pair-gram');
      }
      const eig = await jacobiEigenBatch(rt, grams, padded, blocks.length, { vectors: false, signal, sizes: blocks.map(({ pa, pb }) => Math.min(pa.rows, pb.rows)) });
      const union: number[] = [];
      const kept: [number, number] = [0, 0];
      const dropped: [number, number] = [0, 0];
      const spectra: [number[], number[]] = [[], []];
      blocks.forEach(({ pa, pb }, index) => {
        const multiplicity = frequencies[index].multiplicity;
        // Embedded dimensions come in equal pairs: halve counts, take every other value.
        const count = Math.min(pa.keptDims, pb.keptDims);
        const values = Array.from(eig.values.subarray(index * padded, (index + 1) * padded))
          .sort((x, y) => y - x)
          .slice(0, Math.min(pa.rows, pb.rows))
          .map((g) => Math.sqrt(Math.max(g, 0)));
        const rho = new Array<number>(count).fill(0);
        for (let r = 0; r < Math.min(count, values.length); r++) rho[r] = values[r];
        const complexRho = halve(rho);
        for (let t = 0; t < multiplicity; t++) {
          union.push(...complexRho);
          if (pa.spectrum) spectra[0].push(...halve(pa.spectrum));
          if (pb.spectrum) spectra[1].push(...halve(pb.spectrum));
        }
        kept[0] += (multiplicity * pa.keptDims) / 2;
        kept[1] += (multiplicity * pb.keptDims) / 2;
        dropped[0] += (multiplicity * pa.dropped) / 2;
        dropped[1] += (multiplicity * pb.dropped) / 2;
      });
      union.sort((x, y) => y - x);
      const total = frequencies.reduce((s, f) => s + f.multiplicity, 0);
      const summary = summarize(union);
      return {
        similarity: summary.mean,
        mean98: summary.mean98,
        meanSquared: summary.meanSquared,
        rho: summary.rho,
        kept,
        neurons: [channelsA * total, channelsB * total],
        dropped,
        clipped: [0, 0],
        spectra: options.metric === 'svcca' ? [spectra[0].sort((x, y) => y - x), spectra[1].sort((x, y) => y - x)] : null,
        frequencies: total,
      };
    } finally {
      if (!rt.lost) rt.release(cross);
    }
  }

  /**
   * PWCCA (src/math/pwcca.ts is the float64 twin): all pairs' T = Z_a Z_bᵀ from one product; per pair
   * the small SVD, the side with fewer kept neurons and its rotation on the CPU in float64; then on
   * the GPU the directions D over the datapoints, G = D Dᵀ and M = D Xcᵀ; the weights α = row sums of
   * |L⁻¹ M| (G = L Lᵀ: Gram–Schmidt in order) back in float64. D's rows have zero mean, so M against
   * centred neurons equals the reference's against uncentred ones.
   */
  private async comparePwcca(a: GpuCcaFactor[], b: GpuCcaFactor[], options: AnalysisOptions, signal?: AbortSignal): Promise<PairNumbers[][]> {
    const { t, rowsA, rowsB, offsetsA, offsetsB, release } = this.stackedCross(a, b, (f) => f.z.buffer, 'pwcca');
    try {
      const cross = await this.runtime.read(t, Math.max(1, rowsA * rowsB) * 4, 'pwcca.cross');
      const grid: PairNumbers[][] = a.map(() => []);
      for (let i = 0; i < a.length; i++) {
        for (let j = 0; j < b.length; j++) {
          checkAborted(signal);
          const block = { rows: a[i].rows, cols: b[j].rows, data: new Float64Array(a[i].rows * b[j].rows) };
          for (let r = 0; r < block.rows; r++) for (let c = 0; c < block.cols; c++) block.data[r * block.cols + c] = cross[(offsetsA[i] + r) * rowsB + offsetsB[j] + c];
          grid[i][j] = await this.pwccaPair(a[i], b[j], svdOfCross(block), options);
        }
      }
      return grid;
    } finally {
      release();
    }
  }

  private async pwccaPair(fa: GpuCcaFactor, fb: GpuCcaFactor, svd: CcaSvd, options: AnalysisOptions): Promise<PairNumbers> {
    const rt = this.runtime;
    const m = fa.datapoints;
    const side = fa.keptDims <= fb.keptDims ? 'x' : 'y';
    const own = side === 'x' ? fa : fb;
    const extras = own.pwcca!;
    const count = own.keptDims;
    const r = svd.values.length;
    const rho = new Array<number>(Math.min(fa.keptDims, fb.keptDims)).fill(0);
    for (let i = 0; i < Math.min(r, rho.length); i++) rho[i] = svd.values[i];
    const base: PairNumbers = {
      similarity: 0,
      mean98: null,
      meanSquared: null,
      rho,
      kept: [fa.keptDims, fb.keptDims],
      neurons: [fa.neurons, fb.neurons],
      dropped: [fa.dropped, fb.dropped],
      clipped: [fa.clipped, fb.clipped],
      spectra: null,
      frequencies: null,
    };
    const summary = summarize(rho);
    if (count === 0 || rho.length === 0) return { ...base, mean98: summary.mean98, meanSquared: summary.meanSquared };
    const ownVectors = side === 'x' ? svd.left : svd.right; // r × own.rows
    const n = own.neurons;
    // D = R · S over the datapoints: S = the centred neurons (reference) or the whitened rows Z (paper).
    let rotation: Float32Array;
    let rowsOfD: number;
    let source: { buffer: GPUBuffer; row: number; rows: number };
    if (options.pwccaVariant === 'reference') {
      const complete = completeRotation(ownVectors, extras.basis, own.rows, r); // count × count, kept-neuron coordinates
      rowsOfD = count;
      rotation = new Float32Array(count * n);
      for (let i = 0; i < count; i++) for (let t = 0; t < count; t++) rotation[i * n + extras.kept[t]] = complete.data[i * count + t];
      source = { buffer: extras.x.buffer, row: extras.xRow, rows: n };
    } else {
      rowsOfD = r;
      rotation = Float32Array.from(ownVectors.data.subarray(0, r * own.rows));
      source = { buffer: own.z.buffer, row: own.rowOffset, rows: own.rows };
    }
    const rotationBuffer = rt.upload(rotation, 'pwcca.rotation');
    const directions = rt.zeros(rowsOfD * m * 4, 'pwcca.directions');
    const gram = rt.zeros(rowsOfD * rowsOfD * 4, 'pwcca.gram');
    const projections = rt.zeros(rowsOfD * n * 4, 'pwcca.projections');
    try {
      runProducts(rt, rotationBuffer, source.buffer, directions, [{ aOffset: 0, bOffset: source.row * m, cOffset: 0, p: rowsOfD, q: m, k: source.rows, lda: source.rows, ldb: m, ldc: m, transB: true }], 'pwcca.directions');
      runProducts(rt, directions, directions, gram, [{ aOffset: 0, bOffset: 0, cOffset: 0, p: rowsOfD, q: rowsOfD, k: m, lda: m, ldb: m, ldc: rowsOfD }], 'pwcca.gram');
      runProducts(rt, directions, extras.x.buffer, projections, [{ aOffset: 0, bOffset: extras.xRow * m, cOffset: 0, p: rowsOfD, q: n, k: m, lda: m, ldb: m, ldc: n }], 'pwcca.projections');
      const g = await rt.read(gram, rowsOfD * rowsOfD * 4, 'pwcca.gram');
      const mAll = await rt.read(projections, rowsOfD * n * 4, 'pwcca.projections');
      const keptProjections = { rows: rowsOfD, cols: count, data: new Float64Array(rowsOfD * count) };
      for (let i = 0; i < rowsOfD; i++) for (let t = 0; t < count; t++) keptProjections.data[i * count + t] = mAll[i * n + extras.kept[t]];
      const weights = weightsFromGram({ rows: rowsOfD, cols: rowsOfD, data: Float64Array.from(g) }, keptProjections);
      const total = weights.reduce((s, w) => s + w, 0);
      let similarity = 0;
      weights.forEach((w, i) => (similarity += (total > 0 ? w / total : 0) * (rho[i] ?? 0)));
      return { ...base, similarity, mean98: summary.mean98, meanSquared: summary.meanSquared };
    } finally {
      for (const buffer of [rotationBuffer, directions, gram, projections]) rt.release(buffer);
    }
  }

  private async compareCka(a: GpuCkaFactor[], b: GpuCkaFactor[], options: AnalysisOptions): Promise<PairNumbers[][]> {
    const { t, rowsA, rowsB, offsetsA, offsetsB, release } = this.stackedCross(a, b, (f) => f.x.buffer, 'cka');
    try {
      const values = await this.runtime.read(t, Math.max(1, rowsA * rowsB) * 4, 'cka.cross');
      const debiased = options.metric === 'cka-debiased';
      return a.map((fa, i) =>
        b.map((fb, j) => {
          let crossDot = 0;
          for (let r = 0; r < fa.rows; r++) {
            for (let c = 0; c < fb.rows; c++) crossDot += values[(offsetsA[i] + r) * rowsB + offsetsB[j] + c] ** 2;
          }
          return {
            similarity: ckaFromStatistics(crossDot, fa, fb, debiased),
            mean98: null,
            meanSquared: null,
            rho: [],
            kept: [fa.neurons, fb.neurons],
            neurons: [fa.neurons, fb.neurons],
            dropped: [0, 0],
            clipped: [0, 0],
            spectra: null,
            frequencies: null,
          };
        }),
      );
    } finally {
      release();
    }
  }
}



/**
 * How the engine gets a WebGPU backend from a `GPU` object (navigator.gpu in the browser worker,
 * the `webgpu` package in Node). `onLost` hears about an unexpected device loss (not a destroy).
 */
export function webgpuBackendFactory(getGpu: () => Promise<GPU | undefined | null>, onLost?: (message: string) => void): GpuBackendFactory {
  return async () => {
    const outcome = await acquireDevice(await getGpu());
    if (outcome.kind !== 'ok') return { error: outcome.message };
    const runtime = new GpuRuntime(outcome.device, (message) => {
      forgetGpuBackend(); // the next job asks for a fresh adapter
      onLost?.(message);
    });
    runtime.software = outcome.fallback;
    return { backend: new GpuBackend(runtime), fallback: outcome.fallback, adapter: outcome.adapterName };
  };
}
