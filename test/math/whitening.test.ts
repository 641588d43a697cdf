// The float64 helpers of the GPU path's refinement (src/math/whitening.ts): Cholesky, the inverse of
// a lower-triangular factor, Gauss–Jordan inversion and the orthogonal polar factor, against their
// defining identities on seeded matrices (well- and ill-conditioned).
import { describe, expect, it } from 'vitest';
import { multiply, multiplyABt, transpose, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { cholesky, invert, invertLower, polarFactor } from '../../src/math/whitening';
import { TOL } from '../helpers/tolerance';

const identityError = (a: Matrix) => {
  let worst = 0;
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) worst = Math.max(worst, Math.abs(a.data[i * a.cols + j] - (i === j ? 1 : 0)));
  return worst;
};

/** A symmetric positive definite k × k matrix with condition number about `condition`. */
function spd(seed: number, k: number, condition: number): Matrix {
  const q = randn(seed, k, k);
  const scaled = { rows: k, cols: k, data: new Float64Array(k * k) };
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) scaled.data[i * k + j] = q.data[i * k + j] * condition ** (-i / (2 * (k - 1)));
  return multiplyABt(transpose(scaled), transpose(scaled));
}

describe('refinement helpers (float64)', () => {
  it('cholesky: A = L Lᵀ, L lower-triangular, and its pivot ratio', () => {
    const a = spd(1, 12, 1e4);
    const { l, pivotRatio } = cholesky(a);
    const back = multiplyABt(l!, l!);
    let worst = 0;
    for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(back.data[i] - a.data[i]));
    expect(worst).toBeLessThanOrEqual(TOL.f64Residual * Math.max(...a.data));
    for (let i = 0; i < 12; i++) for (let j = i + 1; j < 12; j++) expect(l!.data[i * 12 + j]).toBe(0);
    expect(pivotRatio).toBeGreaterThan(0);
    expect(pivotRatio).toBeLessThan(1);
  });

  it('cholesky refuses a matrix that is not positive definite', () => {
    const a = { rows: 2, cols: 2, data: Float64Array.from([1, 2, 2, 1]) };
    expect(cholesky(a)).toEqual({ l: null, pivotRatio: 0 });
  });

  it('invertLower and invert give L⁻¹ L = I and A⁻¹ A = I', () => {
    const a = spd(2, 10, 1e3);
    const { l } = cholesky(a);
    expect(identityError(multiply(invertLower(l!), l!))).toBeLessThanOrEqual(1e-10);
    const g = randn(3, 9, 9);
    expect(identityError(multiply(invert(g)!, g))).toBeLessThanOrEqual(1e-10);
    expect(invert({ rows: 2, cols: 2, data: Float64Array.from([1, 2, 2, 4]) })).toBeNull();
  });

  it('polarFactor: Q orthogonal and Qᵀ B symmetric positive definite, even at condition 1e8', () => {
    for (const condition of [10, 1e8]) {
      const h = spd(4, 8, condition);
      const rotation = polarFactor(randn(5, 8, 8))!; // an orthogonal matrix
      const b = multiply(rotation, h); // B = Q H
      const q = polarFactor(b)!;
      expect(identityError(multiplyABt(q, q)), `QQᵀ at ${condition}`).toBeLessThanOrEqual(1e-10);
      let worst = 0;
      for (let i = 0; i < 64; i++) worst = Math.max(worst, Math.abs(q.data[i] - rotation.data[i]));
      expect(worst, `Q recovered at ${condition}`).toBeLessThanOrEqual(1e-7);
    }
  });
});
