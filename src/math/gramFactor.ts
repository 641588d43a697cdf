// The float64 host step of the GPU path's factorisation (src/analysis/gpu/whitening.ts): from a
// layer's Gram matrix G = Xc Xcᵀ (computed in f32 on the GPU, read back as float64), the same
// decisions and whitening as src/math/cca.ts ccaFactor / svccaFactor take from the data itself:
//   CCA (and PWCCA's CCA step): cca_core's ε pruning, then the eigendecomposition of the
//     equilibrated kept block R + E = D⁻¹ G D⁻¹ + ε·xmax·D⁻² (D = diag √G_ii), so what float32
//     resolves no longer depends on the neurons' scales; W₀ = M^-½ Uᵀ D⁻¹.
//   SVCCA: every eigenvalue of G, the 99% (or fixed-k) cut, then the k kept eigenvectors only
//     (src/math/eigenTop.ts: svdSpectrum, then draftSvd once k is known), ε pruning and float64's
//     null floor on the kept directions; W₀ = the first k eigenvectors scaled as cca_core scales them.
// The GPU then forms Z₀ = W₀ Xc; `refinementFactor` is the float64 half of the refinement
// Z = L⁻¹ Z₀. On the way it measures the conditioning that src/analysis/precision.ts judges.
//
// Shapes: G is size × size (size = n neurons), row-major; W₀ is rows × size.

import { CLIP_TOLERANCE_F64, spectrumOf, type KeepRule } from './cca';
import { symmetricEigen, type EigenResult } from './eigen';
import { topEigenValues, topEigenVectors, type TopEigenValues } from './eigenTop';
import type { Matrix } from './matrix';
import { cholesky, invertLower } from './whitening';

/** float64's null floor (src/math/cca.ts): the GPU path mirrors it on float64 eigenvalues. */
const F64_NULL_FLOOR = CLIP_TOLERANCE_F64;

/** Conditioning of one layer measured by the host step (all relative, float64); src/analysis/precision.ts adds the refinement's pivot and judges it. */
export interface GramConditioning {
  metric: 'cca' | 'svcca';
  /** Datapoints m. */
  datapoints: number;
  /** CCA: smallest / largest eigenvalue of the equilibrated kept block R + E. SVCCA: λ_k / λ_1 of the kept directions. */
  smallestKept: number;
  /** CCA: smallest kept variance / largest variance (Σ̃_ii). SVCCA: 1. */
  varianceSpread: number;
  /**
   * A lower bound on the smallest kept direction's variance relative to the largest, in float64's own
   * (unequilibrated) terms: what float64's null floor (1e-12) is compared against. CCA: (1/‖W₀‖²_F −
   * ridge) / trace G, since W₀ᵀW₀ = (G + ridge)⁻¹; SVCCA: λ_k / λ_1.
   */
  floorRatio: number;
  /** CCA: the kept-variance ratio nearest to ε, as |log(ratio/ε)|; Infinity when ε = 0 or nothing is near. */
  epsilonMargin: number;
  /** SVCCA: distance of the cumulative variance fraction at k − 1 and k from the threshold; Infinity for CCA. */
  cutMargin: number;
  /** SVCCA: (λ_k − λ_{k+1}) / λ_k, the relative gap that separates the kept subspace; Infinity for CCA or when nothing is cut. */
  gap: number;
  /** Neurons whose variance is exactly 0 or ≤ 1e-12 of the largest (null for float64 as well). */
  nullNeurons: number;
}

/** CCA's float64 host step: ε pruning and the eigendecomposition of the equilibrated kept block. */
export interface CcaDraft {
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
  conditioning: GramConditioning;
}

/**
 * SVCCA's float64 host step, first half: every eigenvalue of the Gram matrix and what the kept
 * eigenvectors are finished from (src/math/eigenTop.ts), before k is chosen (by this matrix's own
 * rule, or by the DFT's global rule over every frequency block).
 */
export interface SvdSpectrum {
  kind: 'svd-spectrum';
  size: number;
  first: TopEigenValues;
  /** λ_i = g_i / (m − 1), descending, clamped at 0. */
  spectrum: number[];
  datapoints: number;
}

/** SVCCA's float64 host step: every eigenvalue of the Gram matrix and the eigenvectors of the k kept. */
export interface SvdDraft {
  kind: 'svd';
  size: number;
  /** All `size` eigenvalues (descending) of G, and the k × size eigenvectors of the largest k. */
  eigen: { values: Float64Array; vectors: Matrix };
  /** λ_i = g_i / (m − 1), descending, clamped at 0. */
  spectrum: number[];
  datapoints: number;
}

/** W₀ (rows × size, float64) with what the refinement and the verdict need. */
export interface Whitening {
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
  conditioning: GramConditioning;
}

/** The k × k identity. */
export function identityMatrix(k: number): Matrix {
  const out: Matrix = { rows: k, cols: k, data: new Float64Array(k * k) };
  for (let i = 0; i < k; i++) out.data[i * k + i] = 1;
  return out;
}

/**
 * G (size × size, float64 copy of the f32 Gram of centred rows) → CCA's pruning and the
 * eigendecomposition of the equilibrated kept block. Kept rows whose Gram diagonal is exactly 0 are
 * identically zero (f32 keeps every float64 value above 1e-38), so float64 sees exact null
 * directions there too: they are left out of R and count as clipped.
 */
export function draftCca(g: Float64Array, size: number, m: number, epsilon: number): CcaDraft {
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
  if (k === 0 || nullNeurons > 0)
    return { kind: 'cca', size, gmax, kept, live, scales, eigen: null, conditioning: { ...base, smallestKept: 1, varianceSpread: 1, floorRatio: 1 } };
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
    conditioning: {
      ...base,
      smallestKept: top > 0 ? Math.max(eigen.values[k - 1], 0) / top : 0,
      varianceSpread: smallestVariance / largestVariance,
      floorRatio: 1,
    },
  };
}

/** W₀ = M^-½ Uᵀ D⁻¹ over the live kept rows (R + E = U M Uᵀ, D = diag √G_ii): Z₀ = W₀ Xc has Z₀ Z₀ᵀ ≈ I. */
export function whitenCca(draft: CcaDraft, epsilon: number): Whitening {
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
  return {
    rows,
    projection,
    ridge,
    live: livePositions,
    keptDims: kept.length,
    dropped: size - kept.length,
    kept,
    spectrum: null,
    conditioning: { ...draft.conditioning, floorRatio },
  };
}

/** SVCCA's host step, first half (G: size × size, not modified): all eigenvalues, no vectors yet. */
export function svdSpectrum(g: Float64Array, size: number, m: number): SvdSpectrum {
  const first = topEigenValues({ rows: size, cols: size, data: g });
  return { kind: 'svd-spectrum', size, first, spectrum: spectrumOf(first.values, m), datapoints: m };
}

/**
 * SVCCA's host step, second half: the eigenvectors of the k kept directions (whitenSvd reads no
 * others). Consumes `s` (topEigenVectors).
 */
export function draftSvd(s: SvdSpectrum, k: number): SvdDraft {
  const { values, vectors } = topEigenVectors(s.first, k);
  return { kind: 'svd', size: s.size, eigen: { values, vectors }, spectrum: s.spectrum, datapoints: s.datapoints };
}

/**
 * SVCCA: the first k eigenvectors, scaled as cca_core's CCA of the reduced rows scales them
 * (1 / √(g_i + ε·g_1)); ε pruning and float64's null floor on the kept directions. `ownCut`: k came
 * from this matrix's own 99% rule (not the DFT's global one), so its margin can be judged here.
 */
export function whitenSvd(draft: SvdDraft, k: number, epsilon: number, keep: KeepRule, ownCut: boolean): Whitening {
  const { spectrum, eigen, size } = draft;
  const top = Math.max(spectrum[0] ?? 0, 0);
  let keptDims = 0;
  while (keptDims < k && top > 0 && spectrum[keptDims] / top >= epsilon) keptDims++;
  let rows = 0;
  while (rows < keptDims && spectrum[rows] / top > F64_NULL_FLOOR) rows++;
  const g0 = Math.max(eigen.values[0], 0);
  const projection = new Float64Array(rows * size);
  for (let i = 0; i < rows; i++) {
    const w = 1 / Math.sqrt(Math.max(eigen.values[i], 0) + epsilon * g0);
    for (let t = 0; t < size; t++) projection[i * size + t] = w * eigen.vectors.data[i * size + t];
  }
  let cutMargin = Infinity;
  if (ownCut && keep.kind === 'variance') {
    const total = spectrum.reduce((s, v) => s + v, 0);
    const before = spectrum.slice(0, Math.max(0, k - 1)).reduce((s, v) => s + v, 0);
    const at = before + (k > 0 ? spectrum[k - 1] : 0);
    if (total > 0) cutMargin = Math.min(at / total - keep.fraction, keep.fraction - before / total);
  }
  const gap = k > 0 && k < spectrum.length && spectrum[k - 1] > 0 ? (spectrum[k - 1] - spectrum[k]) / spectrum[k - 1] : Infinity;
  return {
    rows,
    projection,
    ridge: epsilon * g0,
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

/**
 * The float64 half of the refinement: C = Z₀ Z₀ᵀ (`c`, r × r, read back from the GPU) plus
 * ridge · W₀ W₀ᵀ (cca_core's ε·I in Z₀'s coordinates), C = L Lᵀ; returns L⁻¹ (the identity when C is
 * not positive definite) and Cholesky's pivot ratio.
 */
export function refinementFactor(c: Matrix, w: Whitening, size: number): { lInverse: Matrix; pivotRatio: number } {
  const r = w.rows;
  if (w.ridge > 0) {
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        let dot = 0;
        for (let t = 0; t < size; t++) dot += w.projection[i * size + t] * w.projection[j * size + t];
        c.data[i * r + j] += w.ridge * dot;
      }
    }
  }
  const { l, pivotRatio } = cholesky(c);
  return { lInverse: l ? invertLower(l) : identityMatrix(r), pivotRatio };
}
