// The Gaussian null of the chance level (analysis/baseline.ts gaussianChance, src/math/canonicalNull.ts)
// as the engine uses it: calibrated on independent representations, Gaussian or not (ReLU'd,
// heavy-tailed); a layer against itself far above it; 'auto' choosing it for CCA and SVCCA (dense,
// mean-pool, flatten, DFT) and permutations for PWCCA, CKA and positions; falling back to
// permutations where it does not apply, and saying so; agreeing with the permutation null on
// independent conv layers through the DFT. Agreement on real layers: test/analysis/nullAgreement.test.ts.

import { describe, expect, it } from 'vitest';
import { baselineStatistics, datapointPermutations, factorPermuted, gaussianChance } from '../../src/analysis/baseline';
import { comparePair, computeDynamics } from '../../src/analysis/engine';
import { compareFactors, factorize } from '../../src/analysis/metrics';
import { DEFAULT_OPTIONS, type AnalysisOptions, type BaselineNull, type Metric } from '../../src/analysis/types';
import type { NdArray } from '../../src/io/types';
import type { Matrix } from '../../src/math/matrix';
import { mulberry32, randn } from '../../src/math/random';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { expectClose, TOL } from '../helpers/tolerance';

const cpu = (metric: Metric, extra: Partial<AnalysisOptions> = {}): AnalysisOptions => ({ ...DEFAULT_OPTIONS, metric, backend: 'cpu', ...extra });
const act = (name: string, x: Matrix) => ({ name, array: storedDatapointsFirst(x) });
const request = (kind: BaselineNull, permutations = 20, seed = 1) => ({ permutations, seed, null: kind, cells: 'all' as const });

/** Calibration: the fraction of independent pairs with p ≤ 0.05 lies in [3%, 7%] (±2 binomial sd at n = 500 is ±1.95%). */
const CALIBRATION = { pairs: 500, permutations: 99, low: 0.03, high: 0.07 };

/** Independent representations of three kinds: Gaussian, ReLU'd (half zeros, skewed), heavy-tailed (Student t, 3 dof). */
const KINDS: Record<string, (seed: number, n: number, m: number) => Matrix> = {
  gaussian: (seed, n, m) => randn(seed, n, m),
  relu: (seed, n, m) => {
    const x = randn(seed, n, m);
    return { ...x, data: x.data.map((v) => Math.max(0, v + 0.3)) };
  },
  'student-t': (seed, n, m) => {
    const x = randn(seed, n, m);
    const chi = randn(seed + 0x51ed, 3, n * m);
    const data = x.data.map((v, i) => v / Math.sqrt((chi.data[i] ** 2 + chi.data[n * m + i] ** 2 + chi.data[2 * n * m + i] ** 2) / 3));
    return { ...x, data };
  },
};

describe('calibration and power of the Gaussian null', () => {
  for (const [kind, make] of Object.entries(KINDS)) {
    it(`${kind}: over ${CALIBRATION.pairs} independent pairs with P = ${CALIBRATION.permutations}, p ≤ 0.05 in 3%–7% of them`, () => {
      let rejected = 0;
      const sizes = mulberry32(kind.length);
      for (let s = 0; s < CALIBRATION.pairs; s++) {
        // Shapes vary (k1, k2 from 2 to 9; m from 30 to 80) and metrics alternate: the null follows the shape.
        const [k1, k2, m] = [2 + Math.floor(sizes() * 8), 2 + Math.floor(sizes() * 8), 30 + Math.floor(sizes() * 51)];
        const options = s % 2 === 0 ? cpu('cca') : cpu('svcca');
        const fx = factorize({ kind: 'dense', x: make(1000 + s, k1, m) }, options, false);
        const fy = factorize({ kind: 'dense', x: make(5000 + s, k2, m) }, options, false);
        const numbers = compareFactors(fx, fy, options);
        const chance = gaussianChance(numbers.similarity, numbers.canonical!, request('gaussian', CALIBRATION.permutations, s));
        if (chance.p <= 0.05) rejected++;
      }
      const fraction = rejected / CALIBRATION.pairs;
      expect(fraction, `fraction with p ≤ 0.05: ${fraction}`).toBeGreaterThanOrEqual(CALIBRATION.low);
      expect(fraction, `fraction with p ≤ 0.05: ${fraction}`).toBeLessThanOrEqual(CALIBRATION.high);
    });
  }

  it('a layer against itself: similarity 1, chance far below, the smallest p', async () => {
    const x = randn(31, 20, 200);
    const r = await comparePair(act('x', x), act('x', x), cpu('svcca'), undefined, request('auto'));
    expectClose(r.similarity, 1, TOL.f64Identity, 'self');
    expect(r.baseline!.null).toBe('gaussian');
    expect(r.baseline!.mean).toBeLessThan(0.3);
    expect(r.baseline!.z!).toBeGreaterThan(20);
    expectClose(r.baseline!.p, 1 / 21, TOL.f64Identity, 'smallest p');
  });

  it('reproducible from the seed; cells of one shape share their draws', async () => {
    const x = randn(3, 6, 90);
    const y = randn(4, 5, 90);
    const a = await comparePair(act('x', x), act('y', y), cpu('cca'), undefined, request('gaussian', 20, 7));
    const b = await comparePair(act('x', x), act('y', y), cpu('cca'), undefined, request('gaussian', 20, 7));
    const c = await comparePair(act('x', x), act('y', y), cpu('cca'), undefined, request('gaussian', 20, 8));
    expect(a.baseline).toEqual(b.baseline);
    expect(a.baseline!.mean).not.toBe(c.baseline!.mean);
    // Another pair of the same shape (6 and 5 directions, 90 datapoints): the same null.
    const other = await comparePair(act('x', randn(5, 6, 90)), act('y', randn(6, 5, 90)), cpu('cca'), undefined, request('gaussian', 20, 7));
    expectClose(other.baseline!.mean, a.baseline!.mean, TOL.f64Identity, 'same shape, same null');
  });
});

/** A conv activation (N, H, W, C) of seeded normals. */
const conv = (seed: number, n: number, h: number, w: number, c: number): NdArray => ({
  shape: [n, h, w, c],
  dtype: '<f8',
  data: randn(seed, n, h * w * c).data,
});

describe("'auto' and the fallbacks", () => {
  const x = randn(21, 6, 60);
  const y = randn(22, 5, 60);
  for (const [metric, expected] of [
    ['cca', 'gaussian'],
    ['svcca', 'gaussian'],
    ['pwcca', 'permutation'],
    ['cka', 'permutation'],
  ] as [Metric, string][]) {
    it(`${metric}, dense: the ${expected} null, no note`, async () => {
      const r = await comparePair(act('x', x), act('y', y), cpu(metric), undefined, request('auto', 5));
      expect(r.baseline!.null).toBe(expected);
      expect(r.baseline!.nullNote).toBeUndefined();
    });
  }

  for (const reduction of ['meanpool', 'flatten', 'dft'] as const) {
    it(`svcca, conv layers under ${reduction}: the Gaussian null`, async () => {
      const options = cpu('svcca', { convReduction: reduction, convLayout: 'nhwc' });
      const r = await comparePair(
        { name: 'a', array: conv(31, 60, 3, 3, 2) },
        { name: 'b', array: conv(32, 60, 3, 3, 3) },
        options,
        undefined,
        request('auto', 5),
      );
      expect(r.baseline!.null).toBe('gaussian');
    });
  }

  it('positions: whole inputs permuted (datapoints within an input are not independent), a note only when the Gaussian null was asked for', async () => {
    const options = cpu('cca', { convReduction: 'positions', convLayout: 'nhwc' });
    const a = { name: 'a', array: conv(41, 40, 3, 3, 2) };
    const b = { name: 'b', array: conv(42, 40, 3, 3, 3) };
    const auto = await comparePair(a, b, options, undefined, request('auto', 4));
    expect(auto.baseline!.null).toBe('permutation');
    expect(auto.baseline!.nullNote).toBeUndefined();
    const asked = await comparePair(a, b, options, undefined, request('gaussian', 4));
    expect(asked.baseline!.null).toBe('permutation');
    expect(asked.baseline!.nullNote).toMatch(/positions/);
    expectClose(asked.baseline!.mean, auto.baseline!.mean, TOL.f64Identity, 'the same permutations');
  });

  it('the Gaussian null asked for CKA: permutations, and says so', async () => {
    const r = await comparePair(act('x', x), act('y', y), cpu('cka'), undefined, request('gaussian', 4));
    expect(r.baseline!.null).toBe('permutation');
    expect(r.baseline!.nullNote).toMatch(/for CCA and SVCCA, not cka/);
  });

  it('k1 + k2 > m − 1 (some correlations are 1 whatever the data): permutations, and says so', async () => {
    const wide = await comparePair(act('x', randn(51, 12, 20)), act('y', randn(52, 12, 20)), cpu('cca'), undefined, request('auto', 6));
    expect(wide.baseline!.null).toBe('permutation');
    expect(wide.baseline!.nullNote).toMatch(/12 \+ 12 directions exceed the 20 datapoints less one/);
    const exact = await comparePair(act('x', randn(51, 12, 20)), act('y', randn(52, 12, 20)), cpu('cca'), undefined, request('permutation', 6));
    expectClose(wide.baseline!.mean, exact.baseline!.mean, TOL.f64Identity, 'the permutation null itself');
  });

  it("a grid under 'auto' takes no permuted comparison: its cells are the pairs' Gaussian chance levels", async () => {
    const bundle = memoryBundle(
      'b',
      [0, 1].flatMap((step) => ['l1', 'l2'].map((layer, i) => ({ step, layer, array: storedDatapointsFirst(randn(10 * step + i + 1, 4 + i, 50)) }))),
    );
    const r = await computeDynamics({ bundle, baseline: request('auto', 8, 3) }, cpu('cca'));
    const pair = await comparePair(
      { name: 'a', array: storedDatapointsFirst(randn(1, 4, 50)) },
      { name: 'b', array: storedDatapointsFirst(randn(12, 5, 50)) },
      cpu('cca'),
      undefined,
      request('auto', 8, 3),
    );
    expect(r.baseline![0][0][1]).toEqual(pair.baseline);
    for (const cell of r.baseline!.flat(2)) expect(cell!.null).toBe('gaussian');
  });
});

describe('the Gaussian null agrees with the permutation null on independent data', () => {
  it('SVCCA through the DFT (complex and real frequency blocks), conv layers of two sizes', () => {
    // 4 × 4 against 3 × 3: shared frequencies with conjugate pairs (complex, β = 2), DC (real) and a
    // frequency real in one layer only. Independent seeded normals: both nulls describe the same law.
    const options = cpu('svcca', { convLayout: 'nhwc' });
    const n = 80;
    const differences: number[] = [];
    for (let s = 0; s < 6; s++) {
      const fa = factorize({ kind: 'conv', conv: { datapoints: n, height: 4, width: 4, channels: 3, data: randn(100 + s, n, 4 * 4 * 3).data } }, options, true);
      const fb = factorize({ kind: 'conv', conv: { datapoints: n, height: 3, width: 3, channels: 2, data: randn(200 + s, n, 3 * 3 * 2).data } }, options, true);
      const numbers = compareFactors(fa, fb, options);
      expect(numbers.canonical!.blocks.some((b) => b.beta === 2)).toBe(true);
      expect(numbers.canonical!.blocks.some((b) => b.beta === 1)).toBe(true);
      const gaussian = gaussianChance(numbers.similarity, numbers.canonical!, request('gaussian', 400, s));
      const permuted = datapointPermutations(s, n, 100).map((perm) => compareFactors(fa, factorPermuted(fb, perm), options).similarity);
      const exact = baselineStatistics(numbers.similarity, permuted, s);
      differences.push((gaussian.mean - exact.mean) / gaussian.sd);
    }
    // Six independent layouts: every mean within 1 sd of the null (its Monte-Carlo error is sd/10).
    for (const d of differences) expect(Math.abs(d), `(gaussian − permutation) / sd: ${differences.map((v) => v.toFixed(2)).join(', ')}`).toBeLessThan(1);
  });
});
