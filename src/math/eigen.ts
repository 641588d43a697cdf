// Symmetric eigendecomposition in float64: A (n × n, symmetric, row-major) = Σ_i λ_i v_i v_iᵀ.
// Results: eigenvalues descending, and eigenvectors as the ROWS of an n × n matrix (row i = v_i),
// so projecting a neurons × datapoints representation onto them is a row-by-row product.
//
// Two algorithms with one contract:
//  - jacobiEigen: cyclic Jacobi rotations until the off-diagonal mass is negligible. It mirrors the
//    GPU kernel (parallel-ordered Jacobi) and is very accurate, but costs ~9n³ flops per sweep.
//  - tridiagonalEigen: Householder reduction to tridiagonal form, then implicit QL with Wilkinson
//    shifts (the EISPACK tred2/tql2 scheme). ~10× fewer flops than Jacobi at n = 256; the CPU engine
//    uses it above SMALL_N. Both are tested against each other and against A·v = λ·v.

import type { Matrix } from './matrix';
import { wasmTridiagonalKernels, type TridiagonalKernels } from './wasmProducts';

export interface EigenResult {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** n × n, row i = unit eigenvector for values[i]. */
  vectors: Matrix;
  /** Jacobi sweeps or QL iterations used (for diagnostics and benchmarks). */
  iterations: number;
}

/** Below this size the engine uses Jacobi (cheap anyway, and the most accurate). */
export const SMALL_N = 32;

export function symmetricEigen(a: Matrix, method: 'auto' | 'jacobi' | 'tridiagonal' = 'auto'): EigenResult {
  if (a.rows !== a.cols) throw new Error(`symmetricEigen: matrix is ${a.rows} × ${a.cols}, not square`);
  const useJacobi = method === 'jacobi' || (method === 'auto' && a.rows <= SMALL_N);
  return useJacobi ? jacobiEigen(a) : tridiagonalEigen(a);
}

/** Cyclic Jacobi. Stops when the off-diagonal Frobenius mass is below 1e-15 of the total, or after maxSweeps. */
export function jacobiEigen(a: Matrix, maxSweeps = 60): EigenResult {
  const n = a.rows;
  const A = Float64Array.from(a.data);
  // Vt: row p holds eigenvector p (the p-th column of the accumulated rotation), so a rotation
  // updates two contiguous rows.
  const Vt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Vt[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += A[i] * A[i];
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * A[p * n + q] * A[p * n + q];
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const app = A[p * n + p];
        const aqq = A[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          if (k === p || k === q) continue;
          const akp = A[k * n + p];
          const akq = A[k * n + q];
          const newKp = c * akp - s * akq;
          const newKq = s * akp + c * akq;
          A[k * n + p] = newKp;
          A[p * n + k] = newKp;
          A[k * n + q] = newKq;
          A[q * n + k] = newKq;
        }
        A[p * n + p] = app - t * apq;
        A[q * n + q] = aqq + t * apq;
        A[p * n + q] = 0;
        A[q * n + p] = 0;
        const rp = p * n;
        const rq = q * n;
        for (let k = 0; k < n; k++) {
          const vp = Vt[rp + k];
          const vq = Vt[rq + k];
          Vt[rp + k] = c * vp - s * vq;
          Vt[rq + k] = s * vp + c * vq;
        }
      }
    }
  }
  const diagonal = new Float64Array(n);
  for (let i = 0; i < n; i++) diagonal[i] = A[i * n + i];
  return sortDescending(diagonal, Vt, n, sweeps);
}

/**
 * Householder tridiagonalisation + implicit QL (tred2/tql2): the reduction (householderTridiagonal,
 * in WebAssembly from WASM_REDUCTION_MIN), then the back-accumulation and QL with vectors
 * (completeReduction, in WebAssembly from WASM_EIGEN_MIN). One reduction for every solver of this
 * file, so symmetricEigenvalues and the top-k solver (eigenTop.ts) return its eigenvalues bit for bit
 * at every size.
 */
export function tridiagonalEigen(a: Matrix): EigenResult {
  if (a.rows === 0) return { values: new Float64Array(0), vectors: { rows: 0, cols: 0, data: new Float64Array(0) }, iterations: 0 };
  return householderTridiagonal(a).complete();
}

/**
 * Eigenvalues only, descending: the same reduction and QL as tridiagonalEigen without the
 * back-accumulation and without the rotations of the vectors (4n³/3 flops + O(n²) instead of ~9n³).
 * Its values bit for bit (the same reduction, the same QL on the diagonals: the rotations of the
 * vectors never feed back into them).
 */
export function symmetricEigenvalues(a: Matrix): Float64Array {
  if (a.rows !== a.cols) throw new Error(`symmetricEigenvalues: matrix is ${a.rows} × ${a.cols}, not square`);
  const n = a.rows;
  if (n === 0) return new Float64Array(0);
  const { diagonal, subdiagonal } = householderTridiagonal(a).tridiagonal;
  return tridiagonalEigenvalues(diagonal, subdiagonal);
}

/**
 * A = Q T Qᵀ with T tridiagonal, Q = P_{n−1} ⋯ P_1 kept as its reflectors (P_i = I − u_i u_iᵀ / h_i
 * on coordinates 0..i−1, u_i = row i of `reflectors`, entries 0..i−1; h_i = 0: P_i = I). `scratch`
 * holds what the full solver needs to finish the job from here (accumulate, then QL with vectors).
 */
export interface HouseholderTridiagonal {
  tridiagonal: { diagonal: Float64Array; subdiagonal: Float64Array };
  /** n × n row-major: row i holds u_i in its first i entries. */
  reflectors: Float64Array;
  /** h_i, i = 0..n−1 (h_0 unused). */
  h: Float64Array;
  /** Finishes the full decomposition from this reduction (what tridiagonalEigen returns). */
  complete(): EigenResult;
}

/**
 * tred2's reduction without its back-accumulation. From WASM_REDUCTION_MIN on the loops run in
 * WebAssembly and `reflectors` is a copy out of the module's memory (later kernels reuse it).
 * complete() consumes the reduction (it may overwrite `reflectors`): call it last.
 */
export function householderTridiagonal(a: Matrix): HouseholderTridiagonal {
  const n = a.rows;
  const wasm = n >= WASM_REDUCTION_MIN ? wasmTridiagonalKernels(n) : null;
  const W = wasm ? wasm.w : new Float64Array(n * n);
  W.set(a.data);
  const d = wasm ? wasm.d.fill(0) : new Float64Array(n);
  const e = wasm ? wasm.e.fill(0) : new Float64Array(n);
  householderReduce(W, d, e, n, wasm);
  const diagonal = new Float64Array(n);
  for (let i = 0; i < n; i++) diagonal[i] = W[i * n + i];
  // subdiagonal[i] = T[i + 1, i] (tred2 leaves it in e[i + 1]).
  const subdiagonal = Float64Array.from({ length: Math.max(n - 1, 0) }, (_, i) => e[i + 1]);
  const reflectors = wasm ? Float64Array.from(W) : W;
  const h = Float64Array.from(d);
  return {
    tridiagonal: { diagonal, subdiagonal },
    reflectors,
    h,
    complete: () => completeReduction(reflectors, h, subdiagonal),
  };
}

/**
 * HouseholderTridiagonal.complete() from the reduction's arrays alone (what a worker thread hands
 * back: src/math/eigenTop.ts topEigenVectors). Consumes `reflectors` below WASM_EIGEN_MIN (it
 * becomes the eigenvector matrix).
 */
export function completeReduction(reflectors: Float64Array, h: Float64Array, subdiagonal: Float64Array): EigenResult {
  const n = h.length;
  const kernels = n >= WASM_EIGEN_MIN ? wasmTridiagonalKernels(n) : null;
  const Vt = kernels ? kernels.w : reflectors;
  const dd = kernels ? kernels.d : new Float64Array(n);
  const ee = kernels ? kernels.e : new Float64Array(n);
  if (kernels) Vt.set(reflectors);
  dd.set(h);
  ee.fill(0).set(subdiagonal, 1);
  accumulateReflections(Vt, dd, ee, n, kernels);
  const iterations = implicitQl(Vt, dd, ee, n, kernels);
  return sortDescending(dd, Vt, n, iterations);
}

/** Eigenvalues of the symmetric tridiagonal (diagonal, subdiagonal), descending (tql1: QL without vectors). */
export function tridiagonalEigenvalues(diagonal: Float64Array, subdiagonal: Float64Array): Float64Array {
  const n = diagonal.length;
  const d = Float64Array.from(diagonal);
  const e = new Float64Array(n);
  e.set(subdiagonal, 1);
  implicitQl(null, d, e, n, null);
  return d.sort().reverse();
}

/** From this size on tridiagonalEigen runs its loops in WebAssembly (below, the copies cost more than they save). */
export const WASM_EIGEN_MIN = 48;

/**
 * From this size on the reduction alone (householderTridiagonal: symmetricEigenvalues, the pairs'
 * k × k eigenvalues, symmetricTopEigen) runs in WebAssembly: without the back-accumulation and the
 * rotations there is less to copy out, and it pays earlier (measured on this machine's 2 cores:
 * JS ahead or level up to k = 20–24, WebAssembly 1.3–1.7× ahead from 28 to 44).
 */
export const WASM_REDUCTION_MIN = 28;

/**
 * tred2's reduction (JAMA's, after EISPACK) on W = Vᵀ: on return W[i, i] = T's diagonal, row i of W
 * holds the reflector u_i in its first i entries, d[i] = h_i and e[i] = T[i, i − 1] (e[0] = 0);
 * accumulateReflections then turns W into the transformation. Written on the transpose because the
 * reduction walks columns of V: in row-major storage those walks become contiguous rows of W, and
 * QL below wants the rows anyway, so no transposed copy is made (tridiagonalEigen at n = 512:
 * 1.06 s → 0.93 s; what remains is split evenly between this and the QL rotations).
 */
function householderReduce(W: Float64Array, d: Float64Array, e: Float64Array, n: number, wasm: TridiagonalKernels | null): void {
  for (let j = 0; j < n; j++) d[j] = W[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = W[j * n + i - 1];
        W[j * n + i] = 0;
        W[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      if (wasm) wasm.product(i);
      else {
        for (let j = 0; j < i; j++) {
          f = d[j];
          W[i * n + j] = f;
          g = e[j] + W[j * n + j] * f;
          for (let k = j + 1; k <= i - 1; k++) {
            g += W[j * n + k] * d[k];
            e[k] += W[j * n + k] * f;
          }
          e[j] = g;
        }
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      if (wasm) wasm.rank2(i);
      else {
        for (let j = 0; j < i; j++) {
          f = d[j];
          g = e[j];
          for (let k = j; k <= i - 1; k++) W[j * n + k] -= f * e[k] + g * d[k];
          d[j] = W[j * n + i - 1];
          W[j * n + i] = 0;
        }
      }
    }
    d[i] = h;
  }
}

/**
 * tred2's back-accumulation: from householderReduce's W (reflector u_i in row i), d (h_i) and e,
 * W becomes Vᵀ of the reduction and d, e the tridiagonal (d the diagonal, e[i] = T[i, i − 1]).
 */
function accumulateReflections(W: Float64Array, d: Float64Array, e: Float64Array, n: number, wasm: TridiagonalKernels | null): void {
  for (let i = 0; i < n - 1; i++) {
    W[i * n + n - 1] = W[i * n + i];
    W[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = W[(i + 1) * n + k] / h;
      if (wasm) wasm.accumulate(i);
      else
        for (let j = 0; j <= i; j++) {
          let g = 0;
          for (let k = 0; k <= i; k++) g += W[(i + 1) * n + k] * W[j * n + k];
          for (let k = 0; k <= i; k++) W[j * n + k] -= g * d[k];
        }
    }
    for (let k = 0; k <= i; k++) W[(i + 1) * n + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = W[j * n + n - 1];
    W[j * n + n - 1] = 0;
  }
  W[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** tql2 on the tridiagonal (d, e); Vt rows are the eigenvectors being accumulated. Returns iterations. */
function implicitQl(Vt: Float64Array | null, d: Float64Array, e: Float64Array, n: number, wasm: TridiagonalKernels | null): number {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  let iterations = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      do {
        iterations++;
        if (iterations > 60 * n) throw new Error('tridiagonalEigen: QL iteration did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (!Vt) continue;
          if (wasm) {
            wasm.rotate(i, c, s);
            continue;
          }
          const ri = i * n;
          const rj = ri + n;
          for (let k = 0; k < n; k++) {
            const vh = Vt[rj + k];
            const vi = Vt[ri + k];
            Vt[rj + k] = s * vi + c * vh;
            Vt[ri + k] = c * vi - s * vh;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  return iterations;
}

function hypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

function sortDescending(values: Float64Array, rowsOfVectors: Float64Array, n: number, iterations: number): EigenResult {
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => values[j] - values[i]);
  const sortedValues = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    sortedValues[to] = values[from];
    vectors.set(rowsOfVectors.subarray(from * n, from * n + n), to * n);
  });
  return { values: sortedValues, vectors: { rows: n, cols: n, data: vectors }, iterations };
}
