// The leading eigenpairs of a symmetric matrix, for SVCCA's SVD step, which needs every eigenvalue
// (the keep rule reads the whole spectrum) but only the k eigenvectors it keeps (k ≈ 10% of n).
//
//   1. Householder reduction A = Q T Qᵀ (tred2 without its back-accumulation: 4n³/3 flops).
//   2. All eigenvalues of T by QL without vectors (O(n²)); bit for bit tridiagonalEigen's values.
//   3. k = pick(values).
//   4. The k eigenvectors of T by inverse iteration (LAPACK dstein's scheme: LU with partial
//      pivoting of T − σI, shifts of nearly equal eigenvalues pulled apart by a few ulps, and
//      Gram–Schmidt against the vectors of the same cluster, eigenvalues within 1e-3·‖T‖ of their
//      neighbour), O(nk) plus O(n·c²) per cluster of c.
//   5. Back-transformation x = Q z of the k vectors only (2n²k flops instead of the 4n³/3 of
//      building Q and the ~6n³ of rotating all n vectors).
// Where that saves little (k > n/3) or the matrix is small (n ≤ SMALL_N, where the engine uses
// Jacobi), the full solver's result is returned instead, so those cases are exactly what they were.
// Steps 1–2 and 4–5 are two calls (topEigenValues, topEigenVectors) for callers that choose k from
// several matrices' spectra at once; symmetricTopEigen is the two in one.
//
// Shapes as in eigen.ts: eigenvectors are the ROWS of a k × n matrix.

import type { Matrix } from './matrix';
import { completeReduction, householderTridiagonal, SMALL_N, symmetricEigen, tridiagonalEigenvalues, WASM_EIGEN_MIN } from './eigen';
import { wasmReflectRows } from './wasmProducts';

export interface TopEigenResult {
  /** All n eigenvalues, descending. */
  values: Float64Array;
  /** k × n: row i = unit eigenvector for values[i]. */
  vectors: Matrix;
  /** How the vectors were found: 'inverse-iteration' (top k only) or 'full' (the full solver's). */
  method: 'inverse-iteration' | 'full';
}

/**
 * Steps 1–2 done, k not yet known: every eigenvalue and what steps 4–5 need, as plain typed arrays
 * (so a worker thread can hand it back: src/analysis/pool/work.ts 'gram-values'). The GPU path's
 * SVCCA needs this split: the DFT's global keep rule sees the spectra of every frequency block
 * before any block's k is known (src/analysis/gpu/dft.ts).
 *   'reduction': the Householder reduction (n > SMALL_N);
 *   'full': the full solver's result, already computed (n ≤ SMALL_N: Jacobi, as before).
 */
export type TopEigenValues =
  | {
      kind: 'reduction';
      /** All n eigenvalues, descending (tridiagonalEigenvalues: bit for bit tridiagonalEigen's). */
      values: Float64Array;
      diagonal: Float64Array;
      subdiagonal: Float64Array;
      /** n × n: row i holds the reflector u_i in its first i entries (householderTridiagonal). */
      reflectors: Float64Array;
      h: Float64Array;
    }
  | {
      kind: 'full';
      values: Float64Array;
      /** n × n, row i = unit eigenvector for values[i]. */
      vectors: Float64Array;
    };

/** Above this fraction of n kept vectors, the full solver is used (inverse iteration would save little). */
export const TOP_K_MAX_FRACTION = 1 / 3;

/** Relative gap (to ‖T‖) below which neighbouring eigenvalues share a cluster and are orthogonalised together (dstein's ODM3). */
const CLUSTER_GAP = 1e-3;
const EPS = 2 ** -52;
const MAX_ITERATIONS = 12;
/** Iterations after the growth test first passes (dstein's EXTRA). */
const EXTRA_ITERATIONS = 2;

/**
 * Every eigenvalue of the symmetric a, and the eigenvectors of the largest pick(values) of them
 * (`pick` sees the values descending and returns k, 0 ≤ k ≤ n).
 */
export function symmetricTopEigen(a: Matrix, pick: (values: Float64Array) => number): TopEigenResult {
  const first = topEigenValues(a);
  return topEigenVectors(first, pick(first.values));
}

/** Steps 1–2: every eigenvalue of the symmetric a (descending), and the state topEigenVectors finishes from. `a` is not modified. */
export function topEigenValues(a: Matrix): TopEigenValues {
  if (a.rows !== a.cols) throw new Error(`topEigenValues: matrix is ${a.rows} × ${a.cols}, not square`);
  if (a.rows <= SMALL_N) {
    const full = symmetricEigen(a);
    return { kind: 'full', values: full.values, vectors: full.vectors.data };
  }
  const reduction = householderTridiagonal(a);
  const { diagonal, subdiagonal } = reduction.tridiagonal;
  const values = tridiagonalEigenvalues(diagonal, subdiagonal);
  return { kind: 'reduction', values, diagonal, subdiagonal, reflectors: reduction.reflectors, h: reduction.h };
}

/**
 * Steps 4–5: the unit eigenvectors of the largest k eigenvalues (k is clamped to 0..n and floored).
 * Consumes `first` (below WASM_EIGEN_MIN the full solver's fallback overwrites its reflectors): one
 * call per state. The result is a pure function of `first` and k, wherever `first` was computed.
 */
export function topEigenVectors(first: TopEigenValues, wanted: number): TopEigenResult {
  const { values } = first;
  const n = values.length;
  const k = Math.max(0, Math.min(n, Math.floor(wanted)));
  if (first.kind === 'full') return { values, vectors: { rows: k, cols: n, data: first.vectors.slice(0, k * n) }, method: 'full' };
  const { diagonal, subdiagonal } = first;
  let norm = 0; // ‖T‖∞
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(diagonal[i]) + Math.abs(subdiagonal[i - 1] ?? 0) + Math.abs(subdiagonal[i] ?? 0));
  if (k > n * TOP_K_MAX_FRACTION || norm === 0 || !Number.isFinite(norm)) {
    const full = completeReduction(first.reflectors, first.h, subdiagonal);
    return { values, vectors: { rows: k, cols: n, data: full.vectors.data.slice(0, k * n) }, method: 'full' };
  }
  const z = tridiagonalEigenvectors(diagonal, subdiagonal, values, k, norm);
  backTransform(z, k, n, first.reflectors, first.h);
  return { values, vectors: { rows: k, cols: n, data: z }, method: 'inverse-iteration' };
}

/**
 * Unit eigenvectors (rows of a k × n array) of the tridiagonal T for its k largest eigenvalues
 * `values[0..k)` (descending), by inverse iteration on T/‖T‖.
 */
function tridiagonalEigenvectors(diagonal: Float64Array, subdiagonal: Float64Array, values: Float64Array, k: number, norm: number): Float64Array {
  const n = diagonal.length;
  const d = Float64Array.from(diagonal, (x) => x / norm);
  const off = Float64Array.from(subdiagonal, (x) => x / norm);
  const out = new Float64Array(k * n);
  const lu = new TridiagonalLu(n);
  const x = new Float64Array(n);
  // Shifts 10 ulps of ‖T‖ apart at least (dstein's PERTOL), so that equal eigenvalues get distinct, nonsingular solves.
  const separation = 10 * EPS;
  // A growth of the solve ≥ this means the residual ‖(T − σI)x‖ ≤ 1/growth is at rounding level.
  const growthWanted = 1 / (10 * Math.sqrt(n) * EPS * 1e3);
  let shift = 0;
  let clusterStart = 0;
  let random = 0x9e3779b9;
  for (let j = 0; j < k; j++) {
    const lambda = values[j] / norm;
    if (j === 0 || (values[j - 1] - values[j]) / norm > CLUSTER_GAP) clusterStart = j;
    shift = j > 0 && shift - lambda < separation ? shift - separation : lambda;
    lu.factor(d, off, shift);
    for (let i = 0; i < n; i++) {
      // xorshift32: a fixed, reproducible start vector in [−1, 1].
      random ^= random << 13;
      random ^= random >>> 17;
      random ^= random << 5;
      x[i] = (random >>> 0) / 2 ** 31 - 1;
    }
    scaleToUnit(x);
    let extra = -1;
    for (let iteration = 0; iteration < MAX_ITERATIONS && extra < EXTRA_ITERATIONS; iteration++) {
      lu.solve(x);
      for (let c = clusterStart; c < j; c++) orthogonalise(x, out, c * n);
      const growth = scaleToUnit(x);
      if (growth >= growthWanted || extra >= 0) extra++;
    }
    // Once more against the cluster (Gram–Schmidt twice is enough), then store.
    for (let c = clusterStart; c < j; c++) orthogonalise(x, out, c * n);
    scaleToUnit(x);
    out.set(x, j * n);
  }
  return out;
}

/** x −= (x·v) v for the unit row v at out[at..at+n). */
function orthogonalise(x: Float64Array, out: Float64Array, at: number): void {
  const n = x.length;
  let dot = 0;
  for (let i = 0; i < n; i++) dot += x[i] * out[at + i];
  for (let i = 0; i < n; i++) x[i] -= dot * out[at + i];
}

/** Scales x to unit 2-norm (∞-norm first, so no overflow); returns the 2-norm it had. */
function scaleToUnit(x: Float64Array): number {
  let largest = 0;
  for (let i = 0; i < x.length; i++) largest = Math.max(largest, Math.abs(x[i]));
  if (largest === 0 || !Number.isFinite(largest)) {
    // A solve that lost everything to orthogonalisation: restart from a unit coordinate vector.
    x.fill(0);
    x[0] = 1;
    return 0;
  }
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += (x[i] / largest) ** 2;
  const norm = largest * Math.sqrt(sum);
  for (let i = 0; i < x.length; i++) x[i] /= norm;
  return norm;
}

/**
 * LU with partial pivoting of the symmetric tridiagonal T − σI (LAPACK dgttrf/dgttrs): U has three
 * diagonals (u0, u1, u2); zero pivots are replaced by EPS (T is scaled to ‖T‖ = 1), as dlagtf does,
 * since T − σI is meant to be nearly singular.
 */
class TridiagonalLu {
  private readonly u0: Float64Array;
  private readonly u1: Float64Array;
  private readonly u2: Float64Array;
  private readonly multiplier: Float64Array;
  private readonly swapped: Uint8Array;

  constructor(private readonly n: number) {
    this.u0 = new Float64Array(n);
    this.u1 = new Float64Array(n);
    this.u2 = new Float64Array(n);
    this.multiplier = new Float64Array(n);
    this.swapped = new Uint8Array(n);
  }

  factor(d: Float64Array, off: Float64Array, shift: number): void {
    const { n, u0, u1, u2, multiplier, swapped } = this;
    for (let i = 0; i < n; i++) u0[i] = d[i] - shift;
    u1.set(off);
    u2.fill(0);
    multiplier.fill(0);
    swapped.fill(0);
    for (let i = 0; i < n - 1; i++) {
      const below = off[i]; // T[i + 1, i]
      if (Math.abs(u0[i]) >= Math.abs(below)) {
        if (u0[i] !== 0) {
          const fact = below / u0[i];
          multiplier[i] = fact;
          u0[i + 1] -= fact * u1[i];
        }
      } else {
        const fact = u0[i] / below;
        u0[i] = below;
        multiplier[i] = fact;
        const temp = u1[i];
        u1[i] = u0[i + 1];
        u0[i + 1] = temp - fact * u0[i + 1];
        if (i < n - 2) {
          u2[i] = u1[i + 1];
          u1[i + 1] = -fact * u1[i + 1];
        }
        swapped[i] = 1;
      }
    }
    for (let i = 0; i < n; i++) if (Math.abs(u0[i]) < EPS) u0[i] = u0[i] < 0 ? -EPS : EPS;
  }

  /** b ← (T − σI)⁻¹ b. */
  solve(b: Float64Array): void {
    const { n, u0, u1, u2, multiplier, swapped } = this;
    for (let i = 0; i < n - 1; i++) {
      if (swapped[i]) {
        const temp = b[i] - multiplier[i] * b[i + 1];
        b[i] = b[i + 1];
        b[i + 1] = temp;
      } else b[i + 1] -= multiplier[i] * b[i];
    }
    b[n - 1] /= u0[n - 1];
    if (n > 1) b[n - 2] = (b[n - 2] - u1[n - 2] * b[n - 1]) / u0[n - 2];
    for (let i = n - 3; i >= 0; i--) b[i] = (b[i] - u1[i] * b[i + 1] - u2[i] * b[i + 2]) / u0[i];
  }
}

/**
 * z (k × n, rows = eigenvectors of T) ← rows of Q z: x = P_{n−1}(⋯(P_1 z)), P_i = I − u_i u_iᵀ / h_i
 * on coordinates 0..i−1 (the reduction's order, see householderTridiagonal). Each reflector is
 * applied to all k rows while it is in cache; from WASM_EIGEN_MIN on in WebAssembly SIMD.
 */
function backTransform(z: Float64Array, k: number, n: number, reflectors: Float64Array, h: Float64Array): void {
  if (n >= WASM_EIGEN_MIN && wasmReflectRows(reflectors, h, z, k, n)) return;
  for (let i = 1; i < n; i++) {
    const hi = h[i];
    if (hi === 0) continue;
    const u = reflectors.subarray(i * n, i * n + i);
    for (let r = 0; r < k; r++) {
      const row = r * n;
      let g = 0;
      for (let c = 0; c < i; c++) g += u[c] * z[row + c];
      g /= hi;
      for (let c = 0; c < i; c++) z[row + c] -= g * u[c];
    }
  }
}
