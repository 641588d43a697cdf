// k99 (SVD directions holding 99% of a layer's variance) read off a learning-dynamics job's own SVCCA
// factors is the k99 pass's (classes.ts dimensionsOverTrainingWithGaps) exactly: same centred
// matrix, same Gram, every eigenvalue bit for bit (svccaFactor's top-k eigensolver and WebAssembly
// resident path included), same 0.99 rule. Shown on the real fixtures and on synthetic layers that
// reach every solver path (Jacobi for n ≤ 32, inverse iteration for few kept directions, the full
// solver past n/3, n > m, float32 stored arrays), zero variance, rank deficiency, a spectrum whose
// cumulative share meets 0.99 exactly, a Gram of 40 rows (the top-k and full solvers share one
// reduction at every size: WebAssembly from eigen.ts WASM_REDUCTION_MIN, before the full solver's
// WASM_EIGEN_MIN), and a bad array (null in both). The layers whose factors do not hold that spectrum
// (other metrics, the DFT, conv layers under 'positions') are left to the pass: it computes the
// missing cells; either way the export's k99 is the pass's. And
// the job's export reads each array once.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, registerCpuBackend, type ComputeBackend } from '../../src/analysis/backend';
import { dimensionsOverTrainingWithGaps } from '../../src/analysis/classes';
import { factorSpectrumIsK99s } from '../../src/analysis/dimensionality';
import { computeDynamics, knownK99Of } from '../../src/analysis/engine';
import { factorize } from '../../src/analysis/metrics';
import { createNodePool } from '../../src/analysis/pool/node';
import { inferDatapoints, prepare } from '../../src/analysis/prepare';
import { dynamicsEntries, inputHash, rememberEntryDigest, withDynamicsProvenance } from '../../src/analysis/provenance';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';
import { openBundlePath } from '../../src/io/node';
import type { Bundle, NdArray } from '../../src/io/types';
import { svdStep } from '../../src/math/cca';
import { reduceToMatrix } from '../../src/math/reduce';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const options = (over: Partial<AnalysisOptions> = {}): AnalysisOptions => ({ ...DEFAULT_OPTIONS, backend: 'cpu', ...over });
const pool = createNodePool(2);
afterAll(() => pool.close());

const opened = new Map<string, Promise<Bundle>>();
const real = (file: string) => {
  if (!opened.has(file)) opened.set(file, openBundlePath(join(ROOT, 'test/fixtures/real', file)));
  return opened.get(file)!;
};

/** Deterministic uniform numbers in [-0.5, 0.5). */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5;
}

/** n × m: `rank` random directions with variances decaying by `decay` per direction, plus nothing else. */
function lowRank(n: number, m: number, rank: number, decay: number, seed: number) {
  const next = generator(seed);
  const data = new Float64Array(n * m);
  for (let r = 0; r < rank; r++) {
    const u = Array.from({ length: n }, next);
    const v = Array.from({ length: m }, next);
    const scale = decay ** r;
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) data[i * m + j] += scale * u[i] * v[j];
  }
  return { rows: n, cols: m, data };
}

/** Rows ±1 of a Sylvester Hadamard matrix of order m (a power of two), rows 1…, so each has mean 0. */
function hadamardRows(count: number, m: number, scales: number[]) {
  const data = new Float64Array(count * m);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < m; j++) {
      let bits = (i + 1) & j;
      let parity = 0;
      while (bits) {
        parity ^= bits & 1;
        bits >>= 1;
      }
      data[i * m + j] = (parity ? -1 : 1) * scales[i];
    }
  }
  return { rows: count, cols: m, data };
}

function asFloat32(array: NdArray): NdArray {
  return { shape: array.shape, dtype: '<f4', data: Float32Array.from(array.data as Float64Array) };
}

/** Layers that reach every path of the SVD step (see the module comment), at two checkpoints. m = 64 throughout. */
function syntheticArrays(seed: number): { layer: string; array: NdArray }[] {
  const m = 64;
  return [
    // n ≤ 32: the Jacobi solver.
    { layer: 'jacobi', array: storedDatapointsFirst(lowRank(12, m, 12, 0.7, seed + 1)) },
    // n = 48, a few strong directions: top-k inverse iteration, the WebAssembly resident path.
    { layer: 'topk', array: storedDatapointsFirst(lowRank(48, m, 48, 0.35, seed + 2)) },
    // A flat spectrum: k99 > n/3, the full solver.
    { layer: 'flat', array: storedDatapointsFirst(lowRank(56, m, 56, 0.99, seed + 3)) },
    // Grams of 40 rows: the reduction in WebAssembly, the full solver's back-accumulation and QL in
    // JavaScript (between WASM_REDUCTION_MIN and WASM_EIGEN_MIN); a flat spectrum, then few strong
    // directions (top-k inverse iteration).
    { layer: 'between', array: storedDatapointsFirst(lowRank(40, m, 40, 0.99, seed + 8)) },
    { layer: 'betweenTopk', array: storedDatapointsFirst(lowRank(40, m, 40, 0.35, seed + 9)) },
    // n > m: the m × m Gram.
    { layer: 'wide', array: storedDatapointsFirst(lowRank(90, m, 70, 0.9, seed + 4)) },
    // Rank 5 of 60 neurons.
    { layer: 'rank5', array: storedDatapointsFirst(lowRank(60, m, 5, 0.8, seed + 5)) },
    // No variance at all: k99 = 0.
    { layer: 'constant', array: storedDatapointsFirst({ rows: 10, cols: m, data: new Float64Array(10 * m).fill(seed + 0.25) }) },
    // Variances 98, 1, 1 (orthogonal rows): the first two directions hold exactly 99%.
    { layer: 'tie', array: storedDatapointsFirst(hadamardRows(3, m, [Math.sqrt(98), 1, 1])) },
    // Stored float32 (centred straight from the stored array).
    { layer: 'float32', array: asFloat32(storedDatapointsFirst(lowRank(50, m, 50, 0.8, seed + 6))) },
  ];
}

function syntheticBundle(bad?: { step: number; layer: string }): Bundle {
  return memoryBundle(
    'synthetic.npz',
    [0, 100].flatMap((step) =>
      syntheticArrays(step + 7).map(({ layer, array }) => {
        if (bad && bad.step === step && bad.layer === layer) {
          const data = Float64Array.from(array.data as Float64Array);
          data[3] = Number.NaN;
          return { step, layer, array: { ...array, data } };
        }
        return { step, layer, array };
      }),
    ),
  );
}

/** The job's k99 table, undefined where it did not know a cell. */
async function jobTable(bundle: Bundle, o: AnalysisOptions, backend: ComputeBackend = cpuBackend) {
  const result = await computeDynamics({ bundle }, o, {}, backend);
  const known = knownK99Of(result)!;
  return result.steps.map((step) => result.layers.map((layer) => known.get(step, layer)));
}

describe("the SVCCA factor holds the k99 pass's spectrum bit for bit", () => {
  it.each<[string, () => Promise<Bundle>, Partial<AnalysisOptions>]>([
    ['synthetic layers', async () => syntheticBundle(), {}],
    ['digits-mlp.npz', () => real('digits-mlp.npz'), {}],
    ['digits-cnn.npz, flattened', () => real('digits-cnn.npz'), { convReduction: 'flatten' }],
    ['digits-cnn.npz, mean-pooled', () => real('digits-cnn.npz'), { convReduction: 'meanpool' }],
  ])('%s', async (_, load, over) => {
    const bundle = await load();
    const o = options(over);
    const hint = inferDatapoints(bundle.entries.filter((e) => e.run === bundle.runs[0]).map((e) => e.shape));
    const reduction = o.convReduction === 'meanpool' ? 'meanpool' : 'flatten';
    let layers = 0;
    for (const entry of bundle.entries.filter((e) => e.run === bundle.runs[0] && e.step === bundle.steps[0])) {
      const prepared = prepare({ name: entry.source, array: await entry.load() }, o, hint);
      expect(factorSpectrumIsK99s(prepared.rep.kind, o)).toBe(true);
      const factor = factorize(prepared.rep, o, false);
      if (factor.kind !== 'svcca') throw new Error('expected an SVCCA factor');
      const pass = svdStep(reduceToMatrix(prepared.rep, reduction)).spectrum;
      // Exact (toEqual on numbers): the pass's spectrum, whatever the keep rule chose.
      expect(factor.factor.spectrum, entry.layer).toEqual(pass);
      layers++;
    }
    expect(layers).toBe(bundle.layers.length);
  });
});

describe("k99 from the job's factors equals the k99 pass", () => {
  it.each<[string, () => Promise<Bundle>, Partial<AnalysisOptions>]>([
    ['synthetic layers, 99% keep', async () => syntheticBundle(), {}],
    ['synthetic layers, keep 3 directions, ε = 1e-4', async () => syntheticBundle(), { keep: { kind: 'dims', k: 3 }, epsilon: 1e-4 }],
    ['synthetic layers, 90% keep', async () => syntheticBundle(), { keep: { kind: 'variance', fraction: 0.9 } }],
    ['synthetic layers with a NaN array (null in both)', async () => syntheticBundle({ step: 100, layer: 'topk' }), {}],
    ['digits-mlp.npz', () => real('digits-mlp.npz'), {}],
    ['digits-cnn.npz, flattened', () => real('digits-cnn.npz'), { convReduction: 'flatten' }],
    ['digits-cnn.npz, mean-pooled', () => real('digits-cnn.npz'), { convReduction: 'meanpool' }],
  ])('%s: CPU and the CPU pool', async (_, load, over) => {
    const bundle = await load();
    const o = options(over);
    const pass = await dimensionsOverTrainingWithGaps(bundle, undefined, o);
    expect(await jobTable(bundle, o)).toEqual(pass.k99);
    expect(await jobTable(bundle, o, pool)).toEqual(pass.k99);
    // The export: the pass's table exactly, the cells the job left to it included.
    const result = await computeDynamics({ bundle }, o);
    const described = await withDynamicsProvenance(result, { bundle, run: bundle.runs[0], options: o, leftOut: [], reason: 'test' });
    expect(described.k99).toEqual(pass.k99);
  });

  it('the synthetic layers span what they claim: k99 0 without variance, 2 at the exact 99% tie, 5 at rank 5, more than n/3 when flat', async () => {
    const table = await jobTable(syntheticBundle(), options());
    const layers = syntheticArrays(0).map((a) => a.layer);
    const at = (layer: string) => table[0][layers.indexOf(layer)];
    expect(at('constant')).toBe(0);
    expect(at('tie')).toBe(2);
    expect(at('rank5')).toBeLessThanOrEqual(5);
    expect(at('flat')!).toBeGreaterThan(56 / 3);
    expect(at('between')!).toBeGreaterThan(40 / 3);
    expect(at('betweenTopk')!).toBeLessThan(40 / 3);
    expect(at('topk')!).toBeLessThan(48 / 3);
  });

  it('a bad array is null in both, at its step only', async () => {
    const table = await jobTable(syntheticBundle({ step: 100, layer: 'topk' }), options());
    const i = syntheticArrays(0).findIndex((a) => a.layer === 'topk');
    expect(table[1][i]).toBeNull();
    expect(table[0][i]).toEqual(expect.any(Number));
  });
});

describe("where the job's factors do not hold the pass's spectrum, the pass fills exactly the missing cells", () => {
  it.each<[string, Partial<AnalysisOptions>, 'none' | 'dense']>([
    ['CCA', { metric: 'cca' }, 'none'],
    ['CKA', { metric: 'cka', convReduction: 'flatten' }, 'none'],
    ['PWCCA', { metric: 'pwcca', convReduction: 'meanpool' }, 'none'],
    ['SVCCA through the DFT', { convReduction: 'dft' }, 'none'],
    ['SVCCA with conv layers under positions', { convReduction: 'positions' }, 'dense'],
  ])('digits-cnn.npz, %s', async (_, over, knownCells) => {
    const bundle = await real('digits-cnn.npz');
    const o = options(over);
    const result = await computeDynamics({ bundle }, o);
    const known = knownK99Of(result)!;
    const pass = await dimensionsOverTrainingWithGaps(bundle, undefined, o);
    const conv = new Set(bundle.entries.filter((e) => e.shape.length === 4).map((e) => e.layer));
    expect(conv.size).toBeGreaterThan(0);
    result.steps.forEach((step, t) =>
      result.layers.forEach((layer, i) => {
        const cell = known.get(step, layer);
        if (knownCells === 'dense' && !conv.has(layer)) expect(cell).toBe(pass.k99[t][i]);
        else expect(cell).toBeUndefined();
      }),
    );
    // The export: the pass's table, whatever the job knew.
    const described = await withDynamicsProvenance(result, { bundle, run: bundle.runs[0], options: o, leftOut: [], reason: 'test' });
    expect(described.k99).toEqual(pass.k99);
  });
});

/**
 * The synthetic layers beside a conv layer large enough for the pool (dimensionality.ts
 * K99_INLINE_ELEMENTS: 64 datapoints × 16 × 28 × 28 = 802 816 values; 12 544 features, so wide), at
 * two steps; the conv layer float32, non-negative (ReLU-like) and correlated across positions.
 */
function largeConvBundle(): Bundle {
  const next = generator(11);
  const conv = () => Float32Array.from({ length: 64 * 12544 }, (_, k) => Math.max(0, next() + (k % 97) / 200));
  return memoryBundle(
    'large.npz',
    [0, 100].flatMap((step) => [
      { step, layer: 'conv', array: { shape: [64, 16, 28, 28], dtype: '<f4', data: conv() } },
      ...syntheticArrays(step + 7).map(({ layer, array }) => ({ step, layer, array })),
    ]),
  );
}

describe('the k99 pass on the registered CPU pool', () => {
  it('gives the one-thread table exactly (a large conv layer flattened on the workers, small layers in this thread, a bad array null), and a cancel stops it', async () => {
    const bundle = largeConvBundle();
    const o = options({ convReduction: 'dft' });
    const bad = syntheticBundle({ step: 100, layer: 'topk' });
    const single = [await dimensionsOverTrainingWithGaps(bundle, undefined, o), await dimensionsOverTrainingWithGaps(bad, undefined, o)];
    const used = { variance: 0 };
    registerCpuBackend(pool);
    const runTasks = pool.runTasks.bind(pool);
    pool.runTasks = (requests, signal) => {
      used.variance += requests.filter((r) => r.type === 'variance-spectrum').length;
      return runTasks(requests, signal);
    };
    try {
      expect(await dimensionsOverTrainingWithGaps(bundle, undefined, o)).toEqual(single[0]);
      expect(await dimensionsOverTrainingWithGaps(bad, undefined, o)).toEqual(single[1]);
      expect(single[1].k99[1].filter((v) => v === null)).toHaveLength(1);
      // The large conv layer's cells went to a worker; the small layers' ran in this thread.
      expect(used.variance).toBe(2);
      expect(single[0].k99.map((row) => row[0])).toEqual([expect.any(Number), expect.any(Number)]);
      const controller = new AbortController();
      const stopped = dimensionsOverTrainingWithGaps(bundle, undefined, o, { signal: controller.signal });
      controller.abort();
      await expect(stopped).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      pool.runTasks = runTasks;
      registerCpuBackend(null);
    }
  });
});

/** The bundle with every load counted (fresh entries: no digest cached from another test). */
function counted(bundle: Bundle): { bundle: Bundle; loads: () => number } {
  let loads = 0;
  const entries = bundle.entries.map((e) => ({
    ...e,
    load: () => {
      loads++;
      return e.load();
    },
  }));
  return { bundle: { ...bundle, entries }, loads: () => loads };
}

describe('a dynamics job and its export read each array once', () => {
  it('SVCCA: the job reads every array once; the content hash and k99 of its export read nothing again', async () => {
    const source = await real('digits-mlp.npz');
    const run = source.runs[0];
    const { bundle, loads } = counted(source);
    const read = bundle.entries.filter((e) => e.run === run).length;
    const o = options();
    const result = await computeDynamics({ bundle, run, onArrayRead: rememberEntryDigest }, o);
    expect(loads()).toBe(read);
    const described = await withDynamicsProvenance(result, { bundle, run, options: o, leftOut: [], reason: 'test' });
    expect(loads()).toBe(read);
    // The same hash and k99 as the separate passes compute on entries of their own.
    const fresh = counted(source).bundle;
    expect(described.inputHash).toBe(await inputHash(dynamicsEntries(fresh.entries, fresh.layers, run)));
    expect(described.k99).toEqual((await dimensionsOverTrainingWithGaps(fresh, run, o)).k99);
  });

  it("CCA in the app ('if-known'): no k99 pass with the job, k99 left out for Export JSON to ask for; the CLI's --json runs it once", async () => {
    const source = await real('digits-mlp.npz');
    const run = source.runs[0];
    const o = options({ metric: 'cca' });
    const app = counted(source);
    const read = app.bundle.entries.filter((e) => e.run === run).length;
    const result = await computeDynamics({ bundle: app.bundle, run, onArrayRead: rememberEntryDigest }, o);
    const described = await withDynamicsProvenance(result, { bundle: app.bundle, run, options: o, leftOut: [], reason: 'test', k99: 'if-known' });
    expect(app.loads()).toBe(read);
    expect('k99' in described).toBe(false);

    const cli = counted(source);
    const cliResult = await computeDynamics({ bundle: cli.bundle, run, onArrayRead: rememberEntryDigest }, o);
    const cliDescribed = await withDynamicsProvenance(cliResult, { bundle: cli.bundle, run, options: o, leftOut: [], reason: 'test' });
    expect(cli.loads()).toBe(2 * read); // the job, then the k99 pass (the hash was taken as the job read)
    expect(cliDescribed.k99).toEqual((await dimensionsOverTrainingWithGaps(source, run, o)).k99);
  });

  it('an array hashed as read is not read again by inputHash, however large (64 MiB here), and its hash is the same as read after the job', async () => {
    const small: NdArray = { shape: [100, 3], dtype: '<f4', data: Float32Array.from({ length: 300 }, (_, i) => Math.sin(i)) };
    const big: NdArray = { shape: [2 ** 24 + 2, 1], dtype: '<f4', data: new Float32Array(2 ** 24 + 2).fill(0.5) };
    const hashOf = async (array: NdArray, remember: boolean) => {
      const { bundle, loads } = counted(memoryBundle('one.npz', [{ step: 0, layer: 'x', array }]));
      if (remember) await rememberEntryDigest(bundle.entries[0], array);
      const hash = await inputHash(bundle.entries);
      return { hash, loads: loads() };
    };
    expect(await hashOf(small, true)).toEqual({ hash: (await hashOf(small, false)).hash, loads: 0 });
    expect(await hashOf(big, true)).toEqual({ hash: (await hashOf(big, false)).hash, loads: 0 });
  });
});

describe('k99 as the job reads (DynamicsRequest.k99, the CLI’s --json)', () => {
  it.each<[string, Partial<AnalysisOptions>]>([
    ['SVCCA through the DFT', { convReduction: 'dft' }],
    ['CCA', { metric: 'cca' }],
    ['CKA, conv layers flattened', { metric: 'cka', convReduction: 'flatten' }],
    ['PWCCA, conv layers mean-pooled', { metric: 'pwcca', convReduction: 'meanpool' }],
    ['SVCCA with conv layers under positions', { convReduction: 'positions' }],
    ['SVCCA, conv layers flattened (the factors hold every cell)', { convReduction: 'flatten' }],
  ])('digits-cnn.npz, %s: every cell known as read, the pass’s exactly, in this thread and on the pool', async (_, over) => {
    const bundle = await real('digits-cnn.npz');
    const o = options(over);
    const pass = await dimensionsOverTrainingWithGaps(bundle, undefined, o);
    for (const backend of [cpuBackend, pool]) {
      const result = await computeDynamics({ bundle, k99: true }, o, {}, backend);
      expect(knownK99Of(result)!.table(result.steps, result.layers), backend.kind).toEqual(pass.k99);
    }
  });

  it('a large conv layer’s spectrum runs on a worker of its own beside its factor; a bad array is null; the export reads nothing again', async () => {
    const bundle = largeConvBundle();
    const bad = syntheticBundle({ step: 100, layer: 'topk' });
    const o = options({ convReduction: 'dft' });
    const expected = [await dimensionsOverTrainingWithGaps(bundle, undefined, o), await dimensionsOverTrainingWithGaps(bad, undefined, o)];
    const used = { variance: 0 };
    const runTasks = pool.runTasks.bind(pool);
    const run = (pool as unknown as { run: (requests: { type: string }[], ...rest: unknown[]) => Promise<unknown> }).run.bind(pool);
    (pool as unknown as { run: typeof run }).run = (requests, ...rest) => {
      used.variance += requests.filter((r) => r.type === 'variance-spectrum').length;
      return run(requests, ...rest);
    };
    try {
      for (const [k, b] of [bundle, bad].entries()) {
        const reads = new Map<string, number>();
        const counted = { ...b, entries: b.entries.map((e) => ({ ...e, load: () => (reads.set(e.source, (reads.get(e.source) ?? 0) + 1), e.load()) })) };
        const result = await computeDynamics({ bundle: counted, k99: true, onArrayRead: rememberEntryDigest }, o, {}, pool);
        const described = await withDynamicsProvenance(result, { bundle: counted, run: counted.runs[0], options: o, leftOut: [], reason: 'test' });
        expect(described.k99).toEqual(expected[k].k99);
        expect(Math.max(...reads.values()), b.name).toBe(1);
      }
      // Both conv cells of the large bundle went to the workers as tasks of their own (the small layers' too: the job's batches go to the pool whole).
      expect(used.variance).toBeGreaterThanOrEqual(2);
      // CKA: its factors keep the spectrum of the Gram they form, so no spectrum task runs at all.
      const cka = options({ metric: 'cka', convReduction: 'flatten' });
      const ckaPass = await dimensionsOverTrainingWithGaps(bundle, undefined, cka);
      used.variance = 0;
      const ckaJob = await computeDynamics({ bundle, k99: true }, cka, {}, pool);
      expect(knownK99Of(ckaJob)!.table(ckaJob.steps, ckaJob.layers)).toEqual(ckaPass.k99);
      expect(used.variance).toBe(0);
      expect(expected[1].k99[1].filter((v) => v === null)).toHaveLength(1);
    } finally {
      (pool as unknown as { run: typeof run }).run = run;
      pool.runTasks = runTasks;
    }
  });
});
