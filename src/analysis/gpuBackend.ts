// The WebGPU backend: the same contract as the float64 CPU backend (src/analysis/backend.ts), with the
// heavy products in f32 and every number within PRECISION_CONTRACT of float64 (src/analysis/precision.ts).
//
// Shapes: every representation is n neurons × m datapoints, row-major. Per grid side (one checkpoint's
// layers) the work is batched:
//   1. centre on the CPU in float64 while converting to f32 (exact means, one pass), stack all layers
//      into one buffer;
//   2. Gram matrices G_i = Xc_i Xc_iᵀ of every layer in one batched product dispatch (f32: each entry's
//      round-off is relative to ‖x_a‖‖x_b‖, so neuron scales cost nothing here);
//   3. on the host in float64: cca_core's rescaling and ε pruning, then the eigendecomposition of the
//      equilibrated correlation matrix R = D⁻¹ G D⁻¹ + ε·xmax·D⁻² (CCA, PWCCA: exact for every
//      CCA-family metric, and what float32 resolves no longer depends on the neurons' scales) or of G
//      (SVCCA: sort, choose k by 99% of Σs² or fixed); whitening rows W₀;
//   4. Z₀ = W₀ Xc for every layer in one batched product;
//   5. the refinement: C = Z₀ Z₀ᵀ (one batched product; well-conditioned by construction) plus the ε
//      term, C = L Lᵀ by Cholesky in float64, Z = L⁻¹ Z₀ (one batched product): Z Zᵀ = I to f32
//      round-off of a well-conditioned matrix, whatever the layer's conditioning;
//   6. the conditioning measured on the way (precision.ts) decides, per representation, whether these
//      numbers keep the contract; a representation that does not runs on the float64 path, and the
//      pairs it takes part in say so.
// A grid of pairs is then one product T = [Z_a1; Z_a2; …] [Z_b1; Z_b2; …]ᵀ, one batched Gram of the
// pair blocks (T_ij T_ijᵀ, the smaller side) and one batched Jacobi for all pairs' singular values.
// CKA uses the centred data itself: one product for all pairs' cross-covariances. Conv layers through
// the DFT are cut into per-frequency blocks on the GPU and factored as above (see compareDft).
// Layers wider than their datapoints and work beyond this device's limits run on the float64 path;
// each such pair carries `fallback` (the reason), which the engine turns into a warning.

import { embedFrequencyBlocks, jacobiEigenBatch, runProducts, spectrumOf, type ConvDims } from '../gpu/ops';
import { globalKeep, halve, sharedFrequencies, type SharedFrequency } from '../math/dft';
import type { ProductBatch } from '../gpu/kernels/product';
import { chooseK, CLIP_TOLERANCE_F64, summarize, svdOfCross, type CcaSvd } from '../math/cca';
import { completeRotation, orthonormalizeRows, weightsFromGram } from '../math/pwcca';
import { ckaFromStatistics } from '../math/cka';
import { multiply, type Matrix } from '../math/matrix';
import { denseAsConv, reduceToMatrix, type Representation } from '../math/reduce';
import { checkAborted, forgetGpuBackend, type ComputeBackend, type GpuBackendFactory } from './backend';
import { compareFactors, factorize, type Factor, type PairNumbers } from './metrics';
import type { AnalysisOptions } from './types';
import { acquireDevice } from '../gpu/device';
import { symmetricEigen, type EigenResult } from '../math/eigen';
import { cholesky, invert, invertLower, polarFactor } from '../math/whitening';
import { gpuVerdict, pwccaPairVerdict, type Conditioning, type Verdict } from './precision';
import { GpuLimitError, GpuRuntime } from '../gpu/runtime';

/** float64's null floor (src/math/cca.ts): the GPU path mirrors it on float64 eigenvalues. */
const F64_NULL_FLOOR = CLIP_TOLERANCE_F64;

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
  /** keptDims × keptDims orthogonal: row a maps Z's coordinate a to the symmetric whitening's (cca_core's) coordinates. */
  basis: Matrix;
  /** keptDims × rows, float64: the kept centred neurons in an orthonormal basis of Z's row space (Xc_kept = F·Z̃, Z̃ Z̃ᵀ = I). */
  neurons: Matrix;
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

/** Work this backend hands to the float64 path (n > m, beyond the device's limits, or a conditioning float32 does not resolve). */
interface CpuFallbackFactor {
  kind: 'cpu';
  factor: Factor;
  rep: Representation;
  reason: string;
  /** True when the precision rule (precision.ts) sent this representation to float64: pairs with it say so per side. */
  conditioning?: boolean;
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

/** One matrix's factor as factorStacked returns it (Z rows at `rowOffset` of the shared buffer). */
interface FactorPlan {
  rowOffset: number;
  rows: number;
  keptDims: number;
  dropped: number;
  clipped: number;
  spectrum: number[] | null;
  /** Input rows kept by the ε pruning. */
  kept: number[];
  /** PWCCA: kept × kept orthogonal map from Z's coordinates to the symmetric whitening's (empty otherwise). */
  basis: Matrix;
  /** PWCCA: kept × rows, Xc_kept = neurons · Z̃ with Z̃ orthonormal (empty otherwise). */
  neurons: Matrix;
  /** Whether these numbers keep the precision contract (src/analysis/precision.ts). */
  verdict: Verdict;
}

/** CCA's float64 host step: ε pruning and the eigendecomposition of the equilibrated kept block. */
interface CcaDraft {
  kind: 'cca';
  size: number;
  /** max |G| (cca_core's xmax times m − 1). */
  gmax: number;
  kept: number[];
  /** Kept rows that are not identically zero (the rest are exact null directions). */
  live: number[];
  /** √G_ii of the live rows. */
  scales: Float64Array;
  eigen: EigenResult | null;
  conditioning: Omit<Conditioning, 'refinementPivot'>;
}

/** SVCCA's float64 host step: the eigendecomposition of the Gram matrix. */
interface SvdDraft {
  kind: 'svd';
  size: number;
  eigen: EigenResult;
  /** λ_i = g_i / (m − 1), descending, clamped at 0. */
  spectrum: number[];
  datapoints: number;
}

/** W₀ (rows × size, float64) with what the refinement and the verdict need. */
interface Whitening {
  rows: number;
  projection: Float64Array;
  /** Added to Z₀ Z₀ᵀ as ridge · W₀ W₀ᵀ: cca_core's ε·I in Gram units. */
  ridge: number;
  /** Positions (in `kept`) of the rows W₀ whitens; the others are identically zero. */
  live: number[];
  keptDims: number;
  dropped: number;
  kept: number[];
  spectrum: number[] | null;
  conditioning: Omit<Conditioning, 'refinementPivot'>;
}

const identity = (k: number): Matrix => {
  const out: Matrix = { rows: k, cols: k, data: new Float64Array(k * k) };
  for (let i = 0; i < k; i++) out.data[i * k + i] = 1;
  return out;
};

/**
 * G (size × size, float64 copy of the f32 Gram of centred rows) → CCA's pruning and the
 * eigendecomposition of the equilibrated kept block. Kept rows whose Gram diagonal is exactly 0 are
 * identically zero (f32 keeps every float64 value above 1e-38), so float64 sees exact null
 * directions there too: they are left out of R and count as clipped.
 */
function draftCca(g: Float64Array, size: number, m: number, epsilon: number): CcaDraft {
  let gmax = 0;
  for (let i = 0; i < g.length; i++) gmax = Math.max(gmax, Math.abs(g[i]));
  const kept: number[] = [];
  let epsilonMargin = Infinity;
  let diagMax = 0;
  for (let i = 0; i < size; i++) diagMax = Math.max(diagMax, g[i * size + i]);
  for (let i = 0; i < size; i++) {
    const ratio = gmax > 0 ? g[i * size + i] / gmax : 0;
    if (gmax > 0 && ratio >= epsilon) kept.push(i);
    if (epsilon > 0 && ratio > 0) epsilonMargin = Math.min(epsilonMargin, Math.abs(Math.log(ratio / epsilon)));
  }
  const live = kept.filter((i) => g[i * size + i] > 0); // in kept order
  const nullNeurons = live.filter((i) => !(g[i * size + i] > F64_NULL_FLOOR * diagMax)).length;
  const k = live.length;
  const scales = Float64Array.from(live, (i) => Math.sqrt(g[i * size + i]));
  const base = { metric: 'cca' as const, datapoints: m, cutMargin: Infinity, gap: Infinity, epsilonMargin, nullNeurons };
  if (k === 0 || nullNeurons > 0) return { kind: 'cca', size, gmax, kept, live, scales, eigen: null, conditioning: { ...base, smallestKept: 1, varianceSpread: 1, floorRatio: 1 } };
  // R + E: the correlation matrix of the live kept rows, with cca_core's ε as the diagonal ε·xmax/Σ_ii.
  const r: Matrix = { rows: k, cols: k, data: new Float64Array(k * k) };
  let smallestVariance = Infinity;
  let largestVariance = 0;
  for (let a = 0; a < k; a++) {
    const gaa = g[live[a] * size + live[a]];
    smallestVariance = Math.min(smallestVariance, gaa);
    largestVariance = Math.max(largestVariance, gaa);
    for (let b = 0; b < k; b++) r.data[a * k + b] = g[live[a] * size + live[b]] / (scales[a] * scales[b]);
    r.data[a * k + a] = 1 + (epsilon * gmax) / gaa;
  }
  const eigen = symmetricEigen(r);
  const top = eigen.values[0];
  return {
    kind: 'cca',
    size,
    gmax,
    kept,
    live,
    scales,
    eigen,
    // floorRatio is set with W₀ (whitenCca).
    conditioning: { ...base, smallestKept: top > 0 ? Math.max(eigen.values[k - 1], 0) / top : 0, varianceSpread: smallestVariance / largestVariance, floorRatio: 1 },
  };
}

/** W₀ = M^-½ Uᵀ D⁻¹ over the live kept rows (R + E = U M Uᵀ, D = diag √G_ii): Z₀ = W₀ Xc has Z₀ Z₀ᵀ ≈ I. */
function whitenCca(draft: CcaDraft, epsilon: number): Whitening {
  const { size, kept, live, scales, eigen } = draft;
  const rows = eigen && draft.conditioning.smallestKept > 0 ? live.length : 0;
  const projection = new Float64Array(rows * size);
  for (let i = 0; i < rows; i++) {
    const w = 1 / Math.sqrt(eigen!.values[i]);
    for (let t = 0; t < live.length; t++) projection[i * size + live[t]] = (w * eigen!.vectors.data[i * live.length + t]) / scales[t];
  }
  const livePositions = live.map((row) => kept.indexOf(row));
  // W₀ᵀ W₀ = (G + ridge)⁻¹ on the live rows, so 1/‖W₀‖²_F ≤ λ_min(G + ridge): a lower bound on
  // the smallest direction float64 sees, relative to trace G ≥ λ_max.
  const ridge = epsilon * draft.gmax;
  let frobenius = 0;
  for (let i = 0; i < projection.length; i++) frobenius += projection[i] ** 2;
  let trace = 0;
  for (const s of scales) trace += s * s;
  const floorRatio = rows > 0 && frobenius > 0 ? (1 / frobenius - ridge) / trace : draft.conditioning.floorRatio;
  return { rows, projection, ridge, live: livePositions, keptDims: kept.length, dropped: size - kept.length, kept, spectrum: null, conditioning: { ...draft.conditioning, floorRatio } };
}

function draftSvd(g: Float64Array, size: number, m: number): SvdDraft {
  const eigen = symmetricEigen({ rows: size, cols: size, data: g });
  return { kind: 'svd', size, eigen, spectrum: Array.from(eigen.values, (v) => Math.max(v, 0) / (m - 1)), datapoints: m };
}

/**
 * SVCCA: the first k eigenvectors, scaled as cca_core's CCA of the reduced rows scales them
 * (1 / √(g_i + ε·g_1)); ε pruning and float64's null floor on the kept directions. `ownCut`: k came
 * from this matrix's own 99% rule (not the DFT's global one), so its margin can be judged here.
 */
function whitenSvd(draft: SvdDraft, k: number, options: AnalysisOptions, ownCut: boolean): Whitening {
  const { spectrum, eigen, size } = draft;
  const top = Math.max(spectrum[0] ?? 0, 0);
  let keptDims = 0;
  while (keptDims < k && top > 0 && spectrum[keptDims] / top >= options.epsilon) keptDims++;
  let rows = 0;
  while (rows < keptDims && spectrum[rows] / top > F64_NULL_FLOOR) rows++;
  const g0 = Math.max(eigen.values[0], 0);
  const projection = new Float64Array(rows * size);
  for (let i = 0; i < rows; i++) {
    const w = 1 / Math.sqrt(Math.max(eigen.values[i], 0) + options.epsilon * g0);
    for (let t = 0; t < size; t++) projection[i * size + t] = w * eigen.vectors.data[i * size + t];
  }
  let cutMargin = Infinity;
  if (ownCut && options.keep.kind === 'variance') {
    const total = spectrum.reduce((s, v) => s + v, 0);
    const before = spectrum.slice(0, Math.max(0, k - 1)).reduce((s, v) => s + v, 0);
    const at = before + (k > 0 ? spectrum[k - 1] : 0);
    if (total > 0) cutMargin = Math.min(at / total - options.keep.fraction, options.keep.fraction - before / total);
  }
  const gap = k > 0 && k < spectrum.length && spectrum[k - 1] > 0 ? (spectrum[k - 1] - spectrum[k]) / spectrum[k - 1] : Infinity;
  return {
    rows,
    projection,
    ridge: options.epsilon * g0,
    live: Array.from({ length: rows }, (_, i) => i),
    keptDims,
    dropped: k - keptDims,
    kept: Array.from({ length: size }, (_, i) => i),
    spectrum,
    conditioning: {
      metric: 'svcca',
      datapoints: draft.datapoints,
      smallestKept: rows > 0 && top > 0 ? spectrum[rows - 1] / top : 1,
      varianceSpread: 1,
      floorRatio: rows > 0 && top > 0 ? spectrum[rows - 1] / top : 1,
      epsilonMargin: Infinity,
      cutMargin,
      gap,
      nullNeurons: 0,
    },
  };
}

export class GpuBackend implements ComputeBackend<GpuFactor> {
  readonly kind = 'webgpu' as const;
  /** Float64 factors of GPU factors that met a pair the GPU does not handle (compareOnCpu); they
   *  go with their GPU factor (a factor belongs to one job, so to one set of options). */
  private readonly cpuTwins = new WeakMap<GpuFactor, Factor>();
  readonly precision = 'float32' as const;
  /** Wall-clock seconds spent on what the precision contract adds (for the benchmark): the host's
   *  float64 eigendecompositions, and the refinement (Z₀'s Gram, its read-back, Cholesky, Z = L⁻¹ Z₀). */
  readonly precisionWork = { hostEigenSeconds: 0, refineSeconds: 0 };
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
      const { z, plans } = await this.factorStacked(chunks, gram, matrices.map((mat) => mat.rows), stacked.rowOffsets, m, padded, ccaOptions, undefined, pwcca);
      // A representation whose conditioning float32 does not resolve runs in float64 (precision.ts).
      const onGpu = plans.filter((plan) => plan.verdict.gpu).length;
      const shared: SharedBuffer = { buffer: z, references: onGpu };
      const centred: SharedBuffer | null = pwcca ? { buffer: x, references: onGpu } : null;
      if (onGpu === 0) {
        this.runtime.release(z);
        if (pwcca) this.runtime.release(x);
      }
      return plans.map(({ kept, basis, neurons, verdict, ...plan }, b): GpuFactor => {
        if (!verdict.gpu) return { kind: 'cpu', factor: factorize(reps[b], options, false), rep: reps[b], reason: verdict.reason, conditioning: true };
        return {
          kind: 'gpu-cca',
          z: shared,
          ...plan,
          neurons: matrices[b].rows,
          datapoints: m,
          rep: reps[b],
          ...(centred ? { pwcca: { x: centred, xRow: stacked.rowOffsets[b], kept, basis, neurons } } : {}),
        };
      });
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
    pwcca = false,
  ): Promise<{ z: GPUBuffer; plans: FactorPlan[] }> {
    const rt = this.runtime;
    const count = sizes.length;
    const grams = await rt.read(gram, count * padded * padded * 4, 'factor.gram');
    rt.release(gram);
    const cca = options.metric !== 'svcca';
    // Step 3 on the host in float64 (see the module comment): the eigendecomposition of the
    // equilibrated correlation matrix (CCA) or of the Gram itself (SVCCA).
    const eigenStarted = performance.now();
    const drafts = sizes.map((size, b) => {
      const g = new Float64Array(size * size);
      for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) g[i * size + j] = grams[b * padded * padded + i * padded + j];
      return cca ? draftCca(g, size, m, options.epsilon) : draftSvd(g, size, m);
    });
    this.precisionWork.hostEigenSeconds += (performance.now() - eigenStarted) / 1000;
    const svdDrafts = drafts as SvdDraft[];
    const ks = cca ? [] : keeps ? keeps(svdDrafts.map((d) => d.spectrum)) : svdDrafts.map((d) => chooseK(d.spectrum, options.keep));
    const whitenings = drafts.map((draft, b) => (cca ? whitenCca(draft as CcaDraft, options.epsilon) : whitenSvd(draft as SvdDraft, ks[b], options, keeps === undefined)));
    // Step 4: Z₀ = W₀ Xc for every matrix in one batched product.
    const projectionData = new Float32Array(Math.max(1, whitenings.reduce((s, w, b) => s + w.rows * sizes[b], 0)));
    const projectionOffsets: number[] = [];
    const zOffsets: number[] = [];
    let pOffset = 0;
    let zRow = 0;
    whitenings.forEach((w, b) => {
      projectionOffsets.push(pOffset);
      zOffsets.push(zRow);
      for (let i = 0; i < w.rows; i++) for (let t = 0; t < sizes[b]; t++) projectionData[pOffset + i * sizes[b] + t] = w.projection[i * sizes[b] + t];
      pOffset += w.rows * sizes[b];
      zRow += w.rows;
    });
    const projection = rt.upload(projectionData, 'factor.projection');
    const z0 = rt.zeros(Math.max(1, zRow) * m * 4, 'factor.whitened-draft');
    for (const chunk of chunks) {
      // Z₀'s columns [column0, column0 + columns) from this chunk of datapoints.
      const batches: ProductBatch[] = whitenings
        .map((w, b) => ({
          aOffset: projectionOffsets[b],
          bOffset: rowOffsets[b] * chunk.columns,
          cOffset: zOffsets[b] * m + chunk.column0,
          p: w.rows,
          q: chunk.columns,
          k: sizes[b],
          lda: sizes[b],
          ldb: chunk.columns,
          ldc: m,
          transB: true, // op(B) = Xcᵀ (columns × n): Z₀ = W₀ · Xc
        }))
        .filter((batch) => batch.p > 0);
      if (batches.length > 0) runProducts(rt, projection, chunk.buffer, z0, batches, 'factor.whiten');
    }
    rt.release(projection);
    // Step 5 of the module comment, the refinement: C = Z₀ Z₀ᵀ (+ the ε term) in float64, C = L Lᵀ, Z = L⁻¹ Z₀.
    const refineStarted = performance.now();
    const refinePadded = even(Math.max(2, ...whitenings.map((w) => w.rows)));
    const cBuffer = rt.zeros(count * refinePadded * refinePadded * 4, 'factor.refine-gram');
    const gramBatches: ProductBatch[] = whitenings
      .map((w, b) => ({ aOffset: zOffsets[b] * m, bOffset: zOffsets[b] * m, cOffset: b * refinePadded * refinePadded, p: w.rows, q: w.rows, k: m, lda: m, ldb: m, ldc: refinePadded }))
      .filter((batch) => batch.p > 0);
    if (gramBatches.length > 0) runProducts(rt, z0, z0, cBuffer, gramBatches, 'factor.refine-gram');
    const cs = await rt.read(cBuffer, count * refinePadded * refinePadded * 4, 'factor.refine-gram');
    rt.release(cBuffer);
    const inverses: Float32Array[] = [];
    const plans: FactorPlan[] = whitenings.map((w, b) => {
      const r = w.rows;
      const c: Matrix = { rows: r, cols: r, data: new Float64Array(r * r) };
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < r; j++) {
          let v = cs[b * refinePadded * refinePadded + i * refinePadded + j];
          if (w.ridge > 0) {
            // + ridge · W₀ W₀ᵀ: the ε·I that cca_core adds to Σ̃, in Z₀'s coordinates.
            let dot = 0;
            for (let t = 0; t < sizes[b]; t++) dot += w.projection[i * sizes[b] + t] * w.projection[j * sizes[b] + t];
            v += w.ridge * dot;
          }
          c.data[i * r + j] = v;
        }
      }
      const { l, pivotRatio } = cholesky(c);
      const lInverse = l ? invertLower(l) : identity(r);
      inverses.push(Float32Array.from(lInverse.data));
      const conditioning: Conditioning = { ...w.conditioning, refinementPivot: r === 0 ? 1 : pivotRatio };
      let verdict = gpuVerdict(conditioning);
      let basis: Matrix = { rows: 0, cols: 0, data: new Float64Array(0) };
      let neurons: Matrix = { rows: 0, cols: 0, data: new Float64Array(0) };
      if (pwcca && verdict.gpu && r > 0) {
        // cca_core's rotation lives in the symmetric whitening's coordinates: Σ̃^-½ = Qᵀ B with
        // B = L⁻¹ W₀ (live kept coordinates) and Q its orthogonal polar factor. Identically zero
        // rows are float64's clipped directions: their unit vectors complete the basis.
        const kept = w.kept.length;
        const live = w.live;
        if (live.length === r) {
          const bMatrix: Matrix = { rows: r, cols: r, data: new Float64Array(r * r) };
          for (let i = 0; i < r; i++) {
            for (let t = 0; t < r; t++) {
              let v = 0;
              for (let s = 0; s <= i; s++) v += lInverse.data[i * r + s] * w.projection[s * sizes[b] + w.kept[live[t]]];
              bMatrix.data[i * r + t] = v;
            }
          }
          const q = polarFactor(bMatrix);
          const inverse = invert(bMatrix);
          // Z Zᵀ = I − ridge·B Bᵀ = N Nᵀ, so Z̃ = N⁻¹ Z is orthonormal and Xc_live = B⁻¹ N Z̃.
          const shrink: Matrix = { rows: r, cols: r, data: new Float64Array(r * r) };
          for (let i = 0; i < r; i++) {
            for (let j = 0; j < r; j++) {
              let dot = 0;
              for (let t = 0; t < r; t++) dot += bMatrix.data[i * r + t] * bMatrix.data[j * r + t];
              shrink.data[i * r + j] = (i === j ? 1 : 0) - w.ridge * dot;
            }
          }
          const n = cholesky(shrink).l;
          if (q && inverse && n) {
            basis = { rows: kept, cols: kept, data: new Float64Array(kept * kept) };
            for (let i = 0; i < r; i++) for (let t = 0; t < r; t++) basis.data[i * kept + live[t]] = q.data[i * r + t];
            let row = r;
            for (let t = 0; t < kept; t++) if (!live.includes(t)) basis.data[row++ * kept + t] = 1;
            neurons = { rows: kept, cols: r, data: new Float64Array(kept * r) };
            for (let t = 0; t < r; t++) {
              for (let j = 0; j < r; j++) {
                let v = 0;
                for (let s = j; s < r; s++) v += inverse.data[t * r + s] * n.data[s * r + j];
                neurons.data[live[t] * r + j] = v;
              }
            }
          }
        }
      }
      if (pwcca && verdict.gpu && r > 0 && neurons.rows === 0) verdict = { gpu: false, estimatedError: verdict.estimatedError, reason: 'the whitened layer is numerically rank-deficient in float32' };
      return {
        rowOffset: zOffsets[b],
        rows: r,
        keptDims: w.keptDims,
        dropped: w.dropped,
        clipped: w.keptDims - r,
        spectrum: w.spectrum,
        kept: w.kept,
        basis,
        neurons,
        verdict,
      };
    });
    // Z = L⁻¹ Z₀ per matrix (one batched product), into the factor's buffer.
    const inverseData = new Float32Array(Math.max(1, inverses.reduce((s, x) => s + x.length, 0)));
    const inverseOffsets: number[] = [];
    let iOffset = 0;
    for (const x of inverses) {
      inverseOffsets.push(iOffset);
      inverseData.set(x, iOffset);
      iOffset += x.length;
    }
    const inverseBuffer = rt.upload(inverseData, 'factor.refine-inverse');
    const z = rt.zeros(Math.max(1, zRow) * m * 4, 'factor.whitened');
    const refineBatches: ProductBatch[] = whitenings
      .map((w, b) => ({ aOffset: inverseOffsets[b], bOffset: zOffsets[b] * m, cOffset: zOffsets[b] * m, p: w.rows, q: m, k: w.rows, lda: w.rows, ldb: m, ldc: m, transB: true }))
      .filter((batch) => batch.p > 0);
    if (refineBatches.length > 0) runProducts(rt, inverseBuffer, z0, z, refineBatches, 'factor.refine');
    rt.release(inverseBuffer);
    rt.release(z0);
    await rt.settle();
    this.precisionWork.refineSeconds += (performance.now() - refineStarted) / 1000;
    return { z, plans };
  }

  async compareGrid(a: GpuFactor[], b: GpuFactor[], options: AnalysisOptions, onPairs?: (count: number) => void, signal?: AbortSignal): Promise<PairNumbers[][]> {
    this.runtime.checkAlive();
    // Representations the precision rule sent to float64: their pairs run there, the rest on the GPU.
    const toCpu = (f: GpuFactor) => f.kind === 'cpu' && f.conditioning === true;
    if (!a.some(toCpu) && !b.some(toCpu)) return this.compareUniform(a, b, options, onPairs, signal);
    const onGpuA = a.flatMap((f, i) => (toCpu(f) ? [] : [i]));
    const onGpuB = b.flatMap((f, j) => (toCpu(f) ? [] : [j]));
    const sub = onGpuA.length > 0 && onGpuB.length > 0 ? await this.compareUniform(onGpuA.map((i) => a[i]), onGpuB.map((j) => b[j]), options, undefined, signal) : [];
    const grid = a.map((fa, i) =>
      b.map((fb, j): PairNumbers => {
        const si = onGpuA.indexOf(i);
        const sj = onGpuB.indexOf(j);
        if (si >= 0 && sj >= 0) return sub[si][sj];
        checkAborted(signal);
        const numbers = compareFactors(this.cpuFactor(fa, options), this.cpuFactor(fb, options), options);
        const why = (f: GpuFactor) => (f.kind === 'cpu' && toCpu(f) ? f.reason : null);
        return { ...numbers, fallbackSides: [why(fa), why(fb)] };
      }),
    );
    onPairs?.(a.length * b.length);
    return grid;
  }

  /** A factor's float64 twin, made once: a dynamics job meets the reference side at every step. */
  private cpuFactor(f: GpuFactor, options: AnalysisOptions): Factor {
    if (f.kind === 'cpu') return f.factor;
    let twin = this.cpuTwins.get(f);
    if (!twin) this.cpuTwins.set(f, (twin = factorize(f.rep, options, f.kind === 'gpu-dft')));
    return twin;
  }

  private async compareUniform(a: GpuFactor[], b: GpuFactor[], options: AnalysisOptions, onPairs?: (count: number) => void, signal?: AbortSignal): Promise<PairNumbers[][]> {
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
    const fa = a.map((f) => this.cpuFactor(f, options));
    const fb = b.map((f) => this.cpuFactor(f, options));
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
          .map((g) => Math.min(1, Math.sqrt(Math.max(g, 0)))) // a correlation: f32 round-off can push it past 1;
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
        // A frequency block whose conditioning float32 does not resolve sends the pair to float64 (precision.ts).
        const why = (set: DftBlockSet) => set.plans.find((plan) => !plan.verdict.gpu)?.verdict;
        const [whyA, whyB] = [why(setA), why(setB)];
        if (whyA || whyB) {
          const numbers = compareFactors(this.cpuFactor(a[i], options), this.cpuFactor(b[j], options), options);
          const reason = (v: typeof whyA) => (v && !v.gpu ? v.reason : null);
          grid[i][j] = { ...numbers, fallbackSides: [reason(whyA), reason(whyB)] };
        } else {
          grid[i][j] = await this.dftPair(setA, setB, frequencies, a[i].dims.c, b[j].dims.c, 2 * a[i].dims.n, options, signal);
        }
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
          .map((g) => Math.min(1, Math.sqrt(Math.max(g, 0)))) // a correlation: f32 round-off can push it past 1;
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
          const svd = svdOfCross(block);
          const verdict = pwccaPairVerdict(svd.values, Math.min(a[i].keptDims, b[j].keptDims), a[i].datapoints);
          grid[i][j] = verdict.gpu
            ? await this.pwccaPair(a[i], b[j], svd, options)
            : { ...compareFactors(this.cpuFactor(a[i], options), this.cpuFactor(b[j], options), options), fallbackPair: verdict.reason };
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
      // All in float64 on the host, from the factor (no GPU pass): the directions D = U·Xc_kept are
      // A·Z̃ with A = U·F and Z̃ orthonormal, so Gram–Schmidt of D's rows is Gram–Schmidt of A's, and
      // ⟨q_i, x_j⟩ = (GS(A)·Fᵀ)_ij. The centred neurons' f32 Gram never enters, so an ill-conditioned
      // layer (m close to n) keeps the weights' precision. D's rows have zero mean: uncentred = centred.
      const complete = completeRotation(ownVectors, extras.basis, own.rows, r); // count × count, kept-neuron coordinates
      const f = extras.neurons; // count × rows
      const a = multiply(complete, f);
      const q = orthonormalizeRows(a);
      const weights = new Array<number>(count).fill(0);
      for (let i = 0; i < count; i++) {
        for (let j = 0; j < count; j++) {
          let dot = 0;
          for (let t = 0; t < f.cols; t++) dot += q.data[i * f.cols + t] * f.data[j * f.cols + t];
          weights[i] += Math.abs(dot);
        }
      }
      const total = weights.reduce((s, w) => s + w, 0);
      let similarity = 0;
      weights.forEach((w, i) => (similarity += (total > 0 ? w / total : 0) * (rho[i] ?? 0)));
      return { ...base, similarity, mean98: summary.mean98, meanSquared: summary.meanSquared };
    }
    {
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
