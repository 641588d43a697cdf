// Named numerical tolerances, one place for all of them, and one comparison that says where it failed.
import { expect } from 'vitest';

/** Absolute tolerances by what is compared and at which precision. */
export const TOL = {
  /** float64 CPU path against values printed by numpy (semantics doc, scripts/reference_values.py). */
  f64Reference: 1e-9,
  /** The semantics doc prints 6 decimals: its own rounding. */
  printed6: 1e-6,
  /** float64 identities that hold up to round-off of a few thousand operations (SVCCA(X,X)=1, Theorem 1, invariances). */
  f64Identity: 1e-9,
  /** float64 linear algebra residuals relative to the matrix scale (A·v − λ·v, UᵀU − I). */
  f64Residual: 1e-11,
  /** A float64 dot product summed in another order (SIMD lanes, tiles, FMA) relative to ‖a‖·‖b‖:
   *  at worst k·2⁻⁵³ ≈ 1.1e-12 for k = 10 000; measured ≤ 1e-15 on random rows. */
  f64Reordered: 1e-12,
  /** GPU float32 path against the float64 oracle (issue 3): means and single ρ. */
  f32Mean: 1e-4,
  f32Rho: 1e-3,
  /** GPU float32 matrix products against float64, relative to the largest entry: sums of k ≤ 300
   *  terms round to ~k·2⁻²⁴ of their magnitude at worst (measured ≤ 1e-6). */
  f32Product: 1e-5,
  /** GPU float32 matrix products against float64, each entry C_ij relative to ‖a_i‖·‖b_j‖ (+|C₀_ij|
   *  when accumulating): the forward-error scale of an f32 dot product, ≤ k·2⁻²⁴ at worst and
   *  ~√k·2⁻²⁴ for random data; k ≤ 1800 in test/gpu/productTiled.test.ts, measured ≤ 1.8e-6 (k = 1037 in one f32 sum). */
  f32ProductNorms: 1e-5,
  /** GPU float32 Jacobi against the float64 eigensolver: eigenvalues and ‖A·v − λ·v‖, relative to
   *  λ_max, on well-conditioned Gram matrices (N ≤ 64); measured ~1e-5 at N = 64. */
  f32Eigen: 1e-4,
} as const;

/**
 * Expects |actual − expected| ≤ tol·max(1, |expected|) element-wise (absolute near 0, relative beyond 1).
 * NaN matches only NaN. The failure names the case and the first failing index.
 */
export function expectClose(
  actual: ArrayLike<number | null> | number | null,
  expected: ArrayLike<number | null> | number | null,
  tol: number,
  label = '',
): void {
  const a = typeof actual === 'number' || actual === null ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' || expected === null ? [expected] : Array.from(expected);
  expect(a.length, `${label}: length`).toBe(e.length);
  for (let i = 0; i < e.length; i++) {
    const x = a[i];
    const y = e[i];
    // null: a grid cell left empty (a pair the positions reduction cannot compare); only equal to null.
    if (x === null || y === null) {
      expect(x, `${label}[${i}]: ${x} vs ${y}`).toBe(y);
      continue;
    }
    if (Number.isNaN(y) || Number.isNaN(x)) {
      expect(Number.isNaN(x) && Number.isNaN(y), `${label}[${i}]: ${x} vs ${y}`).toBe(true);
      continue;
    }
    const bound = tol * Math.max(1, Math.abs(y));
    if (!(Math.abs(x - y) <= bound)) {
      expect.fail(`${label}[${i}]: got ${x}, expected ${y} (|Δ| = ${Math.abs(x - y).toExponential(2)} > ${bound.toExponential(2)})`);
    }
  }
}

/** Vectors equal up to sign (eigen/singular vectors): compares a with ±b, the sign taken from the largest entry. */
export function expectCloseUpToSign(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, label = ''): void {
  let k = 0;
  for (let i = 1; i < b.length; i++) if (Math.abs(b[i]) > Math.abs(b[k])) k = i;
  const sign = Math.sign(a[k]) === Math.sign(b[k]) ? 1 : -1;
  expectClose(
    Array.from(a, (v) => v * sign),
    b,
    tol,
    label,
  );
}
