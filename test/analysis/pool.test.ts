// The CPU pool (analysis/pool) on real worker threads: a pooled job gives exactly the numbers of the
// one-thread job (same kernels, same order of summation in every factor and pair; only which thread
// computes changes), on the real fixtures; cancel stops the workers running the job; an error in a
// worker reaches the caller with the in-process message; a worker that cannot start leaves the job
// to the in-process path.

import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/analysis/backend';
import { comparePair, computeCross, computeDynamics } from '../../src/analysis/engine';
import { FactorCache } from '../../src/analysis/factorCache';
import type { Factor } from '../../src/analysis/metrics';
import { createNodePool, nodePoolPort } from '../../src/analysis/pool/node';
import { CpuPool } from '../../src/analysis/pool/pool';
import { DEFAULT_OPTIONS, type AnalysisOptions, type Metric } from '../../src/analysis/types';
import { openBundlePath } from '../../src/io/node';
import type { Bundle } from '../../src/io/types';
import type { Representation } from '../../src/math/reduce';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const options = (over: Partial<AnalysisOptions> = {}): AnalysisOptions => ({ ...DEFAULT_OPTIONS, backend: 'cpu', ...over });
const pool = createNodePool(2);
afterAll(() => pool.close());

const bundles = new Map<string, Promise<Bundle>>();
const open = (path: string) => {
  if (!bundles.has(path)) bundles.set(path, openBundlePath(join(ROOT, path)));
  return bundles.get(path)!;
};

/** A result as the one-thread path gives it: the pool's provenance says 2 threads, all else is equal. */
function oneThread<T extends { provenance?: { threads: number } }>(result: T): T {
  return result.provenance ? { ...result, provenance: { ...result.provenance, threads: 1 } } : result;
}

describe('a pooled job equals the one-thread job exactly', () => {
  it.each<[string, Metric, Partial<AnalysisOptions>]>([
    ['test/fixtures/real/digits-mlp.npz', 'svcca', {}],
    ['test/fixtures/real/digits-mlp.npz', 'pwcca', {}],
    ['test/fixtures/real/digits-cnn.npz', 'cka', { convReduction: 'positions' }],
    ['test/fixtures/real/digits-cnn.npz', 'cca', { convReduction: 'meanpool' }],
    // The DFT: spectra and their per-frequency factors computed in the workers (primed), compared here.
    ['test/fixtures/real/digits-cnn.npz', 'svcca', { convReduction: 'dft' }],
    ['test/fixtures/real/digits-cnn.npz', 'cca', { convReduction: 'dft' }],
  ])('dynamics of %s, %s %j', async (path, metric, over) => {
    const bundle = await open(path);
    const o = options({ metric, ...over });
    let pairs = 0;
    const pooled = await computeDynamics({ bundle, baseline: { permutations: 4, cells: 'diagonal' } }, o, { onProgress: (p) => (pairs = p.done) }, pool);
    const single = await computeDynamics({ bundle, baseline: { permutations: 4, cells: 'diagonal' } }, o, {}, cpuBackend);
    expect(pooled.provenance?.threads).toBe(2);
    expect(oneThread(pooled)).toEqual(single);
    // Progress counted every pair once, as the one-thread path does.
    expect(pairs).toBe(pooled.steps.length * pooled.layers.length ** 2);
  });

  it('cross between two runs with the chance level of every cell, through a factor cache', async () => {
    const bundle = await open('test/fixtures/real/digits-cnn.npz');
    const [runA, runB] = bundle.runs;
    const request = { a: { bundle, run: runA }, b: { bundle, run: runB }, baseline: { permutations: 6 } };
    const o = options({ metric: 'svcca', convReduction: 'flatten' });
    const cache = new FactorCache();
    const pooled = await computeCross({ ...request, cache }, o, {}, pool);
    const again = await computeCross({ ...request, cache }, o, {}, pool); // factors from the cache (shared memory)
    const single = await computeCross(request, o, {}, cpuBackend);
    expect(cache.hits).toBeGreaterThan(0);
    expect(oneThread(pooled)).toEqual(single);
    expect(oneThread(again)).toEqual(single);
  });

  it('without shared memory (a page that is not cross-origin isolated): factors transferred and copied, same numbers', async () => {
    const copying = new CpuPool({ spawn: nodePoolPort, threads: 2, shared: false });
    try {
      const bundle = await open('test/fixtures/real/digits-mlp.npz');
      const o = options({ metric: 'svcca' });
      const pooled = await computeDynamics({ bundle }, o, {}, copying);
      expect(pooled.provenance?.threads).toBe(2);
      expect(oneThread(pooled)).toEqual(await computeDynamics({ bundle }, o, {}, cpuBackend));
    } finally {
      copying.close();
    }
  });

  it('across runs through the DFT, and one pair of conv layers of different sizes', async () => {
    const bundle = await open('test/fixtures/real/digits-cnn.npz');
    const [runA, runB] = bundle.runs;
    const o = options({ metric: 'svcca', convReduction: 'dft' });
    const request = { a: { bundle, run: runA }, b: { bundle, run: runB } };
    expect(oneThread(await computeCross(request, o, {}, pool))).toEqual(await computeCross(request, o, {}, cpuBackend));
    // Two conv layers whose heights and widths differ: each side's factors are primed against the other's shape.
    const convs = bundle.entries.filter((e) => e.run === runA && e.shape.length === 4);
    const sizes = new Set(convs.map((e) => e.shape.slice(1).join('×')));
    expect(sizes.size).toBeGreaterThan(1);
    const first = convs[0];
    const other = convs.find((e) => e.shape.slice(1).join('×') !== first.shape.slice(1).join('×'))!;
    const [a, b] = await Promise.all([first, other].map(async (e) => ({ name: e.source, array: await e.load() })));
    expect(oneThread(await comparePair(a, b, o, pool))).toEqual(await comparePair(a, b, o, cpuBackend));
  });

  it('one pair of the demo, with its chance level', async () => {
    const bundle = await open('public/demo/fashion-resnet.npz');
    const entries = bundle.entries.filter((e) => e.step === bundle.entries[bundle.entries.length - 1].step);
    const [a, b] = await Promise.all([entries[0], entries[entries.length - 1]].map(async (e) => ({ name: e.source, array: await e.load() })));
    const o = options({ metric: 'svcca', convReduction: 'flatten' });
    const pooled = await comparePair(a, b, o, pool, { permutations: 8 });
    const single = await comparePair(a, b, o, cpuBackend, { permutations: 8 });
    expect(oneThread(pooled)).toEqual(single);
  });
});

describe('DFT factors on the pool', () => {
  it("come back with their per-frequency factors against the plan's partners, which the compare then uses", async () => {
    const conv = (seed: number, height: number, width: number, channels: number): Representation => {
      let s = seed;
      const data = Float64Array.from({ length: 90 * height * width * channels }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
      return { kind: 'conv', conv: { datapoints: 90, height, width, channels, data } };
    };
    const reps = [conv(3, 6, 6, 3), conv(4, 3, 3, 4), conv(5, 6, 6, 2)];
    const o = options({ metric: 'svcca', convReduction: 'dft' });
    const expected = await cpuBackend.compareGrid(await cpuBackend.factorize(reps, o, true), await cpuBackend.factorize(reps, o, true), o);
    const shapes = [6, 3, 6].map((h) => ({ height: h, width: h }));
    // A single representation goes to a worker too where the caller works alongside (engine.ts loadSide).
    const pooled = [
      ...(await pool.factorize(reps.slice(0, 2), o, true, undefined, { dftPartners: [shapes, shapes] })),
      ...(await pool.factorize(reps.slice(2), o, true, undefined, { dftPartners: [shapes], alongside: true })),
    ];
    for (const f of pooled) {
      if (f.kind !== 'dft') throw new Error('expected a DFT factor');
      // Were a block factored again here, the zeroed spectrum would change the numbers.
      f.spectrum.re.fill(0);
      f.spectrum.im.fill(0);
    }
    expect(await pool.compareGrid(pooled, pooled, o)).toEqual(expected);
  });
});

/** A grid of `count` factors of random dense layers (neurons × datapoints), factored in-process. */
async function factors(count: number, neurons: number, datapoints: number, seed = 1): Promise<Factor[]> {
  let s = seed;
  const next = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const reps: Representation[] = Array.from({ length: count }, () => ({
    kind: 'dense',
    x: { rows: neurons, cols: datapoints, data: Float64Array.from({ length: neurons * datapoints }, next) },
  }));
  return cpuBackend.factorize(reps, options({ metric: 'cca' }), false);
}

describe('cancel, errors and start-up', () => {
  it('cancel mid-grid rejects with an AbortError and stops the workers running the job', async () => {
    const ports: { terminated: boolean }[] = [];
    const watched = new CpuPool({
      threads: 2,
      shared: true,
      spawn: (index) => {
        const port = nodePoolPort(index);
        const record = { terminated: false };
        ports.push(record);
        return {
          ...port,
          terminate: () => {
            record.terminated = true;
            port.terminate();
          },
        };
      },
    });
    const grid = await factors(24, 40, 300);
    const controller = new AbortController();
    const job = watched.compareGrid(grid, grid, options({ metric: 'cca' }), () => controller.abort(), controller.signal);
    await expect(job).rejects.toMatchObject({ name: 'AbortError' });
    expect(ports.length).toBe(2);
    expect(ports.every((p) => p.terminated)).toBe(true);
    expect(watched.workers).toBe(0);
    // The next job starts fresh workers and still gives the one-thread numbers.
    const small = grid.slice(0, 4);
    expect(await watched.compareGrid(small, small, options({ metric: 'cca' }))).toEqual(await cpuBackend.compareGrid(small, small, options({ metric: 'cca' })));
    watched.close();
    expect(watched.workers).toBe(0);
  });

  it('an error thrown in a worker reaches the caller with the message of the in-process path', async () => {
    const tooFew: Representation = { kind: 'dense', x: { rows: 3, cols: 1, data: new Float64Array(3) } };
    const fine: Representation = { kind: 'dense', x: { rows: 3, cols: 20, data: Float64Array.from({ length: 60 }, (_, i) => Math.sin(i)) } };
    const inProcess = cpuBackend.factorize([fine, tooFew], options({ metric: 'cca' }), false);
    await expect(inProcess).rejects.toThrow('CCA needs at least 2 datapoints, got 1');
    await expect(pool.factorize([fine, tooFew], options({ metric: 'cca' }), false)).rejects.toThrow(/^CCA needs at least 2 datapoints, got 1$/);
    // Factors of different kinds: the same refusal, from a compare tile.
    const [cca] = await factors(1, 5, 50);
    const [cka] = await cpuBackend.factorize([fine], options({ metric: 'cka' }), false);
    await expect(pool.compareGrid([cca, cca], [cka, cka], options())).rejects.toThrow('unreachable: factors of different kinds (cca, cka)');
    // The pool still works afterwards.
    const grid = await factors(3, 6, 80);
    expect(await pool.compareGrid(grid, grid, options({ metric: 'cca' }))).toEqual(await cpuBackend.compareGrid(grid, grid, options({ metric: 'cca' })));
  });

  it('a worker that cannot start leaves the work to the in-process path (threads: 1)', async () => {
    const broken = new CpuPool({
      threads: 2,
      shared: false,
      spawn: () => {
        const worker = new Worker('throw new Error("no worker here")', { eval: true });
        return {
          post: (request) => worker.postMessage(request),
          listen: (_, onError) => worker.on('error', (e) => onError(e.message)),
          terminate: () => void worker.terminate(),
        };
      },
    });
    const grid = await factors(3, 6, 80);
    const o = options({ metric: 'cca' });
    expect(await broken.compareGrid(grid, grid, o)).toEqual(await cpuBackend.compareGrid(grid, grid, o));
    expect(broken.threads).toBe(1);
    expect(broken.startFailure).toMatch(/no worker here/);
    broken.close();
  });

  it('threads 1 is the in-process path: no worker starts', async () => {
    const single = createNodePool(1);
    const grid = await factors(3, 6, 80);
    const o = options({ metric: 'cca' });
    expect(await single.compareGrid(grid, grid, o)).toEqual(await cpuBackend.compareGrid(grid, grid, o));
    expect(single.workers).toBe(0);
  });
});
