// CKA in feature space against the m × m Gram-matrix definitions (Kornblith et al. 2019; unbiased
// HSIC of Song et al. 2012), computed directly here on small m.
import { describe, it } from 'vitest';
import { cka } from '../../src/math/cka';
import { centerRows, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { related } from '../helpers/data';
import { TOL, expectClose } from '../helpers/tolerance';

/** K = Xcᵀ Xc: m × m linear kernel over datapoints (X is n × m). */
function kernel(x: Matrix): number[][] {
  const { centered } = centerRows(x);
  const m = x.cols;
  return Array.from({ length: m }, (_, i) =>
    Array.from({ length: m }, (_, j) => {
      let s = 0;
      for (let r = 0; r < x.rows; r++) s += centered.data[r * m + i] * centered.data[r * m + j];
      return s;
    }),
  );
}

function hsicBiased(k: number[][], l: number[][]): number {
  // Features are centred, so K and L are already centred: HSIC ∝ tr(KL).
  let s = 0;
  for (let i = 0; i < k.length; i++) for (let j = 0; j < k.length; j++) s += k[i][j] * l[j][i];
  return s;
}

function hsicUnbiased(kIn: number[][], lIn: number[][]): number {
  const m = kIn.length;
  const k = kIn.map((row, i) => row.map((v, j) => (i === j ? 0 : v)));
  const l = lIn.map((row, i) => row.map((v, j) => (i === j ? 0 : v)));
  let trace = 0,
    sumK = 0,
    sumL = 0,
    cross = 0;
  const kRow = k.map((row) => row.reduce((a, b) => a + b, 0));
  const lRow = l.map((row) => row.reduce((a, b) => a + b, 0));
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) trace += k[i][j] * l[j][i];
    sumK += kRow[i];
    sumL += lRow[i];
    cross += kRow[i] * lRow[i];
  }
  return (trace + (sumK * sumL) / ((m - 1) * (m - 2)) - (2 / (m - 2)) * cross) / (m * (m - 3));
}

describe('CKA', () => {
  const x = randn(5, 7, 40);
  const y = related(x, 9, 1.5, 6);
  const kx = kernel(x);
  const ky = kernel(y);
  it('linear CKA equals HSIC(K, L) / sqrt(HSIC(K, K)·HSIC(L, L)) with m × m Grams', () => {
    const expected = hsicBiased(kx, ky) / Math.sqrt(hsicBiased(kx, kx) * hsicBiased(ky, ky));
    expectClose(cka(x, y), expected, TOL.f64Identity, 'linear CKA');
  });
  it('debiased CKA equals the unbiased-HSIC Gram formula', () => {
    const expected = hsicUnbiased(kx, ky) / Math.sqrt(hsicUnbiased(kx, kx) * hsicUnbiased(ky, ky));
    expectClose(cka(x, y, true), expected, TOL.f64Identity, 'debiased CKA');
  });
  it('CKA(X, X) = 1 for both estimators', () => {
    expectClose([cka(x, x), cka(x, x, true)], [1, 1], TOL.f64Identity, 'self');
  });
});
