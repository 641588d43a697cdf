// analysis/seeds.ts: the aggregation over runs and run pairs (nulls, n, sample sd) and the freeze
// step per run on each run's own checkpoints. The numbers against numpy: test/python/seeds.test.ts.

import { describe, expect, it } from 'vitest';
import { aggregateCross, aggregateDynamics, formatSpread, freezeIndex, matrixSpread, runPairs, spreadOf } from '../../src/analysis/seeds';
import { expectClose, TOL } from '../helpers/tolerance';

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
