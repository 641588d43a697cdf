// Which run `dynamics`, `cross` and `classes` take where the user names none. A bundle of several
// runs used to give its first run silently, and `cross seeds.npz seeds.npz` compared that run with
// itself (a diagonal of 1s a user could take for agreement between seeds). Now `cross` given the
// same bundle twice compares two different runs of it, as the app's Across runs view opens, and
// each command says on stderr which run it took and how to pick another. Arrays are stored
// datapoints-first (m × 5), float64; in-process calls of the CLI's main.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossRuns } from '../../src/cli/commands';
import { main } from '../../src/cli/main';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';
import { TOL, expectClose } from '../helpers/tolerance';

let dir: string;
const OPTIONS = ['--layout', 'datapoints-first', '--backend', 'cpu', '--threads', '1'];

async function call(...args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = await main([...args, ...OPTIONS], { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t) });
  return { status, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

async function json(...args: string[]) {
  const out = await call(...args, '--json');
  expect(out.status, out.stderr).toBe(0);
  return { ...(JSON.parse(out.stdout) as { values: number[][]; runA: string | null; runB: string | null; run?: string | null }), stderr: out.stderr };
}

/** Runs seed0, seed1 (or none: `runs` empty) × layers a, b × steps 0, 10; each run its own random layers over 60 datapoints. */
function bundle(name: string, runs: string[]): void {
  const members: Record<string, Uint8Array> = {};
  (runs.length > 0 ? runs : ['']).forEach((run, r) => {
    for (const [t, step] of [0, 10].entries()) {
      for (const [l, layer] of ['a', 'b'].entries()) {
        const prefix = run ? `${run}/` : '';
        members[`${prefix}step_${step}/${layer}.npy`] = encodeNpy([60, 5], randn(100 * r + 10 * t + l + 1, 60, 5).data);
      }
    }
  });
  writeFileSync(join(dir, name), zipSync(members, { level: 0 }));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcca-runs-'));
  bundle('seeds.npz', ['seed0', 'seed1']);
  bundle('one.npz', []);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the run a command takes when none is named', () => {
  it('crossRuns: the first run of each bundle, two different runs of one bundle given twice', () => {
    const runs = ['s0', 's1', 's2'];
    expect(crossRuns(runs, runs, undefined, undefined, false)).toEqual({ runA: 's0', runB: 's0' });
    expect(crossRuns(runs, runs, undefined, undefined, true)).toEqual({ runA: 's0', runB: 's1' });
    expect(crossRuns(runs, runs, 's1', undefined, true)).toEqual({ runA: 's1', runB: 's0' });
    expect(crossRuns(runs, runs, undefined, 's0', true)).toEqual({ runA: 's1', runB: 's0' });
    expect(crossRuns(runs, runs, 's2', 's2', true)).toEqual({ runA: 's2', runB: 's2' });
    // A one-run bundle has nothing else to pick.
    expect(crossRuns([null], [null], undefined, undefined, true)).toEqual({ runA: null, runB: null });
  });

  it('cross of one bundle given twice compares seed0 with seed1, the same numbers as naming them, and says so', async () => {
    const path = join(dir, 'seeds.npz');
    const unnamed = await json('cross', path, path);
    const named = await json('cross', path, path, '--run-a', 'seed0', '--run-b', 'seed1');
    expect([unnamed.runA, unnamed.runB]).toEqual(['seed0', 'seed1']);
    expect(unnamed.values).toEqual(named.values);
    // Different random layers: nothing on the diagonal is a layer against itself.
    for (const [i, row] of unnamed.values.entries()) expect(row[i]).toBeLessThan(0.99);
    expect(unnamed.stderr).toContain(
      'note: seeds.npz holds 2 runs (seed0, seed1); A is seed0: --run-a NAME picks another, --all-pairs compares every pair of them',
    );
    expect(unnamed.stderr).toContain('note: seeds.npz holds 2 runs (seed0, seed1); B is seed1: --run-b NAME picks another');
    // Named runs need no note.
    expect(named.stderr).not.toContain('holds 2 runs');
    // Only B named: A is the other run.
    expect((await json('cross', path, path, '--run-b', 'seed0')).runA).toBe('seed1');
    // One bundle alone is the same: A and B both.
    const alone = await json('cross', path);
    expect([alone.runA, alone.runB, alone.values]).toEqual(['seed0', 'seed1', named.values]);
    const single = await call('cross', join(dir, 'one.npz'));
    expect(single.status).toBe(2);
    expect(single.stderr).toContain('cross takes two bundles, A and B, or one bundle of several runs; one.npz holds one run: give a second bundle');
  });

  it('cross of a one-run file with itself warns that every layer meets itself', async () => {
    const path = join(dir, 'one.npz');
    const out = await json('cross', path, path);
    expect(out.stderr).toContain('warning: A and B are the same run (one.npz): every layer is compared with itself');
    expectClose(out.values[0][0], 1, TOL.f64Identity);
    const same = await json('cross', join(dir, 'seeds.npz'), join(dir, 'seeds.npz'), '--run-a', 'seed1', '--run-b', 'seed1');
    expect(same.stderr).toContain("A and B are the same run (seeds.npz's run seed1)");
  });

  it('a run the bundle does not hold is refused, naming the runs it does, on either side of cross', async () => {
    const seeds = join(dir, 'seeds.npz');
    const one = join(dir, 'one.npz');
    const refusal = async (...args: string[]) => {
      const out = await call(...args);
      expect(out.status).toBe(2);
      return out.stderr;
    };
    expect(await refusal('dynamics', seeds, '--run', 'seed5')).toBe('svcca-lens: seeds.npz: has no run seed5 (runs: seed0, seed1)');
    expect(await refusal('dynamics', one, '--run', 'seed5')).toBe(
      'svcca-lens: one.npz: has no run seed5 (its arrays are named step_<N>/<layer>, without a run: it is one run, pick none)',
    );
    // Before, a run B does not hold read as B sharing no step with A.
    expect(await refusal('cross', one, seeds, '--run-b', 'seed5')).toBe('svcca-lens: seeds.npz: has no run seed5 (runs: seed0, seed1)');
    expect(await refusal('cross', seeds, one, '--run-a', 'x')).toBe('svcca-lens: seeds.npz: has no run x (runs: seed0, seed1)');
  });

  it('dynamics and classes name the run they took of several; a one-run bundle gets no note', async () => {
    const dynamics = await json('dynamics', join(dir, 'seeds.npz'));
    expect(dynamics.run).toBe('seed0');
    expect(dynamics.stderr).toContain(
      'note: seeds.npz holds 2 runs (seed0, seed1); this is seed0: --run NAME picks another, --all-runs gives mean ± sd over all of them',
    );
    expect((await json('dynamics', join(dir, 'seeds.npz'), '--run', 'seed1')).stderr).not.toContain('holds 2 runs');
    expect((await json('dynamics', join(dir, 'one.npz'))).stderr).not.toContain('runs (');
  });
});
