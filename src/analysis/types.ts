// The engine's public vocabulary: what a comparison takes and what it returns. The CLI, the worker
// and the UI all speak these types; the JSON the CLI prints (--json) is built from them.
//
// Shape convention: every representation inside the engine is n neurons × m datapoints,
// row-major (as google/svcca's cca_core). Files are usually datapoints-first; io/layout
// detects that and math/reduce transposes.

import type { ConvLayout, Layout, NdArray } from '../io/types';
import type { ProductKernel } from '../math/wasmProducts';

/** What each metric is, and what depends on it: analysis/metricDefs.ts (METRICS lists them in order). */
export type Metric = 'svcca' | 'cca' | 'pwcca' | 'cka' | 'cka-debiased';

/** How a conv activation (N, C, H, W) / (N, H, W, C) becomes neurons × datapoints. */
export type ConvReduction = 'flatten' | 'positions' | 'meanpool' | 'dft';
export const CONV_REDUCTIONS: readonly ConvReduction[] = ['flatten', 'positions', 'meanpool', 'dft'];

/** SVCCA's SVD step: keep the smallest k reaching `fraction` of Σs², or a fixed k. */
export type Keep = { kind: 'variance'; fraction: number } | { kind: 'dims'; k: number };

export type Backend = 'auto' | 'cpu' | 'webgpu';

export interface AnalysisOptions {
  metric: Metric;
  keep: Keep;
  /** cca_core's ε: relative variance below which neurons are pruned, added to Σxx and Σyy. */
  epsilon: number;
  /** 'auto' resolves to the array's detected layout. */
  layout: Layout | 'auto';
  convLayout: ConvLayout | 'auto';
  convReduction: ConvReduction;
  /** PWCCA weights: 'reference' = google/svcca pwcca.compute_pwcca; 'paper' = Morcos et al. 2018. */
  pwccaVariant: 'reference' | 'paper';
  backend: Backend;
}

export const DEFAULT_OPTIONS: AnalysisOptions = {
  metric: 'svcca',
  keep: { kind: 'variance', fraction: 0.99 },
  epsilon: 1e-10,
  layout: 'auto',
  convLayout: 'auto',
  convReduction: 'dft',
  pwccaVariant: 'reference',
  backend: 'auto',
};

/** Every convention that produced a number, so a result can always say how it was made. */
export interface Conventions {
  metric: Metric;
  keep: Keep | null; // null when the metric has no SVD step
  epsilon: number;
  layout: [Layout, Layout];
  convLayout: [ConvLayout | null, ConvLayout | null];
  convReduction: ConvReduction | null; // null when neither side is a conv layer
  pwccaVariant: 'reference' | 'paper' | null;
  /** "mean ρ over min(n1', n2') canonical correlations; float64 CPU" etc. */
  summary: string;
  backend: 'cpu' | 'webgpu';
  precision: 'float64' | 'float32';
  /** Why this backend ran ("CPU (float64): the WebGPU adapter … is a software fallback"), where known. */
  backendReason?: string;
}

/**
 * How a result's numbers were computed: the precision contract (src/analysis/precision.ts) says every
 * number is within `contract` of the float64 path, whichever backend ran; what a GPU job handed to
 * float64 is listed, one plain sentence each.
 */
export interface Provenance {
  backend: 'cpu' | 'webgpu';
  /** 'float32 and float64': a GPU job where some layers or pairs ran in float64 (listed in `float64`). */
  arithmetic: 'float64' | 'float32' | 'float32 and float64';
  /** Largest difference from the float64 path any number may have (absolute). */
  contract: number;
  /** What a GPU job computed in float64 instead, and why ("CCA on layer conv1: computed in float64, …"). */
  float64: string[];
  /**
   * The kernel of the float64 products A·Bᵀ in the process that computed (src/math/wasmProducts.ts):
   * WebAssembly SIMD with or without relaxed-SIMD FMA, or plain JS. It changes no number beyond the
   * float64 tolerance; it says which code ran (Chromium has relaxed SIMD, Node 20 has plain SIMD).
   */
  products: ProductKernel;
  /** Threads the float64 work ran on (the CPU pool, analysis/pool): the numbers are the same on any count. */
  threads: number;
}

/** An activation array with a name, as handed to the engine. */
export interface Activation {
  /** What the user calls it: "a.npy", "bundle.npz:step_10/conv1". Used in every message. */
  name: string;
  array: NdArray;
}

/** Chance level of one similarity (analysis/baseline.ts): its value between unrelated data, over
 *  `permutations` seeded draws of the null the request chose (`null`). */
export interface Baseline {
  mean: number;
  /** Sample standard deviation (n − 1) of the null draws. */
  sd: number;
  /** (observed − mean) / sd; null when every draw gave the same value (sd = 0). */
  z: number | null;
  /** Monte-Carlo p: (1 + #{draws ≥ observed}) / (permutations + 1). */
  p: number;
  /** Draws of the null: permutations of B's datapoints, or draws of the Gaussian null. */
  permutations: number;
  seed: number;
  /** Which null the draws come from: 'permutation' (B's datapoints permuted, the pair recomputed) or
   *  'gaussian' (canonical correlations against independent Gaussian data, drawn from the kept
   *  dimensions alone: src/math/canonicalNull.ts). */
  null: 'gaussian' | 'permutation';
  /** Why the permutation null ran where the request asked for the Gaussian one ('auto' or 'gaussian' on
   *  a cca/svcca cell that is beyond it); absent otherwise. */
  nullNote?: string;
}

/** Which null a chance level draws from. 'auto': the Gaussian null for CCA and SVCCA (dense, mean-pool,
 *  flatten and DFT reductions), the permutation null for PWCCA, CKA and the positions reduction and
 *  where the Gaussian null does not apply; 'gaussian' / 'permutation': that one (the Gaussian null
 *  still falls back to permutations where it does not apply, and says so). */
export type BaselineNull = 'auto' | 'gaussian' | 'permutation';
export const BASELINE_NULLS: readonly BaselineNull[] = ['auto', 'gaussian', 'permutation'];

/** What chance level a job computes: P draws of a null from a seed; `cells` (grids): every cell, or only
 *  the cells of the convergence curves (a dynamics job's layer i against its own reference i; for a
 *  cross grid, i against i). */
export interface BaselineRequest {
  permutations: number;
  seed: number;
  cells: 'all' | 'diagonal';
  null: BaselineNull;
}

export interface PairResult {
  metric: Metric;
  /** mean ρ for cca/svcca; the PWCCA or CKA value otherwise. */
  similarity: number;
  /** The reference code's `mean` (ρ up to 98% of Σρ); null for CKA. */
  mean98: number | null;
  /** mean ρ² (Kornblith's R²_CCA); null for CKA. */
  meanSquared: number | null;
  /** Canonical correlations, descending; empty for CKA. */
  rho: number[];
  /** Dimensions each side kept after the SVD step (svcca) or after pruning (cca/pwcca); features for CKA. */
  kept: [number, number];
  datapoints: number;
  /** Neurons (features) of each side after the conv reduction. */
  neurons: [number, number];
  /** Neurons pruned by the ε rule on each side. */
  dropped: [number, number];
  /** SVD variance spectrum (λ = s², descending) of each side, for svcca; null otherwise. */
  spectra: [number[], number[]] | null;
  /** Top canonical direction pairs over the datapoints (d × m each, cca_core's cca_dirns without μ);
   *  filled on request for the drill-down (engine.pairDirections), null otherwise. */
  directions: PairDirections | null;
  warnings: string[];
  /** Backend, precision and float64 fallbacks (set by the engine). */
  provenance?: Provenance;
  conventions: Conventions;
  /** Chance level, when requested. */
  baseline?: Baseline;
}

/** Top canonical direction pairs over the datapoints: x[k], y[k] = A's and B's k-th variate. */
export interface PairDirections {
  rho: number[];
  x: number[][];
  y: number[][];
  /** Datapoints the directions run over. */
  datapoints: number;
  /** Which datapoints x and y hold (evenly spaced, ascending) when capped below `datapoints`; null: all. */
  indices: number[] | null;
}

/** An array a learning-dynamics or across-runs job could not use (unreadable, non-finite values, a shape it cannot read): its cells stay null. */
export interface BadArray {
  step: number;
  layer: string;
  /** Across runs: the side it is on (A: its row is missing; B: its column) and that side's run. Absent in learning dynamics. */
  side?: 'A' | 'B';
  run?: string | null;
  /** How messages name it: "bundle.npz:step_200/fc2". */
  source: string;
  /** What is wrong with it: "value at index [3, 1] is NaN; activations must be finite". */
  problem: string;
}

/** values[t][i][j] = similarity of layer i at steps[t] to layer j at the reference step. */
export interface DynamicsResult {
  metric: Metric;
  steps: number[];
  layers: string[];
  reference: number;
  /** null: a pair the positions reduction cannot compare (see analysis/positions.ts), or a cell of a bad array (badArrays). */
  values: (number | null)[][][];
  /** Arrays the job left out, each once: layer at step t (its row at t is null) or at the reference step (its column is null at every t). */
  badArrays?: BadArray[];
  /** Chance level per cell, when requested: baseline[t][i][j] (null where the value is null or the cell was not asked for). */
  baseline?: (Baseline | null)[][][];
  conventions: Conventions;
  warnings: string[];
  /** Backend, precision and float64 fallbacks (set by the engine). */
  provenance?: Provenance;
}

/** values[i][j] = similarity of run A's layer i to run B's layer j at one step. */
export interface CrossResult {
  metric: Metric;
  step: number | null;
  layersA: string[];
  layersB: string[];
  /** null: a pair the positions reduction cannot compare (see analysis/positions.ts), or a cell of a bad array (badArrays). */
  values: (number | null)[][];
  /** Arrays the job left out, each once: A's layer i (row i is null) or B's layer j (column j is null). */
  badArrays?: BadArray[];
  /** Chance level per cell, when requested (null where the value is null or the cell was not asked for). */
  baseline?: (Baseline | null)[][];
  conventions: Conventions;
  warnings: string[];
  /** Backend, precision and float64 fallbacks (set by the engine). */
  provenance?: Provenance;
}

export interface Progress {
  done: number;
  total: number;
  stage: string;
}

export interface JobControl {
  onProgress?: (p: Progress) => void;
  /** Values as soon as they are known: one checkpoint's grid (dynamics: index = t) or the whole grid (cross: index 0).
   *  What arrived before a cancel or a device loss stays valid. null: a pair the positions reduction
   *  cannot compare or a bad array's cell. `badArrays`: the bad arrays met so far. `kept`: dimensions each side kept, per pair (SVD directions for SVCCA, neurons otherwise). */
  onValues?: (index: number, values: (number | null)[][], kept: ([number, number] | null)[][], badArrays?: readonly BadArray[]) => void;
  signal?: AbortSignal;
}
