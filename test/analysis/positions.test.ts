// The positions conv reduction in grids: a conv layer becomes C neurons × N·H·W datapoints, a dense
// layer stays n × N, so only pairs with the same datapoint count after the reduction are compared.
// The others are null (never a number from another reduction), named in one warning per job.
import { describe, expect, it } from 'vitest';
import { comparePair, computeCross, computeDynamics, pairDirections, sampleDatapoints } from '../../src/analysis/engine';
import { prepare } from '../../src/analysis/prepare';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';
import type { NdArray } from '../../src/io/types';
import { randn } from '../../src/math/random';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { TOL, expectClose } from '../helpers/tolerance';

const positions = (over: Partial<AnalysisOptions> = {}): AnalysisOptions => ({ ...DEFAULT_OPTIONS, convReduction: 'positions', ...over });
const N = 60;

/** An NHWC conv activation (N, H, W, C) of seeded noise. */
function conv(seed: number, h: number, c: number): NdArray {
  return { shape: [N, h, h, c], dtype: '<f8', data: Float64Array.from(randn(seed, 1, N * h * h * c).data) };
}

// conv 8×8 (N·H·W = 3 840), two convs at 4×4 (960) and two dense layers (60): the three sizes.
const LAYERS = ['c8', 'c4a', 'c4b', 'fc1', 'fc2'];
const SIZE: Record<string, number> = { c8: 3840, c4a: 960, c4b: 960, fc1: 60, fc2: 60 };
function arraysAt(step: number, run: string | null = null) {
  const s = step * 10 + (run === 'b' ? 100 : 0);
  return [
    { run, step, layer: 'c8', array: conv(s + 1, 8, 3) },
    { run, step, layer: 'c4a', array: conv(s + 2, 4, 5) },
    { run, step, layer: 'c4b', array: conv(s + 3, 4, 2) },
    { run, step, layer: 'fc1', array: storedDatapointsFirst(randn(s + 4, 7, N)) },
    { run, step, layer: 'fc2', array: storedDatapointsFirst(randn(s + 5, 4, N)) },
  ];
}
const bundle = () => memoryBundle('cnn.npz', [...arraysAt(0), ...arraysAt(1)]);

describe('positions in a grid', () => {
  it('computes same-size pairs, leaves the others null, and names them in one warning', async () => {
    const b = bundle();
    const progress: { done: number; total: number }[] = [];
    const r = await computeDynamics({ bundle: b }, positions(), { onProgress: (p) => progress.push(p) });
    expect(r.layers).toEqual(LAYERS);
    for (const [t, step] of r.steps.entries()) {
      for (const [i, li] of LAYERS.entries()) {
        for (const [j, lj] of LAYERS.entries()) {
          const v = r.values[t][i][j];
          if (SIZE[li] !== SIZE[lj]) {
            expect(v, `values[${t}][${i}][${j}] (${li} × ${lj})`).toBeNull();
            continue;
          }
          // A computed cell is exactly what comparing the two arrays alone gives.
          const ea = b.entries.find((e) => e.step === step && e.layer === li)!;
          const eb = b.entries.find((e) => e.step === r.reference && e.layer === lj)!;
          const pair = await comparePair({ name: ea.source, array: await ea.load() }, { name: eb.source, array: await eb.load() }, positions());
          expectClose(v, pair.similarity, TOL.f64Identity, `values[${t}][${i}][${j}] (${li} × ${lj})`);
        }
      }
    }
    // Progress counts the skipped pairs too, so a finished job reads 50 of 50.
    expect(progress[progress.length - 1]).toEqual(expect.objectContaining({ done: 50, total: 50 }));
    const empty = r.warnings.filter((w) => w.includes('positions compares layers at the same spatial size only'));
    expect(r.warnings[0]).toBe(empty[0]); // first: it explains the empty cells
    expect(empty).toHaveLength(1);
    const warning = empty[0];
    // Every unordered pair once: 8 pairs (c8 with 4 others, c4a/c4b with fc1/fc2), read as 3 groups.
    expect(warning).toBe(
      'layers at different sizes under positions: layer c8 (N·H·W = 3\u202f840 datapoints); layer c4a, layer c4b (N·H·W = 960 datapoints); layer fc1, layer fc2 (60 datapoints): ' +
        'positions compares layers at the same spatial size only; choose mean-pool or flatten to compare them; the cells between these groups (8 pairs) are left empty',
    );
    expect(r.conventions.convReduction).toBe('positions');
  });

  it('across runs: A × B cells null where sizes differ, one pair named per warning line', async () => {
    const a = memoryBundle('a.npz', [...arraysAt(1, 'a'), ...arraysAt(1, 'b')]);
    const onlyCfc = memoryBundle('b.npz', [arraysAt(1, 'b')[0], arraysAt(1, 'b')[3]]); // c8, fc1
    const r = await computeCross({ a: { bundle: a, run: 'a' }, b: { bundle: onlyCfc, run: 'b' } }, positions({ metric: 'cka' }));
    expect(r.layersB).toEqual(['c8', 'fc1']);
    const expected = LAYERS.map((l) => [SIZE[l] === 3840, SIZE[l] === 60]);
    expect(r.values.map((row) => row.map((v) => v !== null))).toEqual(expected);
    expect(r.warnings.filter((w) => w.includes('positions compares'))).toHaveLength(1);
    expect(r.warnings.find((w) => w.includes('positions compares'))).toContain(
      "A's layer c8, B's layer c8 (N·H·W = 3\u202f840 datapoints); A's layer c4a, A's layer c4b (N·H·W = 960 datapoints); B's layer fc1, A's layer fc1, A's layer fc2 (60 datapoints)",
    );
    // Two layers only: the pair is named as a pair.
    const two = memoryBundle('two.npz', [arraysAt(1, 'b')[0], arraysAt(1, 'b')[3]]);
    const pair = await computeCross({ a: { bundle: two }, b: { bundle: two } }, positions({ metric: 'cka' }));
    expect(pair.warnings).toContain(
      "A's layer c8 (N·H·W = 3\u202f840 datapoints) and B's layer fc1 (60 datapoints); A's layer fc1 (60 datapoints) and B's layer c8 (N·H·W = 3\u202f840 datapoints): " +
        'positions compares layers at the same spatial size only; choose mean-pool or flatten to compare them; their cells are left empty',
    );
  });

  it('under flatten and mean-pool every pair computes', async () => {
    for (const convReduction of ['flatten', 'meanpool'] as const) {
      const r = await computeDynamics({ bundle: bundle() }, positions({ convReduction, metric: 'cka' }));
      expect(r.values.flat(2).every((v) => v !== null && Number.isFinite(v))).toBe(true);
      expect(r.warnings.some((w) => w.includes('positions compares'))).toBe(false);
    }
  });

  it('a lone pair that positions cannot compare is refused, naming both and what to do', async () => {
    const c = { name: 'conv1.npy', array: conv(1, 8, 3) };
    const fc = { name: 'fc.npy', array: storedDatapointsFirst(randn(2, 7, N)) };
    await expect(comparePair(c, fc, positions())).rejects.toThrow(
      'conv1.npy: has N·H·W = 3\u202f840 datapoints under positions but fc.npy has 60 datapoints: positions compares layers at the same spatial size only; choose mean-pool or flatten to compare them',
    );
  });

  it('inputs that differ (not only the spatial split) are still refused', async () => {
    const other = memoryBundle('odd.npz', [
      { step: 0, layer: 'c', array: conv(1, 4, 3) },
      { step: 0, layer: 'fc', array: storedDatapointsFirst(randn(2, 7, N + 1)) },
    ]);
    await expect(computeDynamics({ bundle: other }, positions())).rejects.toThrow(/datapoints/);
  });
});

describe('drill-down directions are bounded', () => {
  it('sampleDatapoints: evenly spaced, ascending, deterministic, never more than asked', () => {
    expect(sampleDatapoints(10, 4)).toEqual([0, 2, 5, 7]);
    expect(sampleDatapoints(25_600, 2000)).toHaveLength(2000);
    expect(sampleDatapoints(25_600, 2000)).toEqual(sampleDatapoints(25_600, 2000));
    expect(sampleDatapoints(3, 10)).toEqual([0, 1, 2]);
  });
  it('pairDirections returns at most maxPoints datapoints per direction: the sampled columns of the full ones', () => {
    const a = prepare({ name: 'c8a', array: conv(1, 8, 3) }, positions());
    const b = prepare({ name: 'c8b', array: conv(2, 8, 4) }, positions());
    const full = pairDirections(a, b, positions(), 3)!;
    expect(full.datapoints).toBe(3840);
    expect(full.indices).toBeNull();
    expect(full.x[0]).toHaveLength(3840);
    const capped = pairDirections(a, b, positions(), 3, 500)!;
    expect(capped.datapoints).toBe(3840);
    expect(capped.indices).toEqual(sampleDatapoints(3840, 500));
    for (let k = 0; k < 3; k++) {
      expect(capped.x[k]).toEqual(capped.indices!.map((i) => full.x[k][i]));
      expect(capped.y[k]).toEqual(capped.indices!.map((i) => full.y[k][i]));
    }
    expect(capped.rho).toEqual(full.rho);
  });
});
