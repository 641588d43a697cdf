// The chance level (src/analysis/baseline.ts): re-indexing factors equals recomputing on permuted
// data for every metric and the DFT; the permutation test is calibrated; a layer against itself is
// far above its chance level; grids, seeds, nulls and the freeze step.

import { describe, expect, it } from 'vitest';
import { baselineStatistics, datapointPermutations, factorPermuted, freezeStep, inputPermutations, resolveBaseline } from '../../src/analysis/baseline';
import { compareFactors, factorize } from '../../src/analysis/metrics';
import { comparePair, computeCross, computeDynamics } from '../../src/analysis/engine';
import { DEFAULT_OPTIONS, type AnalysisOptions, type Metric } from '../../src/analysis/types';
import type { NdArray } from '../../src/io/types';
import { permuteColumns, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { related } from '../helpers/data';
import { expectClose, TOL } from '../helpers/tolerance';

const cpu = (metric: Metric, extra: Partial<AnalysisOptions> = {}): AnalysisOptions => ({ ...DEFAULT_OPTIONS, metric, backend: 'cpu', ...extra });
const act = (name: string, x: Matrix) => ({ name, array: storedDatapointsFirst(x) });

/** A conv activation (N, H, W, C) of seeded normals, and the same with its datapoints permuted. */
function conv(seed: number, n: number, h: number, w: number, c: number, perm?: Int32Array): NdArray {
  const x = randn(seed, n, h * w * c); // row = datapoint
  const data = new Float64Array(n * h * w * c);
  for (let i = 0; i < n; i++) data.set(x.data.subarray((perm ? perm[i] : i) * h * w * c, ((perm ? perm[i] : i) + 1) * h * w * c), i * h * w * c);
  return { shape: [n, h, w, c], dtype: '<f8', data };
}

describe('permutations', () => {
  it('are permutations, reproducible from the seed, different across seeds', () => {
    const a = datapointPermutations(7, 50, 3);
    const b = datapointPermutations(7, 50, 3);
    expect(a.map((p) => Array.from(p))).toEqual(b.map((p) => Array.from(p)));
    for (const p of a) expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(a[0])).not.toEqual(Array.from(a[1]));
    expect(Array.from(datapointPermutations(8, 50, 1)[0])).not.toEqual(Array.from(a[0]));
  });

  it('refuses a count or seed that is not a whole number in range, with the reason', () => {
    expect(() => resolveBaseline({ permutations: 1 })).toThrow(/from 2 to/);
    expect(() => resolveBaseline({ permutations: 2.5 })).toThrow(/whole number of permutations/);
    expect(() => resolveBaseline({ seed: -1 })).toThrow(/seed/);
    expect(resolveBaseline({})).toEqual({ permutations: 20, seed: 1, cells: 'all', null: 'auto' });
    expect(resolveBaseline(null)).toBeNull();
  });
});

describe('the permuted factor is the factor of the permuted data (no new SVD)', () => {
  const x = randn(11, 6, 40);
  const y = related(x, 5, 0.5, 12);
  const permutations = 4;
  const seed = 3;
  for (const metric of ['svcca', 'cca', 'pwcca', 'cka', 'cka-debiased'] as Metric[]) {
    it(`${metric}: baseline equals the statistics of recomputed pairs`, async () => {
      const options = cpu(metric, metric === 'svcca' ? { keep: { kind: 'dims', k: 4 } } : {});
      const result = await comparePair(act('x', x), act('y', y), options, undefined, { permutations, seed, null: 'permutation' });
      const direct = await Promise.all(
        datapointPermutations(seed, 40, permutations).map(
          async (perm) => (await comparePair(act('x', x), act('y', permuteColumns(y, perm)), options)).similarity,
        ),
      );
      const mean = direct.reduce((s, v) => s + v, 0) / permutations;
      expectClose(result.baseline!.mean, mean, TOL.f64Identity, `${metric} mean`);
      const sd = Math.sqrt(direct.reduce((s, v) => s + (v - mean) ** 2, 0) / (permutations - 1));
      expectClose(result.baseline!.sd, sd, TOL.f64Identity, `${metric} sd`);
      expect(result.baseline!.permutations).toBe(permutations);
      expect(result.baseline!.seed).toBe(seed);
    });
  }

  it('pwcca: the permuted factor’s neuron coordinates are those of the permuted data, in Z’s basis and in the datapoints’ own', () => {
    // 6 rows over 40 datapoints: a basis of Z's rows (unmoved by the permutation); 25 rows, more than
    // half: the datapoints' basis (Z and the centred rows, permuted). Compared as matrices: PWCCA's
    // value itself is rounding-sensitive where the two sides share more directions than ρ = 1 separates.
    const perm = datapointPermutations(seed, 40, 1)[0];
    for (const [label, rows, basis] of [
      ['6 × 40', 6, 'rows'],
      ['25 × 40', 25, 'datapoints'],
    ] as const) {
      const y = randn(15 + rows, rows, 40);
      const factorOf = (m: Matrix) => {
        const f = factorize({ kind: 'dense', x: m }, cpu('pwcca'), false);
        if (f.kind !== 'pwcca' || !f.factor.pwcca) throw new Error('not a PWCCA factor');
        return f.factor;
      };
      const permuted = factorPermuted({ kind: 'pwcca', factor: factorOf(y), neurons: rows, datapoints: 40 }, perm);
      if (permuted.kind !== 'pwcca') throw new Error('not a PWCCA factor');
      const direct = factorOf(permuteColumns(y, perm));
      expect(permuted.factor.pwcca!.basis, label).toBe(basis);
      for (const key of ['z', 'neurons'] as const) {
        const ours = permuted.factor.pwcca![key];
        const theirs = direct.pwcca![key];
        const scale = Math.max(...theirs.data.map(Math.abs));
        // Z's basis rows may differ in sign between the two Gram–Schmidt runs only if Z's rows did: they do not (same eigenvectors).
        expectClose(
          ours.data.map((v) => v / scale),
          theirs.data.map((v) => v / scale),
          TOL.f64Identity,
          `${label}: ${key}`,
        );
      }
    }
  });

  for (const metric of ['svcca', 'cca'] as Metric[]) {
    it(`${metric} through the DFT: one permutation for every frequency block`, async () => {
      const options = cpu(metric, { convReduction: 'dft', layout: 'datapoints-first', convLayout: 'nhwc' });
      const a = { name: 'a', array: conv(21, 30, 3, 3, 2) };
      const b = { name: 'b', array: conv(22, 30, 3, 3, 2) };
      const result = await comparePair(a, b, options, undefined, { permutations: 3, seed: 5, null: 'permutation' });
      const direct = await Promise.all(
        datapointPermutations(5, 30, 3).map(async (perm) => (await comparePair(a, { name: 'b', array: conv(22, 30, 3, 3, 2, perm) }, options)).similarity),
      );
      expectClose(result.baseline!.mean, direct.reduce((s, v) => s + v, 0) / 3, TOL.f64Identity, `${metric} dft mean`);
    });
  }
});

describe('calibration and power', () => {
  it('over 500 pairs of independent representations with P = 99, p ≤ 0.05 in 3%–7% of them', async () => {
    // The engine's own pieces (factorize, factorPermuted, baselineStatistics) without its job
    // machinery, which yields to the event loop per grid row: 50 000 pairs stay a second.
    let rejected = 0;
    const pairs = 500;
    const options = cpu('cca');
    for (let s = 0; s < pairs; s++) {
      const fx = factorize({ kind: 'dense', x: randn(1000 + s, 3, 24) }, options, false);
      const fy = factorize({ kind: 'dense', x: randn(5000 + s, 3, 24) }, options, false);
      const observed = compareFactors(fx, fy, options).similarity;
      const permuted = datapointPermutations(s, 24, 99).map((perm) => compareFactors(fx, factorPermuted(fy, perm), options).similarity);
      if (baselineStatistics(observed, permuted, s).p <= 0.05) rejected++;
    }
    const fraction = rejected / pairs;
    expect(fraction, `fraction with p ≤ 0.05: ${fraction}`).toBeGreaterThanOrEqual(0.03);
    expect(fraction, `fraction with p ≤ 0.05: ${fraction}`).toBeLessThanOrEqual(0.07);
  });

  it('a layer against itself: similarity 1, chance far below, the smallest p', async () => {
    const x = randn(31, 20, 200);
    const r = await comparePair(act('x', x), act('x', x), cpu('svcca'), undefined, { permutations: 20, seed: 1, null: 'permutation' });
    expectClose(r.similarity, 1, TOL.f64Identity, 'self');
    // 200 datapoints, ~20 directions: chance is about k/m, far from 1.
    expect(r.baseline!.mean).toBeLessThan(0.3);
    expect(r.baseline!.z!).toBeGreaterThan(20);
    expect(r.baseline!.p).toBeCloseTo(1 / 21, 12);
  });
  it('a value the null does not move (two layers wider than their datapoints: CCA is 1 on the whole shared span) has no z and p = 1, whatever the rounding', async () => {
    // 60 and 50 neurons over 25 datapoints: every permutation gives 24 correlations of 1, to rounding
    // (ε = 0: the ridge would take ε/λ off the smallest directions' ρ, a little differently per draw).
    const layout = cpu('cca', { layout: 'datapoints-first', epsilon: 0 });
    for (const metric of ['cca', 'pwcca'] as const) {
      const r = await comparePair(act('x', randn(32, 60, 25)), act('y', randn(33, 50, 25)), { ...layout, metric }, undefined, {
        permutations: 9,
        seed: 3,
        null: 'permutation',
      });
      expectClose(r.baseline!.mean, r.similarity, TOL.f64Identity, `${metric}: chance is the value`);
      expect(r.baseline!.z, `${metric}: a z from rounding noise would be meaningless`).toBeNull();
      expect(r.baseline!.p, metric).toBe(1);
    }
    expect(baselineStatistics(0.5, [0.5 - 1e-16, 0.5 + 2e-16, 0.5], 1)).toMatchObject({ z: null, p: 1 });
    expect(baselineStatistics(0.5, [0.4, 0.45, 0.3], 1).p).toBe(1 / 4);
  });
});

describe('positions: whole inputs are shuffled, each keeping its positions', () => {
  it('inputPermutations expands an input permutation to its positions, input-major', () => {
    const [perm] = inputPermutations(5, 4, 3, 1);
    const [inputs] = datapointPermutations(5, 4, 1);
    expect(Array.from(perm)).toEqual(Array.from(inputs).flatMap((i) => [3 * i, 3 * i + 1, 3 * i + 2]));
    expect(inputPermutations(5, 4, 1, 2)).toEqual(datapointPermutations(5, 4, 2));
  });
  it('the chance level under positions is the mean over pairs whose B has its inputs permuted', async () => {
    const [n, h, w] = [40, 3, 3];
    const options = cpu('cca', { convReduction: 'positions' });
    const a = { name: 'a', array: conv(41, n, h, w, 4) };
    const request = { permutations: 3, seed: 9, null: 'permutation' as const };
    const r = await comparePair(a, { name: 'b', array: conv(42, n, h, w, 5) }, options, undefined, request);
    const permuted = await Promise.all(
      datapointPermutations(request.seed, n, request.permutations).map(
        async (perm) => (await comparePair(a, { name: 'b', array: conv(42, n, h, w, 5, perm) }, options)).similarity,
      ),
    );
    expectClose(r.baseline!.mean, permuted.reduce((x, y) => x + y, 0) / permuted.length, TOL.f64Identity, 'chance mean under positions');
  });
});

describe('grids', () => {
  const steps = [0, 1, 2];
  const layers = ['l1', 'l2'];
  const bundle = memoryBundle(
    'b',
    steps.flatMap((step) => layers.map((layer, i) => ({ step, layer, array: storedDatapointsFirst(randn(100 * step + i + 1, 4, 30)) }))),
  );

  it('dynamics: a baseline per cell, reproducible; diagonal leaves the off-diagonal null', async () => {
    const all = await computeDynamics({ bundle, baseline: { permutations: 5, seed: 9, null: 'permutation' } }, cpu('cca'));
    const again = await computeDynamics({ bundle, baseline: { permutations: 5, seed: 9, null: 'permutation' } }, cpu('cca'));
    expect(all.baseline).toEqual(again.baseline);
    expect(all.baseline!.length).toBe(steps.length);
    for (const grid of all.baseline!) for (const row of grid) for (const cell of row) expect(cell!.permutations).toBe(5);
    const diagonal = await computeDynamics({ bundle, baseline: { permutations: 5, seed: 9, cells: 'diagonal', null: 'permutation' } }, cpu('cca'));
    diagonal.baseline!.forEach((grid, t) =>
      grid.forEach((row, i) =>
        row.forEach((cell, j) => {
          if (i === j) expectClose(cell!.mean, all.baseline![t][i][j]!.mean, TOL.f64Identity, `diagonal ${t} ${i}`);
          else expect(cell).toBeNull();
        }),
      ),
    );
    const none = await computeDynamics({ bundle }, cpu('cca'));
    expect(none.baseline).toBeUndefined();
  });

  it('cross: the same numbers as each pair on its own', async () => {
    const cross = await computeCross({ a: { bundle }, b: { bundle }, step: 1, baseline: { permutations: 4, seed: 2, null: 'permutation' } }, cpu('svcca'));
    const entry = (layer: string) => bundle.entries.find((e) => e.step === 1 && e.layer === layer)!;
    const pair = await comparePair({ name: 'a', array: await entry('l1').load() }, { name: 'b', array: await entry('l2').load() }, cpu('svcca'), undefined, {
      permutations: 4,
      seed: 2,
      null: 'permutation',
    });
    expectClose(cross.baseline![0][1]!.mean, pair.baseline!.mean, TOL.f64Identity, 'cross vs pair');
    expectClose(cross.baseline![0][1]!.p, pair.baseline!.p, TOL.f64Identity, 'cross vs pair p');
  });
});

describe('freeze step with its chance level', () => {
  const b = (mean: number, sd: number) => ({ mean, sd, z: null, p: 0.05, permutations: 20, seed: 1, null: 'permutation' as const });
  it('finds the step from which the curve stays above the threshold and tests the threshold against chance', () => {
    const f = freezeStep([0.2, 0.95, 0.8, 0.91, 0.99], [null, null, null, b(0.5, 0.1), b(0.5, 0.1)], [0, 10, 20, 30, 40], 0.9);
    expect(f).toMatchObject({ t: 3, step: 30, similarity: 0.91, aboveChance: true });
    const near = freezeStep([0.95, 0.96], [b(0.85, 0.05), b(0.85, 0.05)], [0, 1], 0.9);
    expect(near.aboveChance).toBe(false);
    expect(freezeStep([0.95, 0.5], null, [0, 1], 0.9).t).toBeNull();
  });
});
