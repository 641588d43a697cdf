// The GPU backend's vocabulary: its factors (what one representation leaves on the GPU for the
// pairs it takes part in) and the job every step works within.
//
// Shapes: every representation is n neurons × m datapoints, row-major; rows of one grid side are
// stacked in one buffer, and a factor names its rows by offset.

import type { Matrix } from '../../math/matrix';
import type { Conv, Representation } from '../../math/reduce';
import type { CentredStack } from '../../math/stack';
import type { ConvDims } from '../../gpu/ops';
import type { BufferLedger, GpuRuntime } from '../../gpu/runtime';
import type { Factor } from '../metrics';
import type { HostPool } from '../pool/gramHost';
import type { Verdict } from '../precision';
import type { AnalysisOptions } from '../types';

/** A buffer shared by the factors of one batch, freed when the last of them is released. */
export interface SharedBuffer {
  buffer: GPUBuffer;
  references: number;
}

/** What PWCCA needs beyond the CCA factor: the centred rows (on the GPU) and the eigenbasis. */
export interface PwccaExtras {
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

/** One matrix's whitened rows Z (r × m, Z Zᵀ ≈ I) at `rowOffset` of a shared buffer, with what the whitening kept. */
export interface WhitenedRows {
  rowOffset: number;
  /** r: the rows of Z (kept directions that are not null). */
  rows: number;
  keptDims: number;
  dropped: number;
  clipped: number;
  /** SVCCA: λ_i = g_i / (m − 1), descending; null for CCA. */
  spectrum: number[] | null;
}

/** A CCA, SVCCA or PWCCA factor: the whitened rows Z (Z Zᵀ ≈ I) on the GPU. */
export interface GpuCcaFactor extends WhitenedRows {
  kind: 'gpu-cca';
  pwcca?: PwccaExtras;
  /** Holds Z's rows (rows of length m). */
  z: SharedBuffer;
  neurons: number;
  datapoints: number;
  rep: Representation;
}

/** A CKA factor: the centred rows on the GPU and the float64 statistics of src/math/cka.ts. */
export interface GpuCkaFactor {
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

/** One matrix's factor as factorStacked returns it (Z rows at `rowOffset` of the shared buffer). */
export interface FactorPlan extends WhitenedRows {
  /** Input rows kept by the ε pruning. */
  kept: number[];
  /** PWCCA: kept × kept orthogonal map from Z's coordinates to the symmetric whitening's (empty otherwise). */
  basis: Matrix;
  /** PWCCA: kept × rows, Xc_kept = neurons · Z̃ with Z̃ orthonormal (empty otherwise). */
  neurons: Matrix;
  /** Whether these numbers keep the precision contract (src/analysis/precision.ts). */
  verdict: Verdict;
}

/** Matrices factored together (whitening.ts factorStacked): every Z in one buffer, a plan per matrix. */
export interface StackedFactors {
  z: GPUBuffer;
  plans: FactorPlan[];
}

/** A conv layer's 2-D DFT (complex f32 pairs, NHWC) on the GPU; blocks are cut per pair's shared frequencies. */
export interface GpuDftFactor {
  kind: 'gpu-dft';
  spectrum: GPUBuffer;
  dims: ConvDims;
  datapoints: number;
  rep: Representation;
  /** Factored per-frequency blocks, by the frequency list they were cut for (see dft.ts). They
   *  live as long as the factor: the reference side of a dynamics job is cut once, not per step. */
  blockSets: Map<string, StackedFactors>;
}

/** Work this backend hands to the float64 path (n > m, beyond the device's limits, or a conditioning float32 does not resolve). */
export interface CpuFallbackFactor {
  kind: 'cpu';
  factor: Factor;
  rep: Representation;
  reason: string;
  /** True when the precision rule (precision.ts) sent this representation to float64: pairs with it say so per side. */
  conditioning?: boolean;
}

export type GpuFactor = GpuCcaFactor | GpuCkaFactor | GpuDftFactor | CpuFallbackFactor;

/** Stacked rows restricted to the datapoint columns [column0, column0 + columns), on the GPU. */
export interface DataChunk {
  buffer: GPUBuffer;
  column0: number;
  columns: number;
}

/** A grid side centred and stacked on the GPU with its Gram matrices: what a metric's factors start from. */
export interface CentredSide {
  reps: Representation[];
  /** The reduced matrices, n_i × m each. */
  matrices: Matrix[];
  /** Their centred rows on the host (f32) with CKA's statistics. */
  stack: CentredStack;
  /** The centred rows on the GPU, in column chunks (one chunk: the whole data). */
  chunks: DataChunk[];
  /** Gram matrices of every matrix, padded × padded each (consumed by the factors). */
  gram: GPUBuffer;
  m: number;
  padded: number;
}

/** Wall-clock seconds spent on what the precision contract adds (for the benchmark). */
export interface PrecisionWork {
  /**
   * The host's float64 step (whitening.ts step 3: the Grams' float64 copies, eigenvalues, the keep
   * rule, the kept eigenvectors): the wall time the job waited for it, on the CPU pool's threads
   * where the job has more than one (pool/gramHost.ts), so it falls as threads are added.
   */
  hostEigenSeconds: number;
  /** The host's part of the refinement: Z₀'s Gram and its read-back, Cholesky, encoding Z = L⁻¹ Z₀ (whose GPU time goes with the next readback). */
  refineSeconds: number;
}

/** One call into the backend (a grid side's factorisation, a grid of pairs) and what it holds. */
export interface GpuJob {
  readonly rt: GpuRuntime;
  /** The buffers this job acquired and has not handed to a factor: released when the job ends,
   *  however it ends (finished, beyond a limit, cancelled, device lost). */
  readonly own: BufferLedger;
  readonly options: AnalysisOptions;
  readonly signal?: AbortSignal;
  readonly precisionWork: PrecisionWork;
  /** Where the float64 host step runs (pool/gramHost.ts): the registered CPU pool, or null (in this thread). */
  readonly hostPool: HostPool | null;
  /** A factor's float64 twin, made once per factor (for pairs the GPU does not take). */
  twin(f: GpuFactor): Factor;
}

/** A conv tensor as the DFT kernels take it. */
export const convDims = (conv: Conv): ConvDims => ({ n: conv.datapoints, h: conv.height, w: conv.width, c: conv.channels });

/** Padded sizes are even (the Jacobi kernels rotate pairs). */
export const even = (n: number) => n + (n % 2);

/** The `never` default of every switch on the metric: a metric added to the union fails to compile here until handled. */
export function unreachableMetric(metric: never): never {
  throw new Error(`the GPU backend does not handle the metric ${String(metric)}`);
}
