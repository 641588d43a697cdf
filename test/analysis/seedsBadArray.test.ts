// Many seeds with a bad array: a run's freeze step that a missing value (a bad array's cell, null
// for good) could change is undecidable, never "not yet" and never a step; where the missing value
// cannot change it (it lies before the last value below the threshold) the step stands.
// Grids: values[t][i][j] = similarity of layer i at steps[t] to layer j at the run's reference.
import { describe, expect, it } from 'vitest';
import { aggregateDynamics, type RunDynamics } from '../../src/analysis/seeds';
import { computeDynamicsAllRuns } from '../../src/analysis/seedJobs';
import { formatSeedsDynamics } from '../../src/cli/seeds';
import { seedsDynamicsCsv } from '../../src/state/seeds';
import { DEFAULT_OPTIONS, type BadArray } from '../../src/analysis/types';
import { randn } from '../../src/math/random';
import { add } from '../helpers/data';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';

const STEPS = [0, 100, 200, 300];

/** One layer's convergence curve as a 1 × 1 grid per step (null where `missing`). */
function run(name: string, curve: (number | null)[], badArrays?: BadArray[]): RunDynamics {
  return { run: name, steps: STEPS, reference: 300, values: curve.map((v) => [[v]]), ...(badArrays ? { badArrays } : {}) };
}
const bad = (step: number): BadArray => ({ step, layer: 'fc', source: `s.npz:r/step_${step}/fc`, problem: 'value at index [0, 0] is NaN' });

describe('freeze steps over runs with a bad array', () => {
  it('a missing value after the last one below the threshold: that run is undecidable, the others stand', () => {
    const agg = aggregateDynamics([run('a', [0.2, 0.5, 0.95, 1]), run('b', [0.2, 0.5, null, 1], [bad(200)])], ['fc'], 0.9);
    const f = agg.freeze[0];
    expect(f.steps).toEqual([200, null]);
    expect(f.undecided).toEqual([null, { earliest: 200, latest: 300, missing: [200] }]);
    // The spread is over the decided runs only.
    expect(f.spread.n).toBe(1);
    expect(f.spread.mean).toBe(200);
  });

  it('a missing value before the last one below the threshold cannot change the step: decided', () => {
    const agg = aggregateDynamics([run('a', [0.2, 0.5, 0.95, 1]), run('b', [null, 0.5, 0.95, 1], [bad(0)])], ['fc'], 0.9);
    expect(agg.freeze[0].steps).toEqual([200, 200]);
    expect(agg.freeze[0].undecided).toBeUndefined();
  });

  it('a null without a bad array is a value not computed yet (no undecidable)', () => {
    const agg = aggregateDynamics([run('a', [0.2, 0.5, null, 1]), run('b', [0.2, 0.5, 0.95, 1])], ['fc'], 0.9);
    expect(agg.freeze[0].steps).toEqual([300, 200]);
    expect(agg.freeze[0].undecided).toBeUndefined();
  });

  it('the all-runs job, its CLI text and its CSV say undecidable for the run with the bad array', async () => {
    const finals = [randn(31, 6, 160), randn(32, 8, 160)];
    const layers = ['fc1', 'fc2'];
    const arrays = ['r0', 'r1'].flatMap((r, k) =>
      STEPS.flatMap((step, t) =>
        layers.map((layer, l) => {
          const array = storedDatapointsFirst(add(finals[l], randn(60 + 10 * k + 3 * t + l, finals[l].rows, 160), (3 - t) / 6));
          if (r === 'r1' && step === 200 && layer === 'fc2') {
            const data = Float64Array.from(array.data);
            data[4] = Number.NaN;
            return { run: r, step, layer, array: { ...array, data } };
          }
          return { run: r, step, layer, array };
        }),
      ),
    );
    const result = await computeDynamicsAllRuns({ bundle: memoryBundle('s.npz', arrays), threshold: 0.3 }, DEFAULT_OPTIONS);
    const f = result.freeze[1];
    expect(f.steps[0]).not.toBeNull(); // r0 freezes at some step with this low threshold
    expect(f.steps[1]).toBeNull();
    expect(f.undecided?.[1]).toMatchObject({ missing: [200] });
    expect(result.freeze[0].undecided).toBeUndefined(); // fc1 has no missing value
    const text = formatSeedsDynamics(result);
    expect(text).toMatch(/fc2\s+\d+, undecidable/);
    expect(text).toMatch(/run r1: undecidable \(step 200 missing\)/);
    const csv = seedsDynamicsCsv(result, []);
    expect(csv.split('\n').find((l) => l.startsWith('fc2,'))).toMatch(/,undecidable/);
  });
});
