// analysis/seeds.ts: the aggregation over runs and run pairs (nulls, n, sample sd) and the freeze
// step per run on each run's own checkpoints. The numbers against numpy: test/python/seeds.test.ts.

import { describe, expect, it } from 'vitest';
import { computeCrossAllPairs, computeDynamicsAllRuns } from '../../src/analysis/seedJobs';
import { aggregateCross, aggregateDynamics, formatSpread, freezeIndex, matrixSpread, runPairs, spreadOf } from '../../src/analysis/seeds';
import { cantelliP, combineChance, holmAdjusted, layerVerdicts, standardisedVariance } from '../../src/analysis/seedsChance';
import { DEFAULT_OPTIONS, type Baseline } from '../../src/analysis/types';
import type { Bundle } from '../../src/io/types';
import { randn } from '../../src/math/random';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { add, related } from '../helpers/data';
import { expectClose, TOL } from '../helpers/tolerance';

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('spreadOf', () => {
  it('gives mean, sample sd (n − 1), min, max and n, leaving nulls out', () => {
    const s = spreadOf([0.2, null, 0.4, 0.9]);
    expect(s.n).toBe(3);
    expectClose([s.mean!, s.sd!, s.min!, s.max!], [0.5, Math.sqrt((0.3 ** 2 + 0.1 ** 2 + 0.4 ** 2) / 2), 0.2, 0.9], TOL.f64Identity, 'spread');
  });
  it('has no sd for one value and nothing for none', () => {
    expect(spreadOf([0.7])).toEqual({ mean: 0.7, sd: null, min: 0.7, max: 0.7, n: 1 });
    expect(spreadOf([null, null])).toEqual({ mean: null, sd: null, min: null, max: null, n: 0 });
    expect(formatSpread(spreadOf([0.7]))).toBe('0.700 (n = 1)');
    expect(formatSpread(spreadOf([]))).toBe('—');
  });
  it('is zero-spread for identical runs', () => {
    const cells = matrixSpread([[[0.5, 1]], [[0.5, 1]], [[0.5, 1]]]);
    expect(cells[0].map((c) => c.sd)).toEqual([0, 0]);
  });
});

describe('aggregateDynamics', () => {
  const layers = ['a', 'b'];
  // values[t][i][j]; run r2 has one more step (150) than r1: it is left out of the mean, not of r2's freeze step.
  const r1 = {
    run: 'r1',
    steps: [0, 100, 200],
    reference: 200,
    values: [
      [
        [0.1, 0.2],
        [0.3, 0.4],
      ],
      [
        [0.96, 0.5],
        [0.5, 0.5],
      ],
      [
        [1, 0.6],
        [0.6, 1],
      ],
    ],
  };
  const r2 = {
    run: 'r2',
    steps: [0, 100, 150, 200],
    reference: 200,
    values: [
      [
        [0.3, 0.2],
        [0.3, 0.6],
      ],
      [
        [0.5, 0.5],
        [0.5, 0.97],
      ],
      [
        [0.99, 0.5],
        [0.5, 0.98],
      ],
      [
        [1, 0.6],
        [0.6, 1],
      ],
    ],
  };
  const agg = aggregateDynamics([r1, r2], layers, 0.95);
  it('averages each cell over runs on the steps all runs have', () => {
    expect(agg.steps).toEqual([0, 100, 200]);
    expectClose(
      agg.cells[0].flat().map((c) => c.mean!),
      [0.2, 0.2, 0.3, 0.5],
      TOL.f64Identity,
      'step 0',
    );
    expect(agg.curves[1].map((c) => c.mean)).toEqual([agg.cells[0][1][1].mean, agg.cells[1][1][1].mean, agg.cells[2][1][1].mean]);
    expect(agg.notes).toEqual(['run r2: step 150 not in every run, left out of the mean (kept in its own freeze step)']);
  });
  it('gives each run its own freeze step and their spread', () => {
    expect(agg.freeze[0].steps).toEqual([100, 150]);
    expect(agg.freeze[1].steps).toEqual([200, 100]);
    expect(agg.freeze[0].spread).toMatchObject({ mean: 125, min: 100, max: 150, n: 2 });
  });
  it('matches the convergence chart: freezeIndex is the first index from which all stay ≥ threshold', () => {
    expect(freezeIndex([0.96, 0.5, 0.97, 0.99], 0.95)).toBe(2);
    expect(freezeIndex([0.96, 0.97, null], 0.95)).toBeNull();
  });
});

describe('aggregateCross', () => {
  it('pairs every two runs once and averages the matrices, with the diagonal by layer name', () => {
    expect(runPairs(3)).toEqual([
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
    const agg = aggregateCross(
      [
        {
          a: 's0',
          b: 's1',
          values: [
            [0.9, 0.1],
            [0.2, 0.5],
          ],
        },
        {
          a: 's0',
          b: 's2',
          values: [
            [0.7, 0.3],
            [0.2, null],
          ],
        },
      ],
      ['x', 'y'],
      ['x', 'y'],
    );
    expectClose([agg.cells[0][0].mean!, agg.cells[0][1].mean!], [0.8, 0.2], TOL.f64Identity, 'means');
    expect(agg.diagonal.map((d) => [d.layer, d.spread.n])).toEqual([
      ['x', 2],
      ['y', 1],
    ]);
  });
});

const baseline = (mean: number, sd: number, z: number | null, p = 0.05): Baseline => ({ mean, sd, z, p, permutations: 20, seed: 1, null: 'permutation' });

describe('combineChance (Stouffer over run pairs, Cantelli p)', () => {
  it("gives the chance's spread over pairs, the mean sd, z's spread, Z = Σz/√K and its one-sided p", () => {
    const c = combineChance([baseline(0.2, 0.01, 3), baseline(0.3, 0.02, 1), null, baseline(0.25, 0.03, 2)])!;
    expect(c.pairs).toBe(3);
    expectClose([c.chance.mean!, c.chance.sd!, c.chanceSd!], [0.25, 0.05, 0.02], TOL.f64Identity, 'chance');
    expectClose([c.z.mean!, c.z.sd!], [2, 1], TOL.f64Identity, 'z');
    expectClose(c.combinedZ, 6 / Math.sqrt(3), TOL.f64Identity, 'Z');
    const v = (23 / 20) * (19 / 17); // (1 + K/P)(P − 1)/(P − 3), K = 3 pairs
    expectClose(c.p, v / (v + 12), TOL.f64Identity, 'p (Cantelli, Z² = 12)');
    expect(c.request).toEqual({ permutations: 20, seed: 1, null: 'permutation' });
  });
  it('leaves out pairs without a z (sd 0) and keeps any other field of the request', () => {
    const c = combineChance([{ ...baseline(0.2, 0, null), null: 'permutation' }, baseline(0.3, 0.02, 2)])!;
    expect([c.pairs, c.withoutZ, c.z.n]).toEqual([2, 1, 1]);
    expectClose(c.combinedZ, 2, TOL.f64Identity, 'Z of the one pair with a z');
    expect(c.request).toEqual({ permutations: 20, seed: 1, null: 'permutation' });
    expect(combineChance([null, undefined])).toBeNull();
    expect(combineChance([baseline(0.2, 0, null)])).toMatchObject({ combinedZ: null, p: null });
  });
});

describe('holmAdjusted and the verdict per layer', () => {
  it("is Holm's step-down in the input's order, nulls left out of the family", () => {
    // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.06, 0.04·1) = 0.06.
    expectClose(holmAdjusted([0.01, 0.04, null, 0.03, 0.005]), [0.03, 0.06, null, 0.06, 0.02], TOL.f64Identity, 'Holm');
    expect(holmAdjusted([0.9, 0.8])).toEqual([1, 1]);
  });
  it('calls a layer above chance across seeds when its Holm p ≤ 0.05', () => {
    // v = 1.1735 (P = 20): Z = 7 gives p = 0.0234, Z = 5.5 gives p = 0.0373; Holm over two: 0.0469 and 0.0469.
    const verdicts = layerVerdicts([combineChance([baseline(0.2, 0.01, 7)]), combineChance([baseline(0.2, 0.01, 5.5)]), null]);
    expect(verdicts.map((v) => v?.aboveChance ?? null)).toEqual([true, true, null]);
    expectClose([verdicts[0]!.pHolm, verdicts[1]!.pHolm], [2 * verdicts[0]!.p!, 2 * verdicts[0]!.p!], TOL.f64Identity, 'Holm');
    const three = layerVerdicts([5.5, 5.5, 5.5].map((z) => combineChance([baseline(0.2, 0.01, z)])));
    expect(three.map((v) => v!.aboveChance)).toEqual([false, false, false]);
  });
});

/** Three runs × `layers` layers at one step, datapoints × neurons; `shared`: each run's layer is a random map of one latent (related across seeds), else independent noise. */
function seedsOfLayers(seed: number, layers: number, shared: boolean, m = 48, neurons = 4): Bundle {
  const latent = randn(seed, 6, m);
  return memoryBundle(
    `seeds-${seed}`,
    ['s0', 's1', 's2'].flatMap((run, r) =>
      Array.from({ length: layers }, (_, l) => {
        const noise = randn(seed * 1000 + 10 * r + l + 1, neurons, m);
        const x = shared ? related(latent, neurons, 0.5, seed * 1000 + 10 * r + l + 500) : noise;
        return { run, step: 10, layer: `l${l}`, array: storedDatapointsFirst(x) };
      }),
    ),
  );
}

describe('computeCrossAllPairs with a chance level', () => {
  const options = { ...DEFAULT_OPTIONS, metric: 'cca' as const, epsilon: 0, backend: 'cpu' as const };
  it('finds layers that share a representation across seeds above chance, every pair with its own chance level', async () => {
    const r = await computeCrossAllPairs({ bundle: seedsOfLayers(3, 3, true), baseline: { permutations: 20, seed: 5, cells: 'diagonal' } }, options);
    expect(r.pairs.every((p) => p.baseline!.every((row, i) => row.every((b, j) => (b !== null) === (i === j))))).toBe(true);
    expect(r.diagonal.map((d) => d.chance!.aboveChance)).toEqual([true, true, true]);
    expect(r.chanceTest).toMatchObject({ alpha: 0.05, layers: 3 });
    for (const [i, d] of r.diagonal.entries()) {
      expect(d.chance!.pairs).toBe(3);
      expectClose(d.chance!.chance.mean, mean(r.pairs.map((p) => p.baseline![i][i]!.mean)), TOL.f64Identity, `chance of ${d.layer}`);
      expect(d.spread.mean!).toBeGreaterThan(d.chance!.chance.mean! + 5 * d.chance!.chanceSd!);
    }
    expect(r.chance![0][1]).toBeNull();
  });
  it('calls independent seeds above chance at no more than the nominal rate; their combined Z has mean 0 and variance about 1', async () => {
    // 40 bundles of 3 runs × 3 independent layers: 120 layer tests, 40 Holm families.
    const zs: number[] = [];
    const ps: number[] = [];
    let families = 0;
    for (let seed = 100; seed < 140; seed++) {
      const r = await computeCrossAllPairs({ bundle: seedsOfLayers(seed, 3, false), baseline: { permutations: 20, seed, cells: 'diagonal' } }, options);
      zs.push(...r.diagonal.map((d) => d.chance!.combinedZ!));
      ps.push(...r.diagonal.map((d) => d.chance!.p!));
      if (r.diagonal.some((d) => d.chance!.aboveChance)) families++;
    }
    expect(ps.filter((p) => p <= 0.05).length / ps.length).toBeLessThanOrEqual(0.05);
    expect(families / 40).toBeLessThanOrEqual(0.05);
    // The premise of the bound: the pairs' z are uncorrelated (Var Z ≈ Var z ≈ v = 1.17 for P = 20,
    // not 3× that as for fully correlated pairs) and centred (sd of the mean over 120: about 0.1).
    const m = mean(zs);
    const variance = zs.reduce((s, z) => s + (z - m) ** 2, 0) / (zs.length - 1);
    expect(Math.abs(m)).toBeLessThan(0.35);
    expect(variance).toBeGreaterThan(0.6);
    expect(variance).toBeLessThan(1.8);
    expectClose(standardisedVariance(20), (1.05 * 19) / 17, TOL.f64Identity, 'v for P = 20');
  }, 120_000);
  it('bounds p by Cantelli: 1 / (1 + Z²/v), 1 for Z ≤ 0 and without a finite v', () => {
    expectClose(cantelliP(3, 1), 0.1, TOL.f64Identity, 'Z = 3');
    expect([cantelliP(-1, 1), cantelliP(0, 1), cantelliP(5, standardisedVariance(3))]).toEqual([1, 1, 1]);
  });
});

describe('computeDynamicsAllRuns with a chance level', () => {
  it("gives each run's chance at its freeze step and their spread over runs", async () => {
    const arrays = ['s0', 's1'].flatMap((run, r) =>
      [0, 1, 2].flatMap((t) => {
        const final = randn(40 + r, 4, 40);
        const x = t === 2 ? final : add(final, randn(60 + 10 * r + t, 4, 40), t === 0 ? 3 : 0.05);
        return [{ run, step: 10 * t, layer: 'l0', array: storedDatapointsFirst(x) }];
      }),
    );
    const options = { ...DEFAULT_OPTIONS, metric: 'cca' as const, epsilon: 0, backend: 'cpu' as const };
    const r = await computeDynamicsAllRuns(
      { bundle: memoryBundle('two', arrays), threshold: 0.9, baseline: { permutations: 10, seed: 2, cells: 'diagonal' } },
      options,
    );
    const f = r.freeze[0];
    expect(f.steps).toEqual([10, 10]);
    expect(f.chance!.baselines.map((b) => b!.permutations)).toEqual([10, 10]);
    expect(f.chance!.aboveChance).toEqual([true, true]);
    expect(f.chance!).toMatchObject({ aboveChanceRuns: 2, frozen: 2 });
    expectClose(f.chance!.chance.mean, mean(f.chance!.baselines.map((b) => b!.mean)), TOL.f64Identity, 'chance at freeze');
    expect(r.chanceCells![1][0][0].n).toBe(2);
    expect(r.perRunBaseline![0][1][0][0]).toEqual(f.chance!.baselines[0]);
  });
});
