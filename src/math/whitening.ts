// Small float64 helpers for refining a whitening computed in lower precision (the GPU path's
// refinement step, src/analysis/gpu/whitening.ts): Cholesky, the inverse of a lower-triangular
// factor, and the orthogonal polar factor.
//
// Shapes: square k × k matrices, row-major; k is a layer's kept dimensions (≤ a few hundred).

import { zeros, type Matrix } from './matrix';

/**
 * Lower-triangular L with A = L Lᵀ, and the ratio of the smallest to the largest squared pivot
 * (0 when A is not numerically positive definite: then `l` is null).
 */
export function cholesky(a: Matrix): { l: Matrix | null; pivotRatio: number } {
  const k = a.rows;
  const l = zeros(k, k);
  let smallest = Infinity;
  let largest = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a.data[i * k + j];
      for (let t = 0; t < j; t++) sum -= l.data[i * k + t] * l.data[j * k + t];
      if (i === j) {
        if (!(sum > 0)) return { l: null, pivotRatio: 0 };
        smallest = Math.min(smallest, sum);
        largest = Math.max(largest, sum);
        l.data[i * k + i] = Math.sqrt(sum);
      } else {
        l.data[i * k + j] = sum / l.data[j * k + j];
      }
    }
  }
  return { l, pivotRatio: k === 0 ? 1 : smallest / largest };
}

/** L⁻¹ for a lower-triangular L with a non-zero diagonal (forward substitution, column by column). */
export function invertLower(l: Matrix): Matrix {
  const k = l.rows;
  const inv = zeros(k, k);
  for (let c = 0; c < k; c++) {
    inv.data[c * k + c] = 1 / l.data[c * k + c];
    for (let i = c + 1; i < k; i++) {
      let sum = 0;
      for (let t = c; t < i; t++) sum -= l.data[i * k + t] * inv.data[t * k + c];
      inv.data[i * k + c] = sum / l.data[i * k + i];
    }
  }
  return inv;
}

/** A⁻¹ by Gauss–Jordan elimination with partial pivoting (float64); null when A is singular. */
export function invert(a: Matrix): Matrix | null {
  const k = a.rows;
  const w = Float64Array.from(a.data);
  const inv = zeros(k, k);
  for (let i = 0; i < k; i++) inv.data[i * k + i] = 1;
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(w[r * k + c]) > Math.abs(w[pivot * k + c])) pivot = r;
    if (w[pivot * k + c] === 0) return null;
    if (pivot !== c) {
      for (let t = 0; t < k; t++) {
        [w[c * k + t], w[pivot * k + t]] = [w[pivot * k + t], w[c * k + t]];
        [inv.data[c * k + t], inv.data[pivot * k + t]] = [inv.data[pivot * k + t], inv.data[c * k + t]];
      }
    }
    const p = 1 / w[c * k + c];
    for (let t = 0; t < k; t++) {
      w[c * k + t] *= p;
      inv.data[c * k + t] *= p;
    }
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = w[r * k + c];
      if (f === 0) continue;
      for (let t = 0; t < k; t++) {
        w[r * k + t] -= f * w[c * k + t];
        inv.data[r * k + t] -= f * inv.data[c * k + t];
      }
    }
  }
  return inv;
}

/**
 * The orthogonal polar factor Q of a square, invertible B (B = Q H, H symmetric positive definite),
 * by Higham's scaled Newton iteration X ← (ζX + X⁻ᵀ/ζ)/2. Converges quadratically; a condition
 * number of 1e8 takes about 9 iterations. Null when B is singular.
 */
export function polarFactor(b: Matrix): Matrix | null {
  const k = b.rows;
  let x: Matrix = { rows: k, cols: k, data: Float64Array.from(b.data) };
  const norm = (m: Matrix) => Math.sqrt(m.data.reduce((s, v) => s + v * v, 0));
  for (let iteration = 0; iteration < 60; iteration++) {
    const inv = invert(x);
    if (!inv) return null;
    const zeta = Math.sqrt(norm(inv) / norm(x));
    const next = zeros(k, k);
    let change = 0;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const v = 0.5 * (zeta * x.data[i * k + j] + inv.data[j * k + i] / zeta); // X⁻ᵀ[i][j] = X⁻¹[j][i]
        change += (v - x.data[i * k + j]) ** 2;
        next.data[i * k + j] = v;
      }
    }
    x = next;
    if (Math.sqrt(change) <= 1e-14 * Math.sqrt(k)) break;
  }
  return x;
}
