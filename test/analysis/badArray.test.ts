// One bad array in a learning-dynamics job (a NaN in step_200/fc2, an unreadable member, a bad
// reference array) costs only the cells that use it: every other cell is the all-good job's value
// bit for bit, the bad cells are null, and one warning names the file, the array and what is wrong.
// Freeze steps come from the values that exist, undecided where a missing one could change them.
// Layers are stored datapoints-first (m datapoints, n neurons), as files hold them.
import { describe, expect, it } from 'vitest';
import { createNodePool } from '../../src/analysis/pool/node';
import { cpuBackend, type ComputeBackend } from '../../src/analysis/backend';
import { computeDynamics } from '../../src/analysis/engine';
import { FactorCache } from '../../src/analysis/factorCache';
import { badCellWhy, freezeStep, freezeSteps, freezeWithGaps, undecidedText } from '../../src/analysis/chanceDefs';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { InputError, type Bundle, type NdArray } from '../../src/io/types';
import { randn } from '../../src/math/random';
import { add } from '../helpers/data';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';

const STEPS = [0, 100, 200, 300, 1000];
const LAYERS = ['fc1', 'fc2', 'fc3'];

/** Each layer at each step: the final representation plus noise that shrinks over training. */
function goodArrays() {
  const finals = LAYERS.map((_, l) => randn(300 + l, 6 + 2 * l, 240));
  return STEPS.flatMap((step, t) =>
    LAYERS.map((layer, l) => ({ step, layer, array: storedDatapointsFirst(add(finals[l], randn(400 + 10 * t + l, finals[l].rows, 240), (4 - t) / 3)) })),
  );
}

function withNaN(array: NdArray, index: number): NdArray {
  const data = Float64Array.from(array.data);
  data[index] = Number.NaN;
  return { ...array, data };
}

function bundleWith(step: number, layer: string, bad: (a: NdArray) => NdArray): Bundle {
  return memoryBundle(
    'study.npz',
    goodArrays().map((a) => (a.step === step && a.layer === layer ? { ...a, array: bad(a.array) } : a)),
  );
}

describe('a bad array in a learning-dynamics job', () => {
  it('a NaN in a middle checkpoint: only its row at that step is missing, every other cell is the all-good value exactly', async () => {
    const good = await computeDynamics({ bundle: memoryBundle('study.npz', goodArrays()) }, DEFAULT_OPTIONS);
    const partials: number[] = [];
    const r = await computeDynamics({ bundle: bundleWith(200, 'fc2', (a) => withNaN(a, 7)) }, DEFAULT_OPTIONS, {
      onValues: (t) => partials.push(t),
    });
    expect(partials).toEqual([0, 1, 2, 3, 4]); // every checkpoint computed, none stops the job
    const t = STEPS.indexOf(200);
    const i = LAYERS.indexOf('fc2');
    r.values.forEach((grid, s) =>
      grid.forEach((row, a) =>
        row.forEach((v, b) => {
          if (s === t && a === i) expect(v).toBeNull();
          else expect(v).toBe(good.values[s][a][b]);
        }),
      ),
    );
    expect(r.badArrays).toEqual([{ step: 200, layer: 'fc2', source: 'study.npz:step_200/fc2', problem: expect.stringMatching(/is NaN/) }]);
    const named = r.warnings.filter((w) => w.includes('step_200/fc2'));
    expect(named).toHaveLength(1); // reported once
    expect(named[0]).toMatch(/^study\.npz:step_200\/fc2: value at index \[\d+, \d+\] is NaN.*layer fc2 at step 200 is left out/);
    expect(badCellWhy(r.badArrays, 200, r.reference, 'fc2', 'fc1')).toMatch(/study\.npz:step_200\/fc2: .*NaN/);
    expect(badCellWhy(r.badArrays, 300, r.reference, 'fc2', 'fc1')).toBeNull();
  });

  it("the reference checkpoint's array bad: that layer's column is missing at every step, the rest exact", async () => {
    const good = await computeDynamics({ bundle: memoryBundle('study.npz', goodArrays()) }, DEFAULT_OPTIONS);
    const r = await computeDynamics(
      { bundle: bundleWith(1000, 'fc3', (a) => ({ ...a, data: a.data.map((v, k) => (k === 3 ? Infinity : v)) })) },
      DEFAULT_OPTIONS,
    );
    const j = LAYERS.indexOf('fc3');
    r.values.forEach((grid, s) =>
      grid.forEach((row, a) =>
        row.forEach((v, b) => {
          // Column fc3 everywhere; at the reference step also row fc3 (the same array).
          if (b === j || (STEPS[s] === 1000 && a === j)) expect(v).toBeNull();
          else expect(v).toBe(good.values[s][a][b]);
        }),
      ),
    );
    expect(r.warnings.filter((w) => w.includes('step_1000/fc3'))).toEqual([expect.stringMatching(/\+Inf.*its column is missing at all 5 checkpoints/)]);
    // The curve of fc3 has no value at all: its freeze step is undecidable, the others are decided.
    const freeze = freezeSteps(r, 0.5);
    expect(freeze.find((f) => f.layer === 'fc3')?.undecided).toEqual({ earliest: 0, latest: null, missing: STEPS });
    expect(freeze.find((f) => f.layer === 'fc1')?.undecided).toBeUndefined();
  });

  it('an unreadable member is a bad array too; the factor cache keeps the good ones', async () => {
    const bundle = memoryBundle('study.npz', goodArrays());
    const entries = bundle.entries.map((e) =>
      e.step === 100 && e.layer === 'fc1'
        ? {
            ...e,
            load: async () => {
              throw new InputError(e.source, 'is truncated: 4800 bytes of 11520');
            },
          }
        : e,
    );
    const cache = new FactorCache();
    const r = await computeDynamics({ bundle: { ...bundle, entries }, cache }, DEFAULT_OPTIONS);
    expect(r.values[1][0]).toEqual([null, null, null]);
    expect(r.values[2].flat().every((v) => v !== null)).toBe(true);
    expect(r.warnings[0]).toMatch(/^study\.npz:step_100\/fc1: is truncated: 4800 bytes of 11520; layer fc1 at step 100 is left out/);
  });

  it('the same on the CPU thread pool: the one-thread numbers exactly, the bad cells missing', async () => {
    const pool = createNodePool(2);
    try {
      const plain = await computeDynamics({ bundle: bundleWith(200, 'fc2', (a) => withNaN(a, 7)) }, DEFAULT_OPTIONS);
      const pooled = await computeDynamics({ bundle: bundleWith(200, 'fc2', (a) => withNaN(a, 7)) }, DEFAULT_OPTIONS, {}, pool);
      expect(pooled.values).toEqual(plain.values);
      expect(pooled.values[2][1]).toEqual([null, null, null]);
      expect(pooled.badArrays).toEqual(plain.badArrays);
    } finally {
      pool.close();
    }
  });

  it('an error that is not bad input (a bug, a lost device) still stops the job', async () => {
    const bundle = memoryBundle('study.npz', goodArrays());
    const entries = bundle.entries.map((e) =>
      e.step === 300 && e.layer === 'fc1'
        ? {
            ...e,
            load: async () => {
              throw new Error('device lost');
            },
          }
        : e,
    );
    await expect(computeDynamics({ bundle: { ...bundle, entries } }, DEFAULT_OPTIONS)).rejects.toThrow('device lost');
  });

  describe('on the CPU pool, where a batch is factored while the next is read', () => {
    // 2048 datapoints × 4200 neurons: over 64 MiB as float64, so it is a batch of its own, handed
    // to the workers before the next array is read (engine.ts loadSide).
    const big = (): NdArray => ({ shape: [2048, 4200], dtype: '<f4', data: Float32Array.from({ length: 2048 * 4200 }, (_, i) => Math.sin(i)) });
    /** A pool-like backend whose factoring takes a while and then succeeds or fails. */
    const slowPool = (fail: Error | null) => {
      const seen = { settled: false, released: [] as unknown[] };
      const backend: ComputeBackend = {
        ...cpuBackend,
        threads: 2,
        factorize: (reps) =>
          new Promise((resolve, reject) =>
            setTimeout(() => {
              seen.settled = true;
              if (fail) reject(fail);
              else resolve(reps.map(() => ({ marker: true })));
            }, 100),
          ),
        release: (factors) => void seen.released.push(...factors),
      };
      return { backend, seen };
    };

    it('an array that fails while the batch before is in flight: the job waits for that batch, releases it and stops', async () => {
      const { backend, seen } = slowPool(null);
      const bundle = memoryBundle('study.npz', [
        { step: 0, layer: 'wide', array: big() },
        { step: 0, layer: 'next', array: big() },
      ]);
      const entries = bundle.entries.map((e) => (e.layer === 'next' ? { ...e, load: () => Promise.reject(new Error('disk gone')) } : e));
      await expect(computeDynamics({ bundle: { ...bundle, entries } }, DEFAULT_OPTIONS, {}, backend)).rejects.toThrow('disk gone');
      expect(seen.settled).toBe(true);
      expect(seen.released).toEqual([{ marker: true }]);
    });

    it('a batch that fails in flight stops the job with its error once the reading is done', async () => {
      const { backend, seen } = slowPool(new Error('a CPU worker thread failed: out of memory'));
      const bundle = memoryBundle('study.npz', [
        { step: 0, layer: 'wide', array: big() },
        { step: 0, layer: 'small', array: storedDatapointsFirst(randn(5, 4, 2048)) },
      ]);
      await expect(computeDynamics({ bundle }, DEFAULT_OPTIONS, {}, backend)).rejects.toThrow('a CPU worker thread failed: out of memory');
      expect(seen.settled).toBe(true);
    });
  });
});

describe('freeze steps with missing values', () => {
  const steps = [0, 100, 200, 300, 400];
  it('decided from what exists when a missing value lies before the last value below the threshold', () => {
    const r = freezeWithGaps([0.99, null, 0.5, 0.97, 0.98], 0.95, [false, true, false, false, false]);
    expect(r).toEqual({ t: 3 });
  });
  it('undecidable between the earliest and the latest it could be', () => {
    const r = freezeStep([0.5, 0.96, null, 0.97, 0.98], null, steps, 0.95, [false, false, true, false, false]);
    expect(r.t).toBeNull();
    expect(r.undecided).toEqual({ earliest: 100, latest: 300, missing: [200] });
    expect(undecidedText(r.undecided!)).toBe('undecidable (step 200 missing): from step 100 if it was at or above the threshold, else from step 300');
  });
  it('the last value missing: it may never freeze', () => {
    expect(freezeWithGaps([0.5, 0.97, null], 0.95, [false, false, true]).undecided).toEqual({ earliest: 1, latest: null, missing: [2] });
  });
  it('a value not computed yet (no mask) is still "not yet"', () => {
    expect(freezeWithGaps([0.97, 0.98, null], 0.95, null)).toEqual({ t: null });
  });
});
