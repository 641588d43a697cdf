// The CLI reads a study given as one file per seed, as the app reads the same files dropped together
// (one grouping, io/bundle's readInput): results equal those of one bundle holding both runs.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';

let dir: string;
const M = 80; // datapoints; each array is datapoints × neurons
const STEPS = [0, 5, 10];
const LAYERS = ['l0', 'l1'];

/** One seed's members step_<s>/<layer>: a shared signal plus noise that shrinks over training. */
function seedMembers(seed: number, prefix: string): Record<string, Uint8Array> {
  const members: Record<string, Uint8Array> = {};
  for (const s of STEPS)
    for (const [l, layer] of LAYERS.entries()) {
      const base = randn(10 + l, M, 6).data;
      const noise = randn(1000 * seed + 10 * l + s, M, 6).data;
      members[`${prefix}step_${s}/${layer}.npy`] = encodeNpy(
        [M, 6],
        Float64Array.from(base, (v, k) => v + noise[k] / (s + 1)),
      );
    }
  return members;
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCommand([...args, '--backend', 'cpu', '--threads', '1'], { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
const json = async (...args: string[]) => {
  const r = await cli(...args, '--json');
  expect(r.stderr).not.toMatch(/svcca-lens: (?!warning)/);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcca-study-'));
  writeFileSync(join(dir, 'seedA.npz'), zipSync(seedMembers(1, '')));
  writeFileSync(join(dir, 'seedB.npz'), zipSync(seedMembers(2, '')));
  writeFileSync(join(dir, 'both.npz'), zipSync({ ...seedMembers(1, 'seedA/'), ...seedMembers(2, 'seedB/') }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a study given as one file per seed', () => {
  it('dynamics --all-runs on seedA.npz seedB.npz equals the one bundle with runs seedA and seedB', async () => {
    const files = await json('dynamics', join(dir, 'seedA.npz'), join(dir, 'seedB.npz'), '--all-runs');
    const bundle = await json('dynamics', join(dir, 'both.npz'), '--all-runs');
    expect(files.runs).toEqual(['seedA', 'seedB']);
    expect(files.runs).toEqual(bundle.runs);
    expect(files.bundle).toBe('seedA.npz + seedB.npz');
    expect(files.cells).toEqual(bundle.cells);
    expect(files.perRun).toEqual(bundle.perRun);
  });

  it('dynamics --run picks one file’s seed; the values and k99 equal the bundle’s run and that file alone', async () => {
    const files = await json('dynamics', join(dir, 'seedA.npz'), join(dir, 'seedB.npz'), '--run', 'seedB');
    const bundle = await json('dynamics', join(dir, 'both.npz'), '--run', 'seedB');
    const alone = await json('dynamics', join(dir, 'seedB.npz'));
    expect(files.run).toBe('seedB');
    expect(files.steps).toEqual(STEPS);
    expect(files.values).toEqual(bundle.values);
    expect(files.values).toEqual(alone.values);
    expect(files.k99).toEqual(bundle.k99);
    expect(files.k99).toEqual(alone.k99);
  });

  it('cross --all-pairs reads the seed files as its runs', async () => {
    const files = await json('cross', join(dir, 'seedA.npz'), join(dir, 'seedB.npz'), '--all-pairs');
    const bundle = await json('cross', join(dir, 'both.npz'), '--all-pairs');
    expect(files.cells).toEqual(bundle.cells);
  });

  it('two files of the same name are refused, naming both', async () => {
    const other = mkdtempSync(join(tmpdir(), 'svcca-study-other-'));
    try {
      writeFileSync(join(other, 'seedA.npz'), zipSync(seedMembers(3, '')));
      const r = await cli('dynamics', join(dir, 'seedA.npz'), join(other, 'seedA.npz'));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('has the same name as');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('a seed file whose arrays disagree on the datapoint count is left out, named, and the good seeds are the study', async () => {
    const bad = seedMembers(3, '');
    bad['step_10/l1.npy'] = encodeNpy([M - 5, 6], randn(7, M - 5, 6).data);
    writeFileSync(join(dir, 'seedC.npz'), zipSync(bad));
    const r = await cli('dynamics', join(dir, 'seedA.npz'), join(dir, 'seedB.npz'), join(dir, 'seedC.npz'), '--all-runs', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: seedC\.npz: left out of the study: array step_10\/l1 \(shape \(75, 6\)\) has 75 datapoints but .* 80;/);
    const study = JSON.parse(r.stdout);
    expect(study.runs).toEqual(['seedA', 'seedB']);
    expect(study.cells).toEqual((await json('dynamics', join(dir, 'both.npz'), '--all-runs')).cells);
  });

  it('no input at all is a usage error', async () => {
    const r = await cli('dynamics');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dynamics takes one bundle .*one file per run/);
  });
});
