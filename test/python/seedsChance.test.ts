// Many seeds with the chance level against numpy: a seeded bundle of three runs (two layers that
// share a representation across seeds, one that is each run's own noise) is written as an .npz,
// `svcca-lens cross --all-pairs --baseline` and `dynamics --all-runs --baseline` run in-process (CPU,
// float64, --json), and test/python/seeds_chance_reference.py recomputes every permuted similarity
// from scratch (numpy SVCCA, the same seeded permutations of B's datapoints) and the combination:
// each pair's chance mean, sd and z; over the pairs the chance's spread, Stouffer's Z, Cantelli's p,
// Holm over the diagonal and the verdict; per run the chance at each layer's freeze step. Every
// number within the float64 reference tolerance. Skipped, and says why, without python3 + numpy.
//
// Shapes: arrays are stored datapoints × neurons; cross cells [i][j] = run a's layer i against run
// b's layer j over the pairs a < b.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Baseline } from '../../src/analysis/types';
import type { CombinedChance, FreezeChance, LayerChance } from '../../src/analysis/seedsChance';
import type { Spread } from '../../src/analysis/spread';
import { cliJson, numpyMissing, seedsNpz } from '../helpers/seeds';
import { expectClose, TOL } from '../helpers/tolerance';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = process.env.PYTHON ?? 'python3';
const RUNS = ['seed0', 'seed1', 'seed2'];
/** Two layers mapping one latent input (shared across seeds), one of each run's own noise. */
const LAYERS = ['shared1', 'shared2', 'own'];
const STEPS = [0, 50, 100];
const DATAPOINTS = 90;
const NEURONS = [6, 5, 4];
const THRESHOLD = 0.8;
const PERMUTATIONS = 20;
const SEED = 7;

/** Two layers map one latent input (shared across seeds); `own` is each run's own noise. */
const chanceBundle = () =>
  seedsNpz({
    runs: RUNS,
    layers: LAYERS,
    steps: STEPS,
    datapoints: DATAPOINTS,
    neurons: NEURONS,
    latent: { seed: 17, dim: 5 },
    weightSeed: (r, l) => 200 + 10 * r + l,
    noiseSeed: (r, l, t) => 3000 + 100 * r + 10 * l + t,
    speed: (l, r) => 1.3 + (LAYERS.length - 1 - l) * 0.4 + 0.2 * r,
    ownNoise: { layers: ['own'], seed: (r) => 700 + r },
  });

interface ReferenceCell {
  chance: Spread;
  chanceSd: number;
  z: Spread;
  combinedZ: number;
  p: number;
  pHolm?: number;
  aboveChance?: boolean;
}

const spreadNumbers = (s: Spread) => [s.mean, s.sd, s.min, s.max];
const cellNumbers = (c: CombinedChance | ReferenceCell) => [...spreadNumbers(c.chance), c.chanceSd, ...spreadNumbers(c.z), c.combinedZ, c.p];

const missing = numpyMissing(PYTHON);
if (missing) console.warn(`test/python/seedsChance.test.ts: skipping the numpy comparison: ${missing}`);

describe.skipIf(missing !== null)('many seeds with the chance level against numpy', () => {
  let dir: string;
  let bundle: string;
  let reference: {
    layers: string[];
    cross: { step: number; pairs: string[][]; perPair: { mean: number; sd: number; z: number }[][][]; cells: ReferenceCell[][]; diagonal: ReferenceCell[] };
    freeze: Record<string, { steps: (number | null)[]; chance: (number | null)[]; aboveChance: (boolean | null)[]; spread: Spread | null }>;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'svcca-seeds-chance-'));
    bundle = join(dir, 'seeds-chance.npz');
    writeFileSync(bundle, chanceBundle());
    const done = spawnSync(
      PYTHON,
      [join(ROOT, 'test/python/seeds_chance_reference.py'), bundle, String(THRESHOLD), String(PERMUTATIONS), String(SEED)],
      { encoding: 'utf8', timeout: 300_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
    );
    expect(done.status, done.stderr).toBe(0);
    reference = JSON.parse(done.stdout);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("cross --all-pairs --baseline: each pair's chance, the combination per cell, Holm and the verdict per layer", async () => {
    const out = (await cliJson(['cross', bundle, '--all-pairs', '--baseline', String(PERMUTATIONS), '--baseline-null', 'permutation', '--seed', String(SEED), '--backend', 'cpu', '--json'])) as unknown as {
      step: number;
      pairs: { a: string; b: string; baseline: Baseline[][] }[];
      chance: CombinedChance[][];
      diagonal: { layer: string; chance: LayerChance }[];
      chanceTest: { alpha: number; layers: number };
    };
    expect(out.step).toBe(reference.cross.step);
    expect(out.pairs.map((p) => [p.a, p.b])).toEqual(reference.cross.pairs);
    out.pairs.forEach((p, k) =>
      expectClose(
        p.baseline.flat().flatMap((b) => [b.mean, b.sd, b.z]),
        reference.cross.perPair[k].flat().flatMap((b) => [b.mean, b.sd, b.z]),
        TOL.f64Reference,
        `pair ${p.a}×${p.b}`,
      ),
    );
    expectClose(out.chance.flat().flatMap(cellNumbers), reference.cross.cells.flat().flatMap(cellNumbers), TOL.f64Reference, 'cells over pairs');
    expectClose(
      out.diagonal.map((d) => d.chance.pHolm),
      reference.cross.diagonal.map((d) => d.pHolm!),
      TOL.f64Reference,
      'Holm',
    );
    expect(out.diagonal.map((d) => d.chance.aboveChance)).toEqual(reference.cross.diagonal.map((d) => d.aboveChance));
    // The case must exercise both verdicts: the shared layers agree across seeds, each run's own noise does not.
    expect(out.diagonal.map((d) => [d.layer, d.chance.aboveChance])).toEqual([
      ['shared1', true],
      ['shared2', true],
      ['own', false],
    ]);
    expect(out.chanceTest).toMatchObject({ alpha: 0.05, layers: 3 });
  }, 300_000);

  it('dynamics --all-runs --baseline: the chance at each run\'s freeze step, the threshold against it, their spread over runs', async () => {
    const out = (await cliJson([
      'dynamics',
      bundle,
      '--all-runs',
      '--threshold',
      String(THRESHOLD),
      '--baseline',
      String(PERMUTATIONS),
      '--seed',
      String(SEED),
      '--baseline-cells',
      'diagonal',
      '--baseline-null',
      'permutation',
      '--backend',
      'cpu',
      '--json',
    ])) as unknown as { freeze: { layer: string; steps: (number | null)[]; chance: FreezeChance }[] };
    for (const f of out.freeze) {
      const ref = reference.freeze[f.layer];
      expect(f.steps, f.layer).toEqual(ref.steps);
      expectClose(
        f.chance.baselines.map((b) => b?.mean ?? null),
        ref.chance,
        TOL.f64Reference,
        `chance at freeze of ${f.layer}`,
      );
      expect(f.chance.aboveChance, f.layer).toEqual(ref.aboveChance);
      if (ref.spread) expectClose(spreadNumbers(f.chance.chance), spreadNumbers(ref.spread), TOL.f64Reference, `spread of ${f.layer}`);
    }
    expect(out.freeze.some((f) => new Set(f.steps).size > 1)).toBe(true);
  }, 300_000);
});
