// Many seeds (issue 14, item 4) against numpy: a seeded bundle of three runs is written as an .npz,
// `svcca-lens dynamics --all-runs` and `svcca-lens cross --all-pairs` run in-process (CPU, float64,
// --json), and test/python/seeds_reference.py recomputes everything independently (numpy SVCCA of
// scripts/reference_pairwise.py, np.mean / np.std(ddof=1) / min / max over runs and pairs, freeze
// steps per run). Every number must agree within the float64 reference tolerance.
//
// Shapes: arrays are stored datapoints × neurons; dynamics cells[t][i][j] = layer i at steps[t]
// against layer j at the run's own last step; cross cells[i][j] = run a's layer i against run b's
// layer j over the pairs a < b.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Spread } from '../../src/analysis/seeds';
import { cliJson, numpyMissing, seedsNpz } from '../helpers/seeds';
import { expectClose, TOL } from '../helpers/tolerance';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = process.env.PYTHON ?? 'python3';
const RUNS = ['seed0', 'seed1', 'seed2'];
const LAYERS = ['in', 'mid', 'out'];
const STEPS = [0, 50, 100, 200];
const DATAPOINTS = 150;
const NEURONS = [12, 9, 6];
/** Low enough that layers freeze at different steps in different runs. */
const THRESHOLD = 0.8;

/**
 * Three runs of one "architecture": per run a random final map of shared latent inputs, and each
 * checkpoint a mix of it with fresh noise, lower layers closer to their end sooner (speeds differ
 * per run, so freeze steps spread). The last step has the run's final state exactly.
 */
const seedsBundle = () =>
  seedsNpz({
    runs: RUNS,
    layers: LAYERS,
    steps: STEPS,
    datapoints: DATAPOINTS,
    neurons: NEURONS,
    latent: { seed: 7, dim: 8 },
    weightSeed: (r, l) => 100 + 10 * r + l,
    noiseSeed: (r, l, t) => 1000 + 100 * r + 10 * l + t,
    speed: (l, r) => 1.2 + (LAYERS.length - 1 - l) * 0.5 + 0.3 * r,
  });

const field = (cells: Spread[][], key: 'mean' | 'sd' | 'min' | 'max') => cells.flat().map((c) => c[key]);

const missing = numpyMissing(PYTHON);
if (missing) console.warn(`test/python/seeds.test.ts: skipping the numpy comparison: ${missing}`);

describe.skipIf(missing !== null)('many seeds against numpy', () => {
  let dir: string;
  let bundle: string;
  let reference: {
    runs: string[];
    layers: string[];
    dynamics: { steps: number[]; mean: number[][][]; sd: number[][][]; min: number[][][]; max: number[][][]; freeze: Record<string, (number | null)[]>; perRun: number[][][][] };
    cross: { step: number; pairs: string[][]; mean: number[][]; sd: number[][]; min: number[][]; max: number[][]; diagonal: { mean: number[]; sd: number[]; min: number[]; max: number[] } };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'svcca-seeds-'));
    bundle = join(dir, 'seeds.npz');
    writeFileSync(bundle, seedsBundle());
    const done = spawnSync(PYTHON, [join(ROOT, 'test/python/seeds_reference.py'), bundle, String(THRESHOLD)], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    expect(done.status, done.stderr).toBe(0);
    reference = JSON.parse(done.stdout);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('dynamics --all-runs: mean, sd, min and max per cell, each run, and the freeze steps per run', async () => {
    const out = (await cliJson(['dynamics', bundle, '--all-runs', '--threshold', String(THRESHOLD), '--backend', 'cpu', '--json'])) as unknown as {
      runs: string[];
      steps: number[];
      layers: string[];
      references: number[];
      cells: Spread[][][];
      curves: Spread[][];
      perRun: number[][][][];
      freeze: { layer: string; steps: (number | null)[]; spread: Spread }[];
      inputHash: string;
      inputArrays: number;
      bundle: string;
    };
    expect(out.runs).toEqual(RUNS);
    expect(out.layers).toEqual(LAYERS);
    expect(out.steps).toEqual(reference.dynamics.steps);
    expect(out.references).toEqual([200, 200, 200]);
    expect(out.cells.flat(2).every((c) => c.n === RUNS.length)).toBe(true);
    for (const key of ['mean', 'sd', 'min', 'max'] as const) {
      expectClose(out.cells.flatMap((grid) => field(grid, key)), reference.dynamics[key].flat(2), TOL.f64Reference, `dynamics ${key}`);
    }
    expectClose(out.perRun.flat(3), reference.dynamics.perRun.flat(3), TOL.f64Reference, 'dynamics per run');
    // The curves are the cells' diagonal.
    out.curves.forEach((curve, i) => curve.forEach((s, t) => expect(s).toEqual(out.cells[t][i][i])));
    for (const f of out.freeze) {
      expect(f.steps, f.layer).toEqual(reference.dynamics.freeze[f.layer]);
      const frozen = f.steps.filter((s): s is number => s !== null);
      expect(f.spread.n).toBe(frozen.length);
      if (frozen.length > 0) expectClose([f.spread.min!, f.spread.max!, f.spread.mean!], [Math.min(...frozen), Math.max(...frozen), frozen.reduce((a, b) => a + b) / frozen.length], TOL.f64Identity, `freeze ${f.layer}`);
    }
    // The case must exercise a spread of freeze steps, not only identical ones.
    expect(out.freeze.some((f) => f.spread.min !== f.spread.max)).toBe(true);
    expect(out.bundle).toBe('seeds.npz');
    expect(out.inputArrays).toBe(RUNS.length * STEPS.length * LAYERS.length);
    expect(out.inputHash).toMatch(/^[0-9a-f]{12}$/);
  });

  it('cross --all-pairs: mean, sd, min and max per cell over every pair of runs, and the diagonal', async () => {
    const out = (await cliJson(['cross', bundle, '--all-pairs', '--backend', 'cpu', '--json'])) as unknown as {
      step: number;
      pairs: { a: string; b: string; values: number[][] }[];
      cells: Spread[][];
      diagonal: { layer: string; spread: Spread }[];
      inputArrays: number;
    };
    expect(out.step).toBe(reference.cross.step);
    expect(out.pairs.map((p) => [p.a, p.b])).toEqual(reference.cross.pairs);
    expect(out.cells.flat().every((c) => c.n === 3)).toBe(true);
    for (const key of ['mean', 'sd', 'min', 'max'] as const) {
      expectClose(field(out.cells, key), reference.cross[key].flat(), TOL.f64Reference, `cross ${key}`);
      expectClose(
        out.diagonal.map((d) => d.spread[key]),
        reference.cross.diagonal[key],
        TOL.f64Reference,
        `diagonal ${key}`,
      );
    }
    expect(out.diagonal.map((d) => d.layer)).toEqual(LAYERS);
    expect(out.inputArrays).toBe(RUNS.length * LAYERS.length);
  });
});
