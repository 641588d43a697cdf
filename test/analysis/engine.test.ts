import { describe, expect, it } from 'vitest';
import { comparePair, computeCross, computeDynamics } from '../../src/analysis/engine';
import { inferDatapoints } from '../../src/analysis/prepare';
import { FactorCache } from '../../src/analysis/factorCache';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';
import { InputError, type NdArray } from '../../src/io/types';
import { svcca } from '../../src/math/cca';
import { randn } from '../../src/math/random';
import { add, related } from '../helpers/data';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { TOL, expectClose } from '../helpers/tolerance';

const options = (over: Partial<AnalysisOptions> = {}): AnalysisOptions => ({ ...DEFAULT_OPTIONS, ...over });
const X = randn(1, 12, 400); // 12 neurons × 400 datapoints
const Y = related(X, 9, 1, 2);

describe('comparePair', () => {
  it('reads datapoints-first and neurons-first files to the same number', async () => {
    const expected = svcca(X, Y, { kind: 'variance', fraction: 0.99 }, 1e-10).mean;
    const a = { name: 'x.npy', array: storedDatapointsFirst(X) };
    const b = { name: 'y.npy', array: storedDatapointsFirst(Y) };
    const neuronsFirst: NdArray = { shape: [9, 400], dtype: '<f8', data: Y.data };
    const r1 = await comparePair(a, b, options());
    const r2 = await comparePair(a, { name: 'yT.npy', array: neuronsFirst }, options());
    expectClose([r1.similarity, r2.similarity], [expected, expected], TOL.f64Identity, 'svcca');
    expect(r2.conventions.layout).toEqual(['datapoints-first', 'neurons-first']);
    expect(r1.kept[0]).toBeLessThanOrEqual(12);
    expect(r1.datapoints).toBe(400);
  });
  it('refuses differing datapoint counts, naming both files and counts', async () => {
    const a = { name: 'a.npy', array: storedDatapointsFirst(randn(3, 5, 300)) };
    const b = { name: 'b.npy', array: storedDatapointsFirst(randn(4, 5, 299)) };
    await expect(comparePair(a, b, options({ layout: 'datapoints-first' }))).rejects.toThrow(/a\.npy: has 300 datapoints but b\.npy has 299/);
  });
  it('refuses NaN with a message naming the file and index', async () => {
    const bad = storedDatapointsFirst(randn(5, 3, 50));
    bad.data[7] = NaN;
    await expect(comparePair({ name: 'bad.npy', array: bad }, { name: 'x.npy', array: storedDatapointsFirst(randn(6, 3, 50)) }, options())).rejects.toThrow(
      /bad\.npy: value at index \[2, 1\] is NaN/,
    );
  });
  it('warns when datapoints are fewer than 5 per neuron, and for dead neurons', async () => {
    const few = randn(7, 30, 100);
    few.data.fill(0, 0, 100);
    const r = await comparePair(
      { name: 'few.npy', array: storedDatapointsFirst(few) },
      { name: 'y.npy', array: storedDatapointsFirst(randn(8, 4, 100)) },
      options({ metric: 'cca' }),
    );
    expect(r.warnings.some((w) => w.startsWith('few.npy: 100 datapoints for 30 neurons'))).toBe(true);
    expect(r.warnings.some((w) => w.startsWith('few.npy: 1 neuron with relative variance below'))).toBe(true);
  });
  it('compares conv layers (NCHW file) through the DFT and says so', async () => {
    const conv: NdArray = { shape: [200, 3, 4, 4], dtype: '<f4', data: Float32Array.from(randn(9, 1, 200 * 48).data) };
    const r = await comparePair({ name: 'conv.npy', array: conv }, { name: 'fc.npy', array: storedDatapointsFirst(randn(10, 5, 200)) }, options());
    expect(r.conventions.convReduction).toBe('dft');
    expect(r.conventions.convLayout[0]).toBe('nchw');
    // The stored shape and how it was read, not the internal NHWC order.
    expect(r.warnings.some((w) => w.startsWith('conv.npy: conv layer stored (200, 3, 4, 4), read as NCHW: C=3, H=W=4; reduced with dft'))).toBe(true);
  });
  it('refuses CKA through the DFT with a way out', async () => {
    const conv: NdArray = { shape: [50, 2, 2, 3], dtype: '<f4', data: new Float32Array(600).map((_, i) => Math.sin(i)) };
    await expect(comparePair({ name: 'c.npy', array: conv }, { name: 'c2.npy', array: conv }, options({ metric: 'cka' }))).rejects.toThrow(InputError);
    await expect(comparePair({ name: 'c.npy', array: conv }, { name: 'c2.npy', array: conv }, options({ metric: 'cka' }))).rejects.toThrow(
      /choose flatten, positions or meanpool/,
    );
  });
  it('infers the shared datapoint count from shapes', () => {
    expect(
      inferDatapoints([
        [500, 20],
        [500, 3, 4, 4],
      ]),
    ).toBe(500);
    expect(
      inferDatapoints([
        [20, 500],
        [500, 30],
      ]),
    ).toBe(500);
    // Identical shapes: the larger shared axis is the datapoints.
    expect(
      inferDatapoints([
        [50, 2000],
        [50, 2000],
      ]),
    ).toBe(2000);
    expect(
      inferDatapoints([
        [300, 6],
        [300, 4],
        [300, 3, 4, 4],
      ]),
    ).toBe(300);
    // A shared small axis is no evidence of datapoints: the larger axes then differ and are refused.
    expect(
      inferDatapoints([
        [400, 16],
        [300, 16],
      ]),
    ).toBeUndefined();
  });
});

function dynamicsBundle() {
  const steps = [0, 10, 20];
  const finals = [randn(100, 6, 300), randn(101, 8, 300), randn(102, 5, 300)];
  const arrays = [];
  for (const step of steps) {
    for (let l = 0; l < finals.length; l++) {
      // Later steps move towards the final representation.
      const x = add(finals[l], randn(200 + step * 7 + l, finals[l].rows, 300), (20 - step) / 10);
      arrays.push({ step, layer: `layer${l}`, array: storedDatapointsFirst(x) });
    }
  }
  return memoryBundle('run.npz', arrays);
}

describe('computeDynamics', () => {
  it('values[t][i][j] = sim(layer i at step t, layer j at the reference), factors reused', async () => {
    const bundle = dynamicsBundle();
    const progress: number[] = [];
    const r = await computeDynamics({ bundle }, options(), { onProgress: (p) => progress.push(p.done) });
    expect(r.steps).toEqual([0, 10, 20]);
    expect(r.reference).toBe(20);
    expect(r.layers).toEqual(['layer0', 'layer1', 'layer2']);
    expect(progress[progress.length - 1]).toBe(27);
    for (const [t, step] of r.steps.entries()) {
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const a = bundle.entries.find((e) => e.step === step && e.layer === `layer${i}`)!;
          const b = bundle.entries.find((e) => e.step === 20 && e.layer === `layer${j}`)!;
          const pair = await comparePair({ name: a.source, array: await a.load() }, { name: b.source, array: await b.load() }, options());
          expectClose(r.values[t][i][j], pair.similarity, TOL.f64Identity, `values[${t}][${i}][${j}]`);
        }
      }
    }
    // At the reference step the diagonal is 1; earlier steps are further away.
    for (let i = 0; i < 3; i++) expectClose(r.values[2][i][i], 1, 1e-9, `diagonal ${i}`);
    expect(r.values[0][0][0]).toBeLessThan(r.values[1][0][0]!);
  });
  it('reports each checkpoint’s grid as it finishes, with every cell’s kept dimensions (the tooltips’)', async () => {
    const bundle = dynamicsBundle();
    const reported: { t: number; values: (number | null)[][]; kept: ([number, number] | null)[][] }[] = [];
    const r = await computeDynamics({ bundle }, options(), { onValues: (t, values, kept) => reported.push({ t, values, kept }) });
    expect(reported.map((g) => g.t)).toEqual([0, 1, 2]);
    for (const { t, values, kept } of reported) {
      expect(values).toEqual(r.values[t]);
      const a = bundle.entries.find((e) => e.step === r.steps[t] && e.layer === 'layer1')!;
      const b = bundle.entries.find((e) => e.step === 20 && e.layer === 'layer2')!;
      const pair = await comparePair({ name: a.source, array: await a.load() }, { name: b.source, array: await b.load() }, options());
      expect(kept[1][2]).toEqual(pair.kept);
    }
  });
  it('takes another reference step', async () => {
    const r = await computeDynamics({ bundle: dynamicsBundle(), reference: 10 }, options({ metric: 'cka' }));
    expect(r.reference).toBe(10);
    expectClose(r.values[1][1][1], 1, TOL.f64Identity, 'self at reference');
  });
  it('refuses a reference step that does not exist', async () => {
    await expect(computeDynamics({ bundle: dynamicsBundle(), reference: 7 }, options())).rejects.toThrow(
      /has no step 7 to use as reference \(steps: 0, 10, 20\)/,
    );
  });
  it('cancels between chunks with an AbortError', async () => {
    const controller = new AbortController();
    const job = computeDynamics({ bundle: dynamicsBundle() }, options(), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 3) controller.abort();
      },
    });
    await expect(job).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('computeCross', () => {
  it('values[i][j] = sim(A layer i, B layer j) at the last shared step', async () => {
    const a = dynamicsBundle();
    const b = memoryBundle('other.npz', [
      { step: 20, layer: 'fc', array: storedDatapointsFirst(randn(300, 7, 300)) },
      { step: 20, layer: 'out', array: storedDatapointsFirst(randn(301, 3, 300)) },
    ]);
    const r = await computeCross({ a: { bundle: a }, b: { bundle: b } }, options());
    expect(r.step).toBe(20);
    expect(r.layersB).toEqual(['fc', 'out']);
    expect(r.values).toHaveLength(3);
    expect(r.values[0]).toHaveLength(2);
    await expect(computeCross({ a: { bundle: a }, b: { bundle: b }, step: 10 }, options())).rejects.toThrow(/other\.npz: has no step 10/);
  });
});

describe('FactorCache across jobs', () => {
  /** The dynamics bundle with a counter of array loads. */
  function counted() {
    const bundle = dynamicsBundle();
    let loads = 0;
    for (const entry of bundle.entries) {
      const load = entry.load;
      entry.load = async () => {
        loads++;
        return load();
      };
    }
    return { bundle, loads: () => loads };
  }

  it('a second job with another reference step reuses every factor and loads nothing', async () => {
    const { bundle, loads } = counted();
    const cache = new FactorCache();
    const first = await computeDynamics({ bundle, cache }, options());
    expect(loads()).toBe(9);
    const again = await computeDynamics({ bundle, cache, reference: 10 }, options());
    expect(loads()).toBe(9);
    expect(cache.hits).toBeGreaterThanOrEqual(9);
    // Same numbers as without a cache.
    const plain = await computeDynamics({ bundle: dynamicsBundle(), reference: 10 }, options());
    expectClose(again.values.flat(2), plain.values.flat(2), TOL.f64Identity, 'cached vs fresh');
    expect(first.reference).toBe(20);
  });
  it('a setting the factors depend on misses the cache; switching back hits it', async () => {
    const { bundle, loads } = counted();
    const cache = new FactorCache();
    await computeDynamics({ bundle, cache }, options());
    await computeDynamics({ bundle, cache }, options({ keep: { kind: 'dims', k: 3 } }));
    expect(loads()).toBe(18);
    await computeDynamics({ bundle, cache }, options());
    expect(loads()).toBe(18);
  });
  it("forgets a removed bundle's factors and keeps the others", async () => {
    const cache = new FactorCache();
    const kept = dynamicsBundle();
    const removed = dynamicsBundle();
    await computeDynamics({ bundle: kept, cache }, options());
    const keptBytes = cache.bytes;
    await computeDynamics({ bundle: removed, cache }, options());
    expect(cache.size).toBe(18);
    cache.forget(removed.entries);
    expect(cache.size).toBe(9);
    expect(cache.bytes).toBe(keptBytes);
    const hits = cache.hits;
    await computeDynamics({ bundle: kept, cache }, options());
    expect(cache.hits - hits).toBeGreaterThanOrEqual(9);
  });
  it('stays within its byte budget, evicting the least recently used', async () => {
    // Nine SVCCA factors of ~15 KB each (Z: k × 300 float64): a budget for about six of them.
    const cache = new FactorCache(100_000);
    await computeDynamics({ bundle: dynamicsBundle(), cache }, options());
    expect(cache.bytes).toBeLessThanOrEqual(100_000);
    expect(cache.size).toBeLessThan(9);
  });
});

describe('refusals with a message, not an internal error', () => {
  it('debiased CKA needs 4 datapoints', async () => {
    const tiny = storedDatapointsFirst(randn(500, 2, 3));
    await expect(comparePair({ name: 'a.npy', array: tiny }, { name: 'b.npy', array: tiny }, options({ metric: 'cka-debiased' }))).rejects.toThrow(
      /a\.npy: has 3 datapoints; debiased CKA needs at least 4/,
    );
  });
  it('a grid with conv layers refuses CKA through the DFT before factoring anything', async () => {
    let loads = 0;
    const conv: NdArray = { shape: [50, 2, 2, 3], dtype: '<f4', data: new Float32Array(600).map((_, i) => Math.sin(i)) };
    const bundle = memoryBundle('c.npz', [
      { step: 0, layer: 'fc', array: storedDatapointsFirst(randn(501, 4, 50)) },
      { step: 0, layer: 'conv', array: conv },
    ]);
    for (const e of bundle.entries) {
      const load = e.load;
      e.load = async () => {
        loads++;
        return load();
      };
    }
    await expect(computeDynamics({ bundle }, options({ metric: 'cka' }))).rejects.toThrow(
      /c\.npz:step_0\/conv: is a conv layer and the DFT reduction works with SVCCA and CCA only/,
    );
    expect(loads).toBe(0);
  });
});
