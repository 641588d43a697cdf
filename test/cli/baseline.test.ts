// `--baseline P` / `--seed S` on compare, dynamics and cross: a chance level per value in --json
// (the engine's numbers), a chance line or table in the text, the freeze steps with their chance
// level, and clear refusals.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePair } from '../../src/analysis/engine';
import { DEFAULT_OPTIONS, type Baseline } from '../../src/analysis/types';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';
import { expectClose, TOL } from '../helpers/tolerance';

const run = promisify(execFile);
const bin = join(__dirname, '../../bin/svcca-lens.mjs');
let dir: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.VK_ICD_FILENAMES;
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: dir, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcca-baseline-'));
  const x = randn(1, 120, 8); // datapoints-first (120, 8)
  writeFileSync(join(dir, 'x.npy'), encodeNpy([120, 8], x.data));
  writeFileSync(join(dir, 'y.npy'), encodeNpy([120, 6], randn(2, 120, 6).data));
  const members: Record<string, Uint8Array> = {};
  for (const step of [0, 5, 10]) {
    for (const [layer, n] of [
      ['fc1', 6],
      ['fc2', 4],
    ] as const)
      members[`step_${step}/${layer}.npy`] = encodeNpy([120, n], Float32Array.from(randn(step * 10 + n, 120, n).data));
  }
  // The last step again as step 20: the curves end at 1 and freeze.
  for (const [layer, n] of [
    ['fc1', 6],
    ['fc2', 4],
  ] as const)
    members[`step_20/${layer}.npy`] = members[`step_10/${layer}.npy`];
  writeFileSync(join(dir, 'run.npz'), zipSync(members, { level: 0 }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('svcca-lens --baseline', () => {
  it("compare: the engine's baseline in --json and a chance line in the text", async () => {
    const json = await cli('compare', 'x.npy', 'y.npy', '--metric', 'cca', '--baseline', '9', '--seed', '4', '--baseline-null', 'permutation', '--json');
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as { similarity: number; baseline: Baseline };
    const load = (name: string, seed: number, n: number) => ({ name, array: { shape: [120, n], dtype: '<f8', data: randn(seed, 120, n).data } });
    const engine = await comparePair(load('x', 1, 8), load('y', 2, 6), { ...DEFAULT_OPTIONS, metric: 'cca', backend: 'cpu' }, undefined, {
      permutations: 9,
      seed: 4,
      null: 'permutation',
    });
    expect(out.baseline.permutations).toBe(9);
    expect(out.baseline.seed).toBe(4);
    expectClose(out.baseline.mean, engine.baseline!.mean, TOL.f64Identity, 'cli mean');
    expectClose(out.baseline.p, engine.baseline!.p, TOL.f64Identity, 'cli p');
    const text = await cli('compare', 'x.npy', 'y.npy', '--baseline', '9', '--baseline-null', 'permutation');
    expect(text.stdout).toMatch(
      /^chance\s+0\.\d{4} ± 0\.\d{4} \(z -?[\d.]+, p 0\.\d{4}(, the least 9 draws give)?; 9 permutations of B's datapoints, seed 1\)$/m,
    );
    const none = JSON.parse((await cli('compare', 'x.npy', 'y.npy', '--json')).stdout);
    expect(none.baseline).toBeUndefined();
  });

  it('dynamics: a baseline per cell, freeze steps with their chance level', async () => {
    const json = await cli('dynamics', 'run.npz', '--baseline', '5', '--json', '--threshold', '0.9');
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as {
      baseline: (Baseline | null)[][][];
      values: number[][][];
      freeze: { threshold: number; layers: { layer: string; step: number; aboveChance: boolean; baseline: Baseline }[] };
    };
    expect(out.baseline.length).toBe(out.values.length);
    expect(out.baseline[0][0][1]!.permutations).toBe(5);
    // SVCCA (the default metric): the Gaussian null by default.
    expect(new Set(out.baseline.flat(2).map((b) => b!.null))).toEqual(new Set(['gaussian']));
    expect(out.freeze.threshold).toBe(0.9);
    expect(out.freeze.layers.map((f) => f.step)).toEqual([10, 10]);
    for (const f of out.freeze.layers) expect(f.aboveChance).toBe(true);
    const diagonal = JSON.parse((await cli('dynamics', 'run.npz', '--baseline', '5', '--baseline-cells', 'diagonal', '--json')).stdout) as typeof out;
    expect(diagonal.baseline[0][0][1]).toBeNull();
    expectClose(diagonal.baseline[0][1][1]!.mean, out.baseline[0][1][1]!.mean, TOL.f64Identity, 'diagonal = all');
    const text = await cli('dynamics', 'run.npz', '--baseline', '5');
    expect(text.stdout).toContain('chance: mean of 5 draws of the Gaussian null (independent data, same kept dimensions), seed 1');
    const permuted = await cli('dynamics', 'run.npz', '--baseline', '5', '--baseline-null', 'permutation', '--json');
    const byPermutation = JSON.parse(permuted.stdout) as typeof out;
    expect(new Set(byPermutation.baseline.flat(2).map((b) => b!.null))).toEqual(new Set(['permutation']));
    expect((await cli('dynamics', 'run.npz', '--baseline', '5', '--baseline-null', 'permutation')).stdout).toContain(
      "chance: mean of 5 permutations of B's datapoints, seed 1",
    );
    expect(text.stdout).toMatch(/fc1\s+step 10 \(similarity 1\.000000; chance 0\.\d{4} ± 0\.\d{4}: the threshold is above chance \+ 2 sd\)/);
  });

  it('cross: a baseline per cell', async () => {
    const json = await cli('cross', 'run.npz', 'run.npz', '--step', '5', '--baseline', '4', '--json');
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as { baseline: Baseline[][] };
    expect(out.baseline.flat().every((b) => b.permutations === 4)).toBe(true);
  });

  it('refuses a bad count, a seed without --baseline, and documents the flags in --help', async () => {
    const one = await cli('compare', 'x.npy', 'y.npy', '--baseline', '1');
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('--baseline must be a whole number of permutations from 2 to');
    const seed = await cli('compare', 'x.npy', 'y.npy', '--seed', '3');
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain('--seed applies to the chance level: add --baseline P');
    const lone = await cli('compare', 'x.npy', 'y.npy', '--baseline-null', 'gaussian');
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain('--baseline-null applies to the chance level: add --baseline P');
    const cka = await cli('compare', 'x.npy', 'y.npy', '--metric', 'cka', '--baseline', '5', '--baseline-null', 'gaussian');
    expect(cka.code).toBe(2);
    expect(cka.stderr).toContain('--baseline-null gaussian is for --metric cca or svcca');
    const bad = await cli('compare', 'x.npy', 'y.npy', '--baseline', '5', '--baseline-null', 'normal');
    expect(bad.stderr).toContain('--baseline-null must be one of auto, gaussian, permutation (got normal)');
    for (const command of ['compare', 'dynamics', 'cross']) {
      const help = await cli(command, '--help');
      expect(help.stdout).toContain('--baseline P');
      expect(help.stdout).toContain('--seed S');
      expect(help.stdout).toContain('--baseline-null auto|gaussian|permutation');
    }
    expect((await cli('dynamics', '--help')).stdout).toContain('--threshold T');
  });
});
