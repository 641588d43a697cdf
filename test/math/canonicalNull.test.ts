// The Gaussian null's sampler (src/math/canonicalNull.ts) against what it stands for:
// - the explicit construction: independent Gaussian k1 × m and k2 × m matrices through the engine's
//   own CCA (real), and complex Gaussian blocks through the DFT path's real embedding, halved (β = 2):
//   mean and sd of the mean canonical correlation within Monte-Carlo error, and a two-sample
//   Kolmogorov–Smirnov test;
// - exact laws: p = 1, ρ² ~ Beta(βq/2, β(ν − q)/2) (mean q/ν, variance known in closed form);
//   Gamma and χ² moments; the tridiagonal eigenvalues against the dense eigensolver;
// - reproducibility from the seed, and the limit p + q ≤ ν.
// test/python/canonicalNull.test.ts checks the same draws against numpy's explicit construction (real and complex Gaussian matrices, QR, SVD).

import { describe, expect, it } from 'vitest';
import {
  chiSquare,
  denseCanonicalShape,
  drawCanonicalCorrelations,
  gamma,
  gaussianNullDraws,
  gaussianNullLimit,
  tridiagonalEigenvalues,
} from '../../src/math/canonicalNull';
import { ccaFactor, ccaFromFactors } from '../../src/math/cca';
import { halve } from '../../src/math/dft';
import { symmetricEigen } from '../../src/math/eigen';
import { zeros, type Matrix } from '../../src/math/matrix';
import { mulberry32, randn } from '../../src/math/random';
import { expectSameDistribution, MC_STANDARD_ERRORS, mean, sd } from '../helpers/distribution';
import { expectClose, TOL } from '../helpers/tolerance';

/** The mean ρ of independent real Gaussian k1 × m and k2 × m matrices, by the engine's CCA (ε = 0). */
function explicitReal(k1: number, k2: number, m: number, count: number, seed: number): number[] {
  return Array.from({ length: count }, (_, t) => ccaFromFactors(ccaFactor(randn(seed + 2 * t, k1, m), 0), ccaFactor(randn(seed + 2 * t + 1, k2, m), 0)).mean);
}

/** k circular complex Gaussian rows over m datapoints, centred and real-embedded as src/math/dft.ts does (2k × 2m). */
function complexEmbedded(seed: number, k: number, m: number): Matrix {
  const re = randn(seed, k, m);
  const im = randn(seed + 0x9e37, k, m);
  const out = zeros(2 * k, 2 * m);
  for (let c = 0; c < k; c++) {
    let mr = 0;
    let mi = 0;
    for (let i = 0; i < m; i++) {
      mr += re.data[c * m + i] / m;
      mi += im.data[c * m + i] / m;
    }
    for (let i = 0; i < m; i++) {
      const a = re.data[c * m + i] - mr;
      const b = im.data[c * m + i] - mi;
      out.data[c * 2 * m + i] = a;
      out.data[c * 2 * m + m + i] = -b;
      out.data[(k + c) * 2 * m + i] = b;
      out.data[(k + c) * 2 * m + m + i] = a;
    }
  }
  return out;
}

/** The mean complex ρ of independent complex Gaussian blocks: the DFT path's embedding, every other ρ. */
function explicitComplex(k1: number, k2: number, m: number, count: number, seed: number): number[] {
  return Array.from({ length: count }, (_, t) => {
    const rho = ccaFromFactors(ccaFactor(complexEmbedded(seed + 2 * t, k1, m), 0), ccaFactor(complexEmbedded(seed + 2 * t + 1, k2, m), 0)).rho;
    return mean(halve(rho));
  });
}

const block = (k1: number, k2: number, beta: 1 | 2) => ({ ranks: [k1, k2] as [number, number], count: Math.min(k1, k2), beta, multiplicity: 1 });

describe('the Gaussian null against the explicit construction', () => {
  for (const [k1, k2, m] of [
    [1, 5, 50],
    [5, 5, 40],
    [3, 12, 30],
    [10, 20, 200],
    [20, 20, 41], // p + q = ν: the edge the null still covers
  ]) {
    it(`real, k1 = ${k1}, k2 = ${k2}, m = ${m}: mean, sd and KS`, () => {
      const explicit = explicitReal(k1, k2, m, 400, 1000 * k1 + k2);
      const draws = gaussianNullDraws({ dof: m - 1, blocks: [block(k1, k2, 1)] }, 7, 2000);
      expectSameDistribution(explicit, draws, `real ${k1},${k2},${m}`);
    });
  }
  for (const [k1, k2, m] of [
    [1, 4, 30],
    [4, 4, 25],
    [3, 8, 60],
  ]) {
    it(`complex (β = 2), k1 = ${k1}, k2 = ${k2}, m = ${m}: mean, sd and KS`, () => {
      const explicit = explicitComplex(k1, k2, m, 400, 77 * k1 + k2);
      const draws = gaussianNullDraws({ dof: m - 1, blocks: [block(k1, k2, 2)] }, 11, 2000);
      expectSameDistribution(explicit, draws, `complex ${k1},${k2},${m}`);
    });
  }

  it('a DFT-like union: blocks with multiplicities average like the union of their correlations', () => {
    // Two real blocks (DC-like) and one complex block counted twice, ν = 39.
    const shape = { dof: 39, blocks: [block(3, 4, 1), block(2, 2, 1), { ...block(3, 3, 2), multiplicity: 2 }] };
    const draws = gaussianNullDraws(shape, 5, 2000);
    const explicit = Array.from({ length: 400 }, (_, t) => {
      const r1 = ccaFromFactors(ccaFactor(randn(10 + 6 * t, 3, 40), 0), ccaFactor(randn(11 + 6 * t, 4, 40), 0)).rho;
      const r2 = ccaFromFactors(ccaFactor(randn(12 + 6 * t, 2, 40), 0), ccaFactor(randn(13 + 6 * t, 2, 40), 0)).rho;
      const c = halve(ccaFromFactors(ccaFactor(complexEmbedded(14 + 6 * t, 3, 40), 0), ccaFactor(complexEmbedded(15 + 6 * t, 3, 40), 0)).rho);
      return mean([...r1, ...r2, ...c, ...c]);
    });
    expectSameDistribution(explicit, draws, 'union');
  });
});

describe('exact laws', () => {
  for (const [q, nu, beta] of [
    [1, 9, 1],
    [5, 49, 1],
    [30, 99, 1],
    [4, 29, 2],
  ] as [number, number, 1 | 2][]) {
    it(`p = 1, q = ${q}, ν = ${nu}, β = ${beta}: ρ² ~ Beta(βq/2, β(ν − q)/2)`, () => {
      const next = mulberry32(q * 100 + nu);
      const n = 20_000;
      const squares = Array.from({ length: n }, () => drawCanonicalCorrelations(block(1, q, beta), nu, next)[0] ** 2);
      const a = (beta * q) / 2;
      const b = (beta * (nu - q)) / 2;
      const expectedMean = a / (a + b); // = q/ν
      const expectedVariance = (a * b) / ((a + b) ** 2 * (a + b + 1));
      expect(Math.abs(mean(squares) - expectedMean)).toBeLessThan(MC_STANDARD_ERRORS * Math.sqrt(expectedVariance / n));
      expect(Math.abs(sd(squares) ** 2 / expectedVariance - 1)).toBeLessThan(0.05);
    });
  }

  it('Gamma and χ² moments for small, unit and large shapes (mean k, variance 2k for χ²_k)', () => {
    for (const dof of [0.6, 1, 3, 57, 4000]) {
      const next = mulberry32(dof * 10);
      const n = 20_000;
      const v = Array.from({ length: n }, () => chiSquare(dof, next));
      expect(Math.abs(mean(v) - dof), `χ²_${dof} mean`).toBeLessThan(MC_STANDARD_ERRORS * Math.sqrt((2 * dof) / n));
      expect(Math.abs(sd(v) ** 2 / (2 * dof) - 1), `χ²_${dof} variance`).toBeLessThan(0.06);
    }
    expect(() => gamma(0, mulberry32(1))).toThrow(/positive/);
  });

  it('tridiagonal eigenvalues equal the dense eigensolver’s', () => {
    const next = mulberry32(3);
    for (const n of [1, 2, 7, 40]) {
      const d = Float64Array.from({ length: n }, () => next() * 2 - 1);
      const e = Float64Array.from({ length: Math.max(0, n - 1) }, () => next());
      const dense = zeros(n, n);
      for (let i = 0; i < n; i++) {
        dense.data[i * n + i] = d[i];
        if (i + 1 < n) dense.data[i * n + i + 1] = dense.data[(i + 1) * n + i] = e[i];
      }
      const expected = Array.from(symmetricEigen(dense, 'jacobi').values);
      const got = Array.from(tridiagonalEigenvalues(d.slice(), e.slice())).sort((x, y) => y - x);
      expectClose(got, expected, TOL.f64Residual * 10, `n = ${n}`);
    }
  });
});

describe('shapes, limits and seeds', () => {
  it('draws are reproducible from the seed and differ across seeds', () => {
    const shape = denseCanonicalShape([6, 9], [6, 9], 100);
    expect(gaussianNullDraws(shape, 4, 5)).toEqual(gaussianNullDraws(shape, 4, 5));
    expect(gaussianNullDraws(shape, 4, 5)).not.toEqual(gaussianNullDraws(shape, 5, 5));
  });

  it('null directions count as zeros: count above the smaller rank pads the mean', () => {
    // One side clipped to 2 whitened directions of 4 kept: 4 correlations, 2 of them 0.
    const padded = gaussianNullDraws(denseCanonicalShape([2, 6], [4, 6], 50), 8, 50);
    const plain = gaussianNullDraws(denseCanonicalShape([2, 6], [2, 6], 50), 8, 50);
    expectClose(
      padded,
      plain.map((v) => v / 2),
      TOL.f64Identity,
      'padded',
    );
  });

  it('beyond p + q > ν the null does not apply and says why', () => {
    expect(gaussianNullLimit(denseCanonicalShape([20, 20], [20, 20], 41))).toBeNull();
    expect(gaussianNullLimit(denseCanonicalShape([21, 20], [21, 20], 41))).toMatch(/21 \+ 20 directions exceed/);
    expect(() => gaussianNullDraws(denseCanonicalShape([30, 30], [30, 30], 41), 1, 2)).toThrow(/does not apply/);
  });
});
