// Class sensitivity, the k sweep and k99 (issue 14, items 2 and 3) against an independent numpy
// implementation (test/python/classes_reference.py: np.linalg.svd, cca_core's whitening, least
// squares) on seeded bundles it writes and on the demo bundle, plus the identities that tie the
// sweep to the engine's SVCCA. Skipped, saying why, without python3 + numpy.
//
// Shapes: bundles store layers datapoints first; values[l][c][t] = ρ(layer l at step t, class c).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { computeClassSensitivity, dimensionsOverTraining, multipleCorrelations } from '../../src/analysis/classes';
import { sweepK, sweepKs } from '../../src/analysis/dimensionality';
import { comparePair } from '../../src/analysis/engine';
import { prepare } from '../../src/analysis/prepare';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';
import { openBundle } from '../../src/io/bundle';
import { InputError, type Bundle } from '../../src/io/types';
import { reduceToMatrix } from '../../src/math/reduce';
import { expectClose, TOL } from '../helpers/tolerance';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'test/python/classes_reference.py');
const DEMO = join(ROOT, 'public/demo/fashion-resnet.npz');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

function numpyMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} cannot be run (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} has no numpy`;
  return null;
}
const missing = numpyMissing();
if (missing) console.warn(`test/analysis/classes.test.ts: skipping the numpy comparisons: ${missing}`);

function python(...args: string[]): any {
  const done = spawnSync(PYTHON, [SCRIPT, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  if (done.status !== 0) throw new Error(`classes_reference.py ${args.join(' ')}: ${done.stderr || done.error}`);
  return JSON.parse(done.stdout);
}

async function open(path: string): Promise<Bundle> {
  const name = path.split('/').pop()!;
  return openBundle(name, [{ path: name, blob: new Blob([new Uint8Array(readFileSync(path))]) }]);
}

interface Expected {
  steps: number[];
  layers: string[];
  classes: number[];
  logits: Record<string, number[][]>; // [layer][t][c]
  indicator: Record<string, number[][]>;
  lstsq: Record<string, number[][]>;
  k99: number[][];
  sweeps: { a: string; b: string; points: { k: number; similarity: number }[] }[];
}

async function checkBundle(bundle: Bundle, expected: Expected, options: AnalysisOptions, run?: string) {
  for (const target of ['logits', 'indicator'] as const) {
    const r = await computeClassSensitivity({ bundle, run, target }, options);
    expect(r.steps).toEqual(expected.steps);
    expect(r.layers).toEqual(expected.layers);
    expect(r.classes).toEqual(expected.classes);
    expect(r.target).toBe(target);
    expect(r.k99).toEqual(expected.k99);
    r.layers.forEach((layer, l) =>
      r.classes.forEach((c, ci) =>
        expectClose(
          r.values[l][ci],
          expected[target][layer].map((row) => row[ci]),
          TOL.f64Reference,
          `${target} ${layer} class ${c}`,
        ),
      ),
    );
    if (options.epsilon === 0 && target === 'indicator') {
      // A second, independent definition: sqrt(R²) of a least-squares fit on the kept directions.
      r.layers.forEach((layer, l) =>
        r.classes.forEach((c, ci) =>
          expectClose(
            r.values[l][ci],
            expected.lstsq[layer].map((row) => row[ci]),
            TOL.f64Reference,
            `lstsq ${layer} class ${c}`,
          ),
        ),
      );
    }
    // firstStep is read off the values.
    r.values.forEach((perClass, l) =>
      perClass.forEach((series, ci) => {
        const t = series.findIndex((v) => v >= r.threshold);
        expect(r.firstStep[l][ci]).toBe(t < 0 ? null : r.steps[t]);
      }),
    );
  }
  expect((await dimensionsOverTraining(bundle, run, options)).k99).toEqual(expected.k99);
}

async function checkSweeps(bundle: Bundle, expected: Expected, options: AnalysisOptions) {
  for (const s of expected.sweeps) {
    const matrix = async (name: string) => {
      const entry = bundle.entries.find((e) => `${e.run === null ? '' : e.run + '/'}step_${e.step}/${e.layer}` === name)!;
      return reduceToMatrix(prepare({ name, array: await entry.load() }, options, bundle.labels?.data.length).rep, 'flatten');
    };
    const sweep = sweepK(
      await matrix(s.a),
      await matrix(s.b),
      s.points.map((p) => p.k),
    );
    expect(sweep.points.map((p) => p.k)).toEqual(s.points.map((p) => p.k));
    expectClose(
      sweep.points.map((p) => p.similarity),
      s.points.map((p) => p.similarity),
      TOL.f64Reference,
      `sweep ${s.a} ~ ${s.b}`,
    );
  }
}

describe('class sensitivity and k sweep against numpy (seeded bundle)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'classes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const expected = missing ? null : python('seeded', dir);

  it.skipIf(missing !== null)('ε = 0: ρ_c = ‖Z y‖/‖y‖ equals numpy and the least-squares multiple correlation; k99 equals numpy', async () => {
    await checkBundle(await open(join(dir, 'seeded.npz')), expected.eps0, { ...DEFAULT_OPTIONS, epsilon: 0 });
  });

  it.skipIf(missing !== null)('ε = 1e-10 (the default): equals cca_core-style whitening in numpy', async () => {
    await checkBundle(await open(join(dir, 'seeded.npz')), expected.eps, DEFAULT_OPTIONS);
  });

  it.skipIf(missing !== null)('the sweep over k equals SVCCA at k computed from scratch in numpy', async () => {
    await checkSweeps(await open(join(dir, 'seeded.npz')), expected.eps0, DEFAULT_OPTIONS);
  });
});

describe('class sensitivity and k sweep against numpy (the demo bundle)', () => {
  it.skipIf(missing !== null)(
    'fashion-resnet seed0: every layer, class and step, both targets; k99; a sweep',
    async () => {
      const expected: Expected = python('demo', DEMO, 'seed0');
      const bundle = await open(DEMO);
      await checkBundle(bundle, expected, DEFAULT_OPTIONS, 'seed0');
      await checkSweeps(bundle, expected, DEFAULT_OPTIONS);
    },
    300_000,
  );
});

describe('identities', () => {
  it('the sweep at k equals the engine’s SVCCA with --dims k and ε = 0 (one SVD per side, not one per k)', async () => {
    const bundle = await open(DEMO);
    const load = async (layer: string) => {
      const entry = bundle.entries.find((e) => e.run === 'seed0' && e.step === 700 && e.layer === layer)!;
      return { name: layer, array: await entry.load() };
    };
    const [a, b] = [await load('s3b1'), await load('logits')];
    const options = { ...DEFAULT_OPTIONS, convReduction: 'flatten' as const, epsilon: 0 };
    const sweep = sweepK(reduceToMatrix(prepare(a, options, 400).rep, 'flatten'), reduceToMatrix(prepare(b, options, 400).rep, 'flatten'));
    expect(sweep.maxK).toBe(10); // logits: 10 columns (rank ≤ 10)
    for (const { k, similarity } of sweep.points) {
      const engine = await comparePair(a, b, { ...options, keep: { kind: 'dims', k } });
      expectClose(similarity, engine.similarity, TOL.f64Identity, `k = ${k}`);
    }
  });

  it('a layer against itself: similarity 1 at every k', () => {
    const x = { rows: 5, cols: 40, data: Float64Array.from({ length: 200 }, (_, i) => Math.sin(i * 1.7) + Math.cos(i * i * 0.3)) };
    const sweep = sweepK(x, x);
    expect(sweep.points.map((p) => p.k)).toEqual([1, 2, 3, 4, 5]);
    for (const p of sweep.points) expectClose(p.similarity, 1, TOL.f64Identity, `k = ${p.k}`);
  });

  it('ρ of a target inside the layer’s span is 1; of a constant target 0', () => {
    const z = { rows: 2, cols: 4, data: Float64Array.from([0.5, 0.5, -0.5, -0.5, 0.5, -0.5, 0.5, -0.5]) }; // orthonormal, centred rows
    expectClose(multipleCorrelations(z, [Float64Array.from([1, 1, -1, -1])]), [1], TOL.f64Identity, 'in span');
    expect(multipleCorrelations(z, [new Float64Array(4)])).toEqual([0]);
  });

  it('sweeps every k up to 128, then about 128 more on a log scale, ending at the largest', () => {
    expect(sweepKs(5)).toEqual([1, 2, 3, 4, 5]);
    const ks = sweepKs(1000);
    expect(ks.slice(0, 128)).toEqual(Array.from({ length: 128 }, (_, i) => i + 1));
    expect(ks[ks.length - 1]).toBe(1000);
    expect(ks.length).toBeLessThanOrEqual(257);
    expect([...ks].sort((p, q) => p - q)).toEqual(ks);
  });
});

describe('refusals', () => {
  it('no labels: a clear InputError naming the bundle', async () => {
    const bundle = { ...(await open(DEMO)), labels: null };
    await expect(computeClassSensitivity({ bundle }, DEFAULT_OPTIONS)).rejects.toThrow(InputError);
    await expect(computeClassSensitivity({ bundle }, DEFAULT_OPTIONS)).rejects.toThrow(/fashion-resnet\.npz: has no labels/);
  });

  it('a logits layer with fewer columns than classes, or a missing one, is refused by name', async () => {
    const bundle = await open(DEMO);
    const data = Float64Array.from(bundle.labels!.data, Number);
    data[0] = 12; // a class the 10 logits cannot hold
    const twelve = { ...bundle, labels: { ...bundle.labels!, dtype: 'float64', data } } as Bundle;
    await expect(computeClassSensitivity({ bundle: twelve, layers: ['stem'] }, DEFAULT_OPTIONS)).rejects.toThrow(
      /layer logits has 10 columns, but the labels name class 12/,
    );
    await expect(computeClassSensitivity({ bundle, logitsLayer: 'nope' }, DEFAULT_OPTIONS)).rejects.toThrow(/has no layer nope/);
    const noLogits = { ...bundle, layers: bundle.layers.filter((l) => l !== 'logits') };
    await expect(computeClassSensitivity({ bundle: noLogits, target: 'logits' }, DEFAULT_OPTIONS)).rejects.toThrow(/no layer named logits/);
    const auto = await computeClassSensitivity({ bundle: noLogits, layers: ['stem'] }, DEFAULT_OPTIONS);
    expect(auto.target).toBe('indicator');
  });
});
