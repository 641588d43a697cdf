// One bad array in an across-runs job (a NaN in run b's fc2, an unreadable member) costs only the
// cells that use it: A's bad layer its row, B's bad layer its column. Every other cell is the
// all-good job's value bit for bit (CPU, CPU pool, every pair of an all-pairs job), one warning
// names the file, the array, what is wrong and which cells. Layers are stored datapoints-first
// (m datapoints, n neurons), as files hold them.
import { describe, expect, it } from 'vitest';
import { createNodePool } from '../../src/analysis/pool/node';
import { computeCross } from '../../src/analysis/engine';
import { computeCrossAllPairs } from '../../src/analysis/seedJobs';
import { crossBadCellWhy } from '../../src/analysis/chanceDefs';
import { formatCross } from '../../src/cli/format';
import { formatSeedsCross } from '../../src/cli/seeds';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { InputError, type Bundle, type NdArray } from '../../src/io/types';
import { randn } from '../../src/math/random';
import { add } from '../helpers/data';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';

const RUNS = ['a', 'b', 'c'];
const LAYERS = ['fc1', 'fc2', 'fc3'];
const STEP = 500;

/** Each run's layer: a shared representation plus run-specific noise, stored datapoints first. */
function goodArrays() {
  const shared = LAYERS.map((_, l) => randn(300 + l, 5 + 2 * l, 200));
  return RUNS.flatMap((run, r) =>
    LAYERS.map((layer, l) => ({ run, step: STEP, layer, array: storedDatapointsFirst(add(shared[l], randn(700 + 10 * r + l, shared[l].rows, 200), 0.5)) })),
  );
}

function withNaN(array: NdArray, index: number): NdArray {
  const data = Float64Array.from(array.data);
  data[index] = Number.NaN;
  return { ...array, data };
}

function bundleWith(run: string, layer: string): Bundle {
  return memoryBundle(
    'seeds.npz',
    goodArrays().map((a) => (a.run === run && a.layer === layer ? { ...a, array: withNaN(a.array, 9) } : a)),
  );
}

/** Every cell of `r` is `good`'s value exactly, except those `missing(i, j)` says, which are null. */
function expectOnlyMissing(r: (number | null)[][], good: (number | null)[][], missing: (i: number, j: number) => boolean) {
  r.forEach((row, i) =>
    row.forEach((v, j) => {
      if (missing(i, j)) expect(v).toBeNull();
      else expect(v).toBe(good[i][j]);
    }),
  );
}

describe('a bad array in an across-runs job', () => {
  const good = memoryBundle('seeds.npz', goodArrays());

  it("B's array bad: only its column is missing, every other cell is the all-good value exactly, reported once", async () => {
    const all = await computeCross({ a: { bundle: good, run: 'a' }, b: { bundle: good, run: 'b' } }, DEFAULT_OPTIONS);
    const partials: (readonly unknown[] | undefined)[] = [];
    const bad = bundleWith('b', 'fc2');
    const r = await computeCross({ a: { bundle: bad, run: 'a' }, b: { bundle: bad, run: 'b' } }, DEFAULT_OPTIONS, {
      onValues: (_, __, ___, badArrays) => partials.push(badArrays),
    });
    expectOnlyMissing(r.values, all.values, (_, j) => j === 1);
    expect(r.badArrays).toEqual([
      { step: STEP, layer: 'fc2', source: 'seeds.npz:b/step_500/fc2', problem: expect.stringMatching(/is NaN/), side: 'B', run: 'b' },
    ]);
    expect(partials).toEqual([r.badArrays]);
    const named = r.warnings.filter((w) => w.includes('b/step_500/fc2'));
    expect(named).toHaveLength(1);
    expect(named[0]).toMatch(
      /^seeds\.npz:b\/step_500\/fc2: value at index \[\d+, \d+\] is NaN.*B's layer fc2 \(run b\) at step 500 is left out: its column is missing \(3 cells\)/,
    );
    expect(crossBadCellWhy(r.badArrays, 'fc1', 'fc2')).toMatch(/^missing: seeds\.npz:b\/step_500\/fc2: .*NaN/);
    expect(crossBadCellWhy(r.badArrays, 'fc2', 'fc1')).toBeNull(); // A's fc2 is fine
    // The CLI's table: "—" in the column, and a line naming the array.
    const text = formatCross(r);
    expect(text).toMatch(/missing: column fc2 \(seeds\.npz:b\/step_500\/fc2: .*NaN/);
    expect(
      text
        .split('\n')
        .filter((l) => l.startsWith('fc1'))
        .join(''),
    ).toContain('—');
  });

  it("A's array unreadable: only its row is missing, with a chance level the other cells keep theirs", async () => {
    const baseline = { permutations: 5, seed: 3, cells: 'all' as const };
    const all = await computeCross({ a: { bundle: good, run: 'a' }, b: { bundle: good, run: 'c' }, baseline }, DEFAULT_OPTIONS);
    const bad = memoryBundle('seeds.npz', goodArrays());
    bad.entries = bad.entries.map((e) =>
      e.run === 'a' && e.layer === 'fc3'
        ? {
            ...e,
            load: async () => {
              throw new InputError(e.source, 'is not a valid .npy member (truncated header)');
            },
          }
        : e,
    );
    const r = await computeCross({ a: { bundle: bad, run: 'a' }, b: { bundle: bad, run: 'c' }, baseline }, DEFAULT_OPTIONS);
    expectOnlyMissing(r.values, all.values, (i) => i === 2);
    r.baseline!.forEach((row, i) => row.forEach((b, j) => (i === 2 ? expect(b).toBeNull() : expect(b).toEqual(all.baseline![i][j]))));
    expect(r.badArrays).toEqual([
      { step: STEP, layer: 'fc3', source: 'seeds.npz:a/step_500/fc3', problem: 'is not a valid .npy member (truncated header)', side: 'A', run: 'a' },
    ]);
    expect(r.warnings[0]).toMatch(/A's layer fc3 \(run a\) at step 500 is left out: its row is missing \(3 cells\)/);
    expect(formatCross(r)).toMatch(/missing: row fc3/);
  });

  it('every array of one side bad: the job stops naming the array', async () => {
    const bad = memoryBundle(
      'seeds.npz',
      goodArrays().map((a) => (a.run === 'b' ? { ...a, array: withNaN(a.array, 0) } : a)),
    );
    await expect(computeCross({ a: { bundle: bad, run: 'a' }, b: { bundle: bad, run: 'b' } }, DEFAULT_OPTIONS)).rejects.toThrow(
      /seeds\.npz:b\/step_500\/fc1: .*NaN.*every array of B's side/,
    );
  });

  it('the CPU pool gives the same cells and the same report', async () => {
    const pool = createNodePool(2);
    try {
      const bad = bundleWith('a', 'fc1');
      const plain = await computeCross({ a: { bundle: bad, run: 'a' }, b: { bundle: bad, run: 'b' } }, DEFAULT_OPTIONS);
      const pooled = await computeCross({ a: { bundle: bad, run: 'a' }, b: { bundle: bad, run: 'b' } }, DEFAULT_OPTIONS, {}, pool);
      expect(pooled.values).toEqual(plain.values);
      expect(pooled.badArrays).toEqual(plain.badArrays);
      expect(pooled.values[0]).toEqual([null, null, null]);
    } finally {
      pool.close();
    }
  });

  it('all pairs: the bad run-layer empties its cells in the pairs with that run only, reported once', async () => {
    const all = await computeCrossAllPairs({ bundle: good }, DEFAULT_OPTIONS);
    const r = await computeCrossAllPairs({ bundle: bundleWith('b', 'fc2') }, DEFAULT_OPTIONS);
    const k = LAYERS.indexOf('fc2');
    r.pairs.forEach((p, n) => {
      // b is B in (a, b) and A in (b, c); (a, c) is untouched.
      const missing = (i: number, j: number) => (p.b === 'b' && j === k) || (p.a === 'b' && i === k);
      expectOnlyMissing(p.values, all.pairs[n].values, missing);
    });
    expect(r.badArrays).toEqual([{ step: STEP, layer: 'fc2', source: 'seeds.npz:b/step_500/fc2', problem: expect.stringMatching(/is NaN/), run: 'b' }]);
    const named = r.warnings.filter((w) => w.includes('b/step_500/fc2'));
    expect(named).toHaveLength(1);
    expect(named[0]).toMatch(/run b's layer fc2 at step 500 is left out: its 3 cells are missing in each of the 2 pairs with run b/);
    expect(formatSeedsCross(r)).toMatch(/missing: run b's layer fc2 in the pairs with run b \(seeds\.npz:b\/step_500\/fc2: .*NaN/);
    // The diagonal's fc2 over pairs: only (a, c) has it.
    expect(r.diagonal[k].spread.n).toBe(1);
    expect(r.diagonal[k].spread.mean).toBe(all.pairs[1].values[k][k]);
  });

  it('all pairs: the warning counts only the computed pairs with the bad run, not the failed ones', async () => {
    // Every array of run c is bad, so (a, c) and (b, c) fail; b's fc2 is missing in (a, b) alone.
    const arrays = goodArrays().map((a) => (a.run === 'c' || (a.run === 'b' && a.layer === 'fc2') ? { ...a, array: withNaN(a.array, 9) } : a));
    const r = await computeCrossAllPairs({ bundle: memoryBundle('seeds.npz', arrays) }, DEFAULT_OPTIONS);
    expect(r.pairs.map((p) => [p.a, p.b])).toEqual([['a', 'b']]);
    expect(r.failedPairs?.map((f) => [f.a, f.b])).toEqual([
      ['a', 'c'],
      ['b', 'c'],
    ]);
    const named = r.warnings.filter((w) => w.includes('b/step_500/fc2'));
    expect(named).toHaveLength(1);
    expect(named[0]).toMatch(/run b's layer fc2 at step 500 is left out: its 3 cells are missing in the pair with run b/);
  });
});
