// CKA against the m × m Gram-matrix definitions (Kornblith et al. 2019; unbiased HSIC of Song et al.
// 2012), computed directly here on small m; a layer wider than its datapoints keeps its m × m kernel
// (datapoint space) instead of its centred rows, in pairs with either kind of factor.
import { describe, expect, it } from 'vitest';
import { factorPermuted } from '../../src/analysis/baseline';
import { factorize } from '../../src/analysis/metrics';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { varianceSpectrum } from '../../src/math/cca';
import { cka, ckaFactor, ckaFromFactors } from '../../src/math/cka';
import { centerRows, type Matrix } from '../../src/math/matrix';
import { reduceToMatrix, reduceToSource, toRepresentation } from '../../src/math/reduce';
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

describe('CKA of layers wider than their datapoints (the m × m kernel)', () => {
  // 60 datapoints: x narrow (7 neurons), wide ones of 90 and 150 neurons made from it plus noise.
  const m = 60;
  const narrow = randn(21, 7, m);
  const wide = related(narrow, 90, 0.8, 22);
  const wider = related(narrow, 150, 1.2, 24);
  const kernels = [narrow, wide, wider].map(kernel);
  const pairs: [string, Matrix, Matrix, number[][], number[][]][] = [
    ['wide × wider (both kernels)', wide, wider, kernels[1], kernels[2]],
    ['narrow × wide (rows × kernel)', narrow, wide, kernels[0], kernels[1]],
    ['wide × narrow (kernel × rows)', wider, narrow, kernels[2], kernels[0]],
  ];

  it('keeps the kernel, not the centred rows, and only where n > m', () => {
    expect(ckaFactor(wide).kernel).toMatchObject({ rows: m, cols: m });
    expect(ckaFactor(wide).centered).toBeUndefined();
    expect(ckaFactor(narrow).kernel).toBeUndefined();
    expect(ckaFactor(narrow).centered).toMatchObject({ rows: 7, cols: m });
  });

  it.each(pairs)('%s: both estimators equal the Gram-matrix definitions', (_, x, y, kx, ky) => {
    const biased = hsicBiased(kx, ky) / Math.sqrt(hsicBiased(kx, kx) * hsicBiased(ky, ky));
    const unbiased = hsicUnbiased(kx, ky) / Math.sqrt(hsicUnbiased(kx, kx) * hsicUnbiased(ky, ky));
    expectClose([cka(x, y), cka(x, y, true)], [biased, unbiased], TOL.f64Identity, 'CKA');
    // Symmetric, and 1 against itself.
    expectClose([cka(y, x), cka(y, x, true)], [biased, unbiased], TOL.f64Identity, 'symmetry');
    expectClose([cka(x, x, true), cka(y, y)], [1, 1], TOL.f64Identity, 'self');
  });

  it('a permutation of the datapoints re-indexes the kernel as it does the centred rows (the chance level)', () => {
    const perm = Int32Array.from({ length: m }, (_, j) => (j * 17 + 5) % m);
    const permuteColumns = (x: Matrix): Matrix => ({
      rows: x.rows,
      cols: m,
      data: Float64Array.from({ length: x.rows * m }, (_, k) => x.data[Math.floor(k / m) * m + perm[k % m]]),
    });
    const options = { ...DEFAULT_OPTIONS, metric: 'cka' as const };
    for (const [x, y] of [
      [wide, wider],
      [narrow, wide],
    ]) {
      const fy = factorize({ kind: 'dense', x: y }, options, false);
      const permuted = factorPermuted(fy, perm);
      const fx = factorize({ kind: 'dense', x }, options, false);
      if (fx.kind !== 'cka' || permuted.kind !== 'cka') throw new Error('CKA factors expected');
      for (const debiased of [false, true])
        expectClose(
          ckaFromFactors(fx.factor, permuted.factor, debiased),
          cka(x, permuteColumns(y), debiased),
          TOL.f64Identity,
          `permuted, debiased ${debiased}`,
        );
    }
  });

  it('a stored conv layer flattened gives its kernel from the datapoint-major rows: bit for bit the kernel of the flattened matrix', () => {
    const [datapoints, channels, height, width] = [30, 4, 5, 3]; // 60 features > 30 datapoints
    const data = Float32Array.from(randn(25, 1, datapoints * channels * height * width).data, (v) => Math.max(0, v + 0.3));
    const rep = toRepresentation({ shape: [datapoints, channels, height, width], data }, 'datapoints-first', 'nchw');
    const source = reduceToSource(rep, 'flatten');
    expect('data' in source).toBe(false);
    const fromSource = ckaFactor(source);
    const fromMatrix = ckaFactor(reduceToMatrix(rep, 'flatten'));
    expect(Array.from(fromSource.kernel!.data)).toEqual(Array.from(fromMatrix.kernel!.data));
    expect([fromSource.selfDot, fromSource.squaredNorm, Array.from(fromSource.rowNorms)]).toEqual([
      fromMatrix.selfDot,
      fromMatrix.squaredNorm,
      Array.from(fromMatrix.rowNorms),
    ]);
  });
});

describe('a CKA factor asked for its spectrum (k99 as the job reads)', () => {
  it('holds varianceSpectrum of the same layer bit for bit: narrow and wide, from a matrix and from a stored source; not kept unless asked', () => {
    const narrow = randn(31, 12, 80);
    const wide = related(narrow, 120, 0.5, 32);
    for (const [label, x] of [
      ['narrow', narrow],
      ['wide', wide],
    ] as const) {
      expect(ckaFactor(x, true).spectrum, label).toEqual(varianceSpectrum(x));
      expect(ckaFactor(x).spectrum, label).toBeUndefined();
    }
    const data = Float32Array.from(randn(33, 1, 40 * 3 * 4 * 5).data);
    const rep = toRepresentation({ shape: [40, 3, 4, 5], data }, 'datapoints-first', 'nchw'); // 60 features > 40 datapoints
    expect(ckaFactor(reduceToSource(rep, 'flatten'), true).spectrum).toEqual(varianceSpectrum(reduceToMatrix(rep, 'flatten')));
  });
});
