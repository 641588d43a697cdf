// How many directions matter (intrinsic dimensionality): SVCCA's similarity as a function of the
// number k of SVD directions kept on both sides, from one factorisation per side, and the number
// of directions holding 99% of a layer's variance.
//
// Shapes: X is n neurons × m datapoints (row-major). With Xc = U S Vᵀ (V: m × r, the right singular
// vectors in datapoint space, orthonormal columns), the top-k SVD directions of X are S_k V_kᵀ, whose
// whitened factor is V_kᵀ. So the CCA between the top-k directions of A and the top-k of B has
// canonical correlations = singular values of V_a,kᵀ V_b,k, the leading k × k block of
// M = V_aᵀ V_b (r_a × r_b), formed once. ε is not applied (it would only rescale the whitening by
// 1/sqrt(1 + ε·λmax/λ_i) and prune directions below ε, as svccaFactor does); directions carrying no
// variance (λ ≤ 1e-12·λmax, the pseudo-inverse clip) are left out, so k runs to min(rank_a, rank_b).

import { CLIP_TOLERANCE_F64, chooseK, svdStep, varianceSpectrum, type SvdStep } from '../math/cca';
import { symmetricEigen } from '../math/eigen';
import { multiplyABt, transpose, zeros, type Matrix } from '../math/matrix';
import { reduceToSource, type Representation } from '../math/reduce';
import type { AnalysisOptions } from './types';

/** Fraction of the variance the "k99" dimension holds. */
export const K99_FRACTION = 0.99;

/** The number of SVD directions that hold 99% of the variance (chooseK's rule, as SVCCA's default keep). */
export function k99(spectrum: ArrayLike<number>): number {
  return chooseK(spectrum, { kind: 'variance', fraction: K99_FRACTION });
}

/**
 * The variance spectrum the k99 pass reads of a layer (classes.ts dimensionsOverTraining, on any
 * thread): varianceSpectrum of reduceToMatrix(rep, reduction), bit for bit, read where the values lie
 * (reduceToSource). A conv layer flattened with more features than datapoints (conv1 of a small CNN:
 * 12 544 × 1000) has its m × m Gram taken from its datapoint-major rows, which skips the scatter
 * into neurons × datapoints, the centred copy and the transpose (three passes over 100 MB there).
 */
export function layerVarianceSpectrum(rep: Representation, reduction: 'flatten' | 'meanpool'): number[] {
  return varianceSpectrum(reduceToSource(rep, reduction));
}

/**
 * Whether a job's SVCCA factor of a layer holds the spectrum the k99 pass computes
 * (classes.ts dimensionsOverTraining): the factor's spectrum is every eigenvalue of the same Gram of
 * the same centred matrix, whatever the keep rule or ε (svccaFactor reads the whole spectrum before
 * choosing k), but the pass reads a conv layer flattened, or mean-pooled under 'meanpool', while the
 * factor reads it under the options' reduction ('dft' outside a DFT grid: flatten). They differ only
 * for a conv layer under 'positions' (the positions become datapoints). Dense layers: always the same.
 */
export function factorSpectrumIsK99s(rep: 'dense' | 'conv', options: Pick<AnalysisOptions, 'convReduction'>): boolean {
  if (rep === 'dense') return true;
  const factorReduction = options.convReduction === 'dft' ? 'flatten' : options.convReduction;
  const passReduction = options.convReduction === 'meanpool' ? 'meanpool' : 'flatten';
  return factorReduction === passReduction;
}

/**
 * k99 of a layer read off the spectrum of its job's float64 SVCCA factor (ComputeBackend.float64Spectrum),
 * or of a CKA factor asked to keep its Gram's (FactorPlan.factorSpectra: the same Gram, reduction and
 * QL), or undefined where that could differ from the k99 pass's (factorSpectrumIsK99s). The factor's
 * eigenvalues are the pass's bit for bit at every size: svccaFactor's top-k solver and svdStep's full
 * one share eigen.ts's reduction and QL (test/analysis/k99FromFactors.test.ts).
 */
export function k99OfFactorSpectrum(spectrum: readonly number[], rep: 'dense' | 'conv', options: Pick<AnalysisOptions, 'convReduction'>): number | undefined {
  return factorSpectrumIsK99s(rep, options) ? k99(spectrum) : undefined;
}

/**
 * k99 cells a learning-dynamics job knew as it factored (its run, by step and layer): a number, or
 * null for a bad array (the pass's null too). A cell the job did not know (another metric, the DFT,
 * a float32 GPU factor, a conv layer under 'positions') is absent, and the pass computes it.
 */
export class KnownK99 {
  private readonly cells = new Map<string, number | null>();

  constructor(readonly run: string | null) {}

  set(step: number, layer: string, value: number | null): void {
    this.cells.set(`${step}|${layer}`, value);
  }

  /** undefined: not known. */
  get(step: number, layer: string): number | null | undefined {
    return this.cells.get(`${step}|${layer}`);
  }

  /** The whole table k99[t][i] when every cell is known, else null. */
  table(steps: readonly number[], layers: readonly string[]): (number | null)[][] | null {
    const rows: (number | null)[][] = [];
    for (const step of steps) {
      const row: (number | null)[] = [];
      for (const layer of layers) {
        const value = this.get(step, layer);
        if (value === undefined) return null;
        row.push(value);
      }
      rows.push(row);
    }
    return rows;
  }
}

/** r × m: the right singular vectors vᵢ of the centred representation (rows, orthonormal), r = its rank. */
export function rightSingularVectors(step: SvdStep): Matrix {
  const { centered, vectors, gramValues } = step;
  const n = centered.rows;
  const m = centered.cols;
  const top = Math.max(gramValues[0] ?? 0, 0);
  let rank = 0;
  while (rank < gramValues.length && gramValues[rank] > CLIP_TOLERANCE_F64 * top) rank++;
  if (step.wide) return { rows: rank, cols: m, data: vectors.data.slice(0, rank * m) };
  // vᵢ = Xcᵀ uᵢ / sᵢ: rows of U_rᵀ Xc, each divided by its singular value.
  const v = multiplyABt({ rows: rank, cols: n, data: vectors.data.subarray(0, rank * n) }, transpose(centered));
  for (let i = 0; i < rank; i++) {
    const s = Math.sqrt(gramValues[i]);
    for (let j = 0; j < m; j++) v.data[i * m + j] /= s;
  }
  return v;
}

export interface SweepPoint {
  /** Directions kept on each side. */
  k: number;
  /** Mean of the k canonical correlations between the top-k directions of each side (SVCCA's ρ̄). */
  similarity: number;
}

export interface SweepK {
  points: SweepPoint[];
  /** Directions holding 99% of the variance, per side. */
  k99: [number, number];
  /** Variance spectra λᵢ = sᵢ²/(m−1), per side. */
  spectra: [number[], number[]];
  /** Largest k possible (min of the two ranks). */
  maxK: number;
}

/** Every k up to this is swept; above it, SWEEP_POINTS values spread evenly on a log scale (plus maxK). */
const SWEEP_ALL_UP_TO = 128;
const SWEEP_POINTS = 128;

/** Which k a sweep evaluates: all of 1…maxK when maxK ≤ 128, else 1…128 and 128 more on a log scale. */
export function sweepKs(maxK: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= Math.min(maxK, SWEEP_ALL_UP_TO); k++) ks.push(k);
  if (maxK > SWEEP_ALL_UP_TO) {
    const ratio = Math.log(maxK / SWEEP_ALL_UP_TO) / SWEEP_POINTS;
    for (let i = 1; i <= SWEEP_POINTS; i++) {
      const k = Math.round(SWEEP_ALL_UP_TO * Math.exp(ratio * i));
      if (k > ks[ks.length - 1]) ks.push(k);
    }
    if (ks[ks.length - 1] !== maxK) ks.push(maxK);
  }
  return ks;
}

/** Mean singular value of the leading k × k block of M (r_a × r_b, row-major). */
function blockMeanSingularValue(m: Matrix, k: number): number {
  const block = zeros(k, k);
  for (let i = 0; i < k; i++) block.data.set(m.data.subarray(i * m.cols, i * m.cols + k), i * k);
  const eig = symmetricEigen(multiplyABt(block, block), 'tridiagonal');
  let sum = 0;
  for (let i = 0; i < k; i++) sum += Math.sqrt(Math.max(eig.values[i], 0));
  return sum / k;
}

/** SVCCA similarity against k for two neurons × datapoints representations of the same datapoints. */
export function sweepK(a: Matrix, b: Matrix, ks?: number[]): SweepK {
  if (a.cols !== b.cols) throw new Error(`the two representations have ${a.cols} and ${b.cols} datapoints`);
  const stepA = svdStep(a);
  const stepB = svdStep(b);
  const va = rightSingularVectors(stepA);
  const vb = rightSingularVectors(stepB);
  const cross = multiplyABt(va, vb); // M = V_aᵀ V_b, r_a × r_b
  const maxK = Math.min(va.rows, vb.rows);
  const points = (ks ?? sweepKs(maxK)).filter((k) => k >= 1 && k <= maxK).map((k) => ({ k, similarity: blockMeanSingularValue(cross, k) }));
  return { points, k99: [k99(stepA.spectrum), k99(stepB.spectrum)], spectra: [stepA.spectrum, stepB.spectrum], maxK };
}
