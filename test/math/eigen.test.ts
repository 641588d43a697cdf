import { describe, expect, it } from 'vitest';
import { jacobiEigen, symmetricEigen, tridiagonalEigen, type EigenResult } from '../../src/math/eigen';
import { multiplyABt, zeros, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { TOL, expectClose, expectCloseUpToSign } from '../helpers/tolerance';

function gram(seed: number, n: number, m: number): Matrix {
  const x = randn(seed, n, m);
  return multiplyABt(x, x);
}

function checkDecomposition(a: Matrix, r: EigenResult, label: string): void {
  const n = a.rows;
  const scale = Math.max(...Array.from(r.values, Math.abs), 1e-300);
  for (let i = 1; i < n; i++) expect(r.values[i], `${label}: descending`).toBeLessThanOrEqual(r.values[i - 1]);
  for (let i = 0; i < n; i++) {
    const v = r.vectors.data.subarray(i * n, (i + 1) * n);
    const residual: number[] = [];
    for (let row = 0; row < n; row++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += a.data[row * n + c] * v[c];
      residual.push((s - r.values[i] * v[row]) / scale);
    }
    expectClose(residual, new Array(n).fill(0), TOL.f64Residual, `${label}: A·v${i} − λ·v${i}`);
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let c = 0; c < n; c++) dot += v[c] * r.vectors.data[j * n + c];
      expectClose(dot, i === j ? 1 : 0, TOL.f64Residual, `${label}: v${i}·v${j}`);
    }
  }
}

const cases: { tag: string; matrix: () => Matrix }[] = [
  { tag: 'tiny 1×1', matrix: () => ({ rows: 1, cols: 1, data: Float64Array.of(3) }) },
  { tag: 'full-rank 12', matrix: () => gram(1, 12, 40) },
  { tag: 'rank-deficient 20 (rank 5)', matrix: () => gram(2, 20, 5) },
  { tag: 'zero matrix', matrix: () => zeros(6, 6) },
  { tag: 'diagonal with repeats', matrix: () => ({ rows: 4, cols: 4, data: Float64Array.from([2, 0, 0, 0, 0, 5, 0, 0, 0, 0, 2, 0, 0, 0, 0, -1]) }) },
  { tag: 'full-rank 60', matrix: () => gram(3, 60, 100) },
];

describe('symmetric eigensolvers', () => {
  for (const c of cases) {
    it(`jacobi and tridiagonal agree and decompose: ${c.tag}`, () => {
      const a = c.matrix();
      const j = jacobiEigen(a);
      const t = tridiagonalEigen(a);
      checkDecomposition(a, j, `jacobi ${c.tag}`);
      checkDecomposition(a, t, `tridiagonal ${c.tag}`);
      const scale = Math.max(1, Math.abs(t.values[0]));
      expectClose(
        Array.from(j.values, (v) => v / scale),
        Array.from(t.values, (v) => v / scale),
        TOL.f64Residual,
        `${c.tag}: eigenvalues`,
      );
    });
  }
  it('eigenvectors of distinct eigenvalues agree up to sign', () => {
    const a = gram(4, 30, 90);
    const j = jacobiEigen(a);
    const t = tridiagonalEigen(a);
    for (let i = 0; i < 30; i++) {
      expectCloseUpToSign(j.vectors.data.subarray(i * 30, (i + 1) * 30), t.vectors.data.subarray(i * 30, (i + 1) * 30), 1e-8, `vector ${i}`);
    }
  });
  it('Jacobi converges by its off-diagonal test in a handful of sweeps, not a fixed count', () => {
    const r = jacobiEigen(gram(5, 40, 80));
    expect(r.iterations).toBeGreaterThan(3);
    expect(r.iterations).toBeLessThan(20);
  });
  it('auto picks Jacobi for small and QL for large matrices with the same contract', () => {
    const small = gram(6, 8, 20);
    expect(symmetricEigen(small).values).toEqual(jacobiEigen(small).values);
    const large = gram(7, 50, 60);
    expect(symmetricEigen(large).values).toEqual(tridiagonalEigen(large).values);
  });
  it('refuses a non-square matrix', () => {
    expect(() => symmetricEigen({ rows: 2, cols: 3, data: new Float64Array(6) })).toThrow(/not square/);
  });
});
