// The CLI's many-seeds flags: --help says what they compute, and calls that cannot work say why
// (exit status 2, one line). The numbers: test/python/seeds.test.ts (against numpy).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';

const DEMO = fileURLToPath(new URL('../../public/demo/fashion-resnet.npz', import.meta.url));

async function call(args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = await main(args, { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t) });
  return { status, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

describe('svcca-lens many seeds', () => {
  it('dynamics --help and cross --help explain --all-runs and --all-pairs', async () => {
    const dynamics = await call(['dynamics', '--help']);
    expect(dynamics.status).toBe(0);
    expect(dynamics.stdout).toContain('--all-runs');
    expect(dynamics.stdout).toContain('--threshold T');
    const cross = await call(['cross', '--help']);
    expect(cross.stdout).toContain('svcca-lens cross BUNDLE --all-pairs [--step N] [options]');
    expect((await call(['--help'])).stdout).toContain('--all-pairs');
  });
  it('refuses what cannot be computed, naming why', async () => {
    // The demo's seed1 has one checkpoint: no learning dynamics to average.
    const one = await call(['dynamics', DEMO, '--all-runs', '--backend', 'cpu']);
    expect(one.status).toBe(2);
    expect(one.stderr).toBe('svcca-lens: fashion-resnet.npz: has 1 run with two or more checkpoints; the mean over runs needs at least 2 (runs: seed0, seed1)');
    expect((await call(['cross', DEMO, '--all-pairs', '--run-a', 'seed0', '--backend', 'cpu'])).stderr).toContain(
      '--all-pairs and --run-a/--run-b exclude each other',
    );
    expect((await call(['cross', DEMO, '--all-pairs', '--step', '20', '--backend', 'cpu'])).stderr).toContain('has no step 20 in run seed1');
    expect((await call(['compare', 'a.npy', 'b.npy', '--all-runs'])).stderr).toContain('--all-runs belongs to dynamics');
    expect((await call(['dynamics', DEMO, '--all-runs', '--threshold', '2'])).stderr).toContain('--threshold must be a similarity in [0, 1]');
  });
  it('cross --all-pairs on the demo: one pair, so n = 1 and no sd', async () => {
    const out = await call(['cross', DEMO, '--all-pairs', '--backend', 'cpu', '--json']);
    expect(out.status).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.pairs.map((p: { a: string; b: string }) => [p.a, p.b])).toEqual([['seed0', 'seed1']]);
    expect(json.step).toBe(700);
    expect(json.cells[0][0]).toEqual({ mean: json.pairs[0].values[0][0], sd: null, min: json.pairs[0].values[0][0], max: json.pairs[0].values[0][0], n: 1 });
  }, 120_000);

  it('cross --all-pairs --baseline: the text and the JSON say per layer whether it agrees across seeds more than chance', async () => {
    const args = ['cross', DEMO, '--all-pairs', '--baseline', '5', '--baseline-cells', 'diagonal', '--backend', 'cpu'];
    const text = await call(args);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(
      "more than chance across seeds: each pair's chance level (5 draws of the Gaussian null (independent data, same kept dimensions), seed 1); combined over the 1 pair by Stouffer (Z = Σz/√K, one-sided p), Holm over 14 layers, α = 0.05",
    );
    expect(text.stdout).toMatch(/^layer\s+similarity\s+chance\s+z per pair\s+Z\s+p\s+p \(Holm\)\s+above chance \(α 0\.05\)$/m);
    const json = JSON.parse((await call([...args, '--json'])).stdout);
    expect(json.chanceTest).toMatchObject({ alpha: 0.05, layers: 14 });
    const stem = json.diagonal[0];
    expect(stem.layer).toBe('stem');
    expect(stem.chance).toMatchObject({ pairs: 1, withoutZ: 0, request: { permutations: 5, seed: 1 } });
    expect(stem.chance.combinedZ).toBe(json.pairs[0].baseline[0][0].z);
    // Only the diagonal was asked for: no chance off it.
    expect(json.chance[0][1]).toBeNull();
    // With P = 5, v = 1.2 · 4 / 2 = 2.4: the stem's z ≈ 100 gives p ≈ 2.4e-4, Holm over 14 layers ≈ 3e-3: above chance.
    expect(stem.chance.p).toBeCloseTo(2.4 / (2.4 + stem.chance.combinedZ ** 2), 12);
    expect(stem.chance.aboveChance).toBe(true);
    expect(text.stdout).toMatch(/^stem\s+0\.9756\s+0\.\d{4}\s+[\d.]+\s+[\d.]+\s+[\d.e-]+\s+[\d.e-]+\s+yes$/m);
    expect(json.inputHashes).toEqual({ 'seed0×seed1': expect.stringMatching(/^[0-9a-f]{12}$/) });
  }, 120_000);
});

describe('svcca-lens dynamics --all-runs --baseline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svcca-cli-seeds-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** Two runs × one layer × three steps (40 datapoints × 4 neurons): noise, nearly final, final. */
  function twoRuns(): string {
    const members: Record<string, Uint8Array> = {};
    for (const [r, run] of ['r0', 'r1'].entries()) {
      const final = randn(40 + r, 40, 4).data;
      [0, 10, 20].forEach((step, t) => {
        const noise = randn(60 + 10 * r + t, 40, 4).data;
        const mix = [3, 0.05, 0][t];
        members[`${run}/step_${step}/l0.npy`] = encodeNpy(
          [40, 4],
          Float64Array.from(final, (v, k) => v + mix * noise[k]),
        );
      });
    }
    const path = join(dir, 'two-runs.npz');
    writeFileSync(path, zipSync(members, { level: 0 }));
    return path;
  }
  it("prints each layer's freeze step with the chance there over runs, and puts it in the JSON", async () => {
    const bundle = twoRuns();
    const args = [
      'dynamics',
      bundle,
      '--all-runs',
      '--threshold',
      '0.9',
      '--baseline',
      '10',
      '--baseline-cells',
      'diagonal',
      '--metric',
      'cca',
      '--backend',
      'cpu',
    ];
    const text = await call(args);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^l0\s+10, 10\s+mean 10\.0 ± 0\.0, min 10, max 10 \(2 of 2 runs\); chance there 0\.\d{4}±0\.\d{4}: threshold above chance \+ 2 sd in 2 of 2 runs$/m,
    );
    expect(text.stdout).toContain(
      "step 10  chance: each run's chance mean (10 draws of the Gaussian null (independent data, same kept dimensions), seed 1), mean ± sd over runs",
    );
    const json = JSON.parse((await call([...args, '--json'])).stdout);
    expect(json.freeze[0].chance).toMatchObject({ aboveChance: [true, true], aboveChanceRuns: 2, frozen: 2 });
    expect(json.freeze[0].chance.baselines[1]).toEqual(json.perRunBaseline[1][1][0][0]);
    expect(Object.keys(json.inputHashes)).toEqual(['r0', 'r1']);
  }, 120_000);
});
