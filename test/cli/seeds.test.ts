// The CLI's many-seeds flags: --help says what they compute, and calls that cannot work say why
// (exit status 2, one line). The numbers: test/python/seeds.test.ts (against numpy).

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';

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
});
