// `dynamics --all-runs` and `cross --all-pairs` on a bundle where one run's job fails at compute
// time: run r1 holds 3 datapoints per array, fewer than debiased CKA needs (4), so every array of
// its job is left out and its job (dynamics: the run; cross: each pair with it) fails, while r0 and
// r2 (40 datapoints) compute. As in the app (test/state/seedsFailed.test.ts) the CLI goes on: a
// warning names the failed run and why, the aggregate is over the runs that succeeded (the same
// numbers as a bundle of those runs alone), the JSON lists the failures; too few successes fail
// the call, naming each failure. Arrays are stored datapoints-first (m × 4), float64; the CLI is
// spawned as a user runs it. Then, in-process, the jobs the commands call: a run whose backend
// throws (not bad input: a lost device) costs only that run, and a cancel still stops the job.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend, type ComputeBackend } from '../../src/analysis/backend';
import { computeCrossAllPairs, computeDynamicsAllRuns, SeedsFailedError } from '../../src/analysis/seedJobs';
import { DEFAULT_OPTIONS, type JobControl } from '../../src/analysis/types';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';
import { memoryBundle } from '../helpers/bundle';

const exec = promisify(execFile);
const bin = join(__dirname, '../../bin/svcca-lens.mjs');
let dir: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs × one layer l0 × steps 0, 10, 20 (noise, nearly final, final); `datapoints` per run (default 40). */
function bundle(name: string, runs: Record<string, number>): void {
  const members: Record<string, Uint8Array> = {};
  for (const [run, m] of Object.entries(runs)) {
    const r = Number(run.slice(1));
    const final = randn(40 + r, m, 4).data;
    [0, 10, 20].forEach((step, t) => {
      const noise = randn(60 + 10 * r + t, m, 4).data;
      const mix = [3, 0.05, 0][t];
      members[`${run}/step_${step}/l0.npy`] = encodeNpy(
        [m, 4],
        Float64Array.from(final, (v, k) => v + mix * noise[k]),
      );
    });
  }
  writeFileSync(join(dir, name), zipSync(members, { level: 0 }));
}

// Debiased CKA needs 4 datapoints: r1's 3 are too few for every one of its arrays.
const OPTIONS = ['--metric', 'cka-debiased', '--layout', 'datapoints-first', '--backend', 'cpu', '--threads', '1'];
const WHY = 'has 3 datapoints; debiased CKA needs at least 4';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcca-failed-run-'));
  bundle('three.npz', { r0: 40, r1: 3, r2: 40 });
  bundle('good.npz', { r0: 40, r2: 40 });
  bundle('two.npz', { r0: 40, r1: 3 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dynamics --all-runs with a run whose job fails', () => {
  it('goes on: a warning names the run and why, the mean is over the other two runs, the JSON lists the failure', async () => {
    const text = await cli('dynamics', 'three.npz', '--all-runs', ...OPTIONS);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toMatch(
      new RegExp(`^svcca-lens: warning: run r1 failed: three\\.npz:r1/step_\\d+/l0: ${WHY} \\(left out of the mean over runs\\)$`, 'm'),
    );
    expect(text.stdout).toContain('runs r0, r2;');
    expect(text.stdout).toContain('cells: mean ± sd over 2 of 3 runs (failed, left out: run r1)');

    const json = JSON.parse((await cli('dynamics', 'three.npz', '--all-runs', '--json', ...OPTIONS)).stdout);
    const good = JSON.parse((await cli('dynamics', 'good.npz', '--all-runs', '--json', ...OPTIONS)).stdout);
    expect(json.failedRuns).toEqual([{ run: 'r1', error: expect.stringContaining(WHY) }]);
    expect(json.runs).toEqual(['r0', 'r2']);
    // The failed run has no values: the aggregate is exactly that of a bundle of r0 and r2 alone.
    expect(json.perRun).toEqual(good.perRun);
    expect(json.cells).toEqual(good.cells);
    expect(Object.keys(json.inputHashes)).toEqual(['r0', 'r2']);
    expect(json.inputHash).toBe(good.inputHash);
    expect(json.warnings).toContainEqual(expect.stringMatching(/^run r1 failed: .*left out of the mean over runs\)$/));
    expect(good.failedRuns).toBeUndefined();
  }, 120_000);

  it('fails (status 2) when fewer runs than the mean needs succeed, naming the failed run and why', async () => {
    const out = await cli('dynamics', 'two.npz', '--all-runs', ...OPTIONS);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr.trim()).toMatch(
      new RegExp(
        `^svcca-lens: two\\.npz: 1 of 2 runs computed; the mean over runs needs at least 2: run r1 failed: two\\.npz:r1/step_\\d+/l0: ${WHY}[^\\n]* \\(left out of the mean over runs\\)$`,
      ),
    );
  }, 120_000);
});

describe('cross --all-pairs with a run whose pairs fail', () => {
  it('goes on: each failed pair is named with why, the mean is over the pair that succeeded', async () => {
    const text = await cli('cross', 'three.npz', '--all-pairs', ...OPTIONS);
    expect(text.code, text.stderr).toBe(0);
    const warnings = text.stderr.split('\n').filter((l) => l.includes('failed'));
    expect(warnings).toEqual([
      expect.stringMatching(/^svcca-lens: warning: runs r0 × r1 failed: .*has 3.* \(left out of the mean over pairs of runs\)$/),
      expect.stringMatching(/^svcca-lens: warning: runs r1 × r2 failed: .*has 3.* \(left out of the mean over pairs of runs\)$/),
    ]);
    expect(text.stdout).toContain('over 1 pair of runs (A before B: r0×r2)');
    expect(text.stdout).toContain('the mean covers 1 of 3 pairs of runs, runs r0, r2 (2 of 3 runs); failed, left out: runs r0 × r1, runs r1 × r2');

    const json = JSON.parse((await cli('cross', 'three.npz', '--all-pairs', '--json', ...OPTIONS)).stdout);
    const good = JSON.parse((await cli('cross', 'good.npz', '--all-pairs', '--json', ...OPTIONS)).stdout);
    expect(json.failedPairs).toEqual([
      { a: 'r0', b: 'r1', error: expect.stringContaining('has 3') },
      { a: 'r1', b: 'r2', error: expect.stringContaining('has 3') },
    ]);
    expect(json.runs).toEqual(['r0', 'r1', 'r2']);
    expect(json.pairs).toEqual(good.pairs);
    expect(json.cells).toEqual(good.cells);
    expect(json.inputHashes).toEqual(good.inputHashes);
    expect(json.inputHash).toBe(good.inputHash);
  }, 120_000);

  it('fails (status 2) when no pair succeeds, naming it and why', async () => {
    const out = await cli('cross', 'two.npz', '--all-pairs', ...OPTIONS);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr.trim()).toMatch(
      /^svcca-lens: two\.npz: 0 of 1 pairs of runs computed; the mean over pairs needs at least 1 \(2 runs\): runs r0 × r1 failed: .*has 3.* \(left out of the mean over pairs of runs\)$/,
    );
  }, 120_000);
});

/** Three runs × one layer × two steps (40 datapoints × 4 neurons, stored datapoints-first). */
function memoryRuns() {
  return memoryBundle(
    'm.npz',
    ['r0', 'r1', 'r2'].flatMap((run, r) =>
      [0, 10].map((step, t) => ({ run, step, layer: 'l0', array: { shape: [40, 4], dtype: '<f8', data: randn(100 + 10 * r + t, 40, 4).data } })),
    ),
  );
}

/**
 * The float64 backend, except that factoring fails with a plain Error (as a lost GPU device does)
 * while the job of `failing` runs: the job says which run it is on in its progress stage.
 */
function failingDuring(failing: string): { backend: ComputeBackend; control: JobControl } {
  let stage = '';
  const backend: ComputeBackend = {
    ...cpuBackend,
    factorize: (reps, options, dft, signal) =>
      stage.startsWith(failing) ? Promise.reject(new Error('the GPU device was lost (reason: unknown)')) : cpuBackend.factorize(reps, options, dft, signal),
  };
  return { backend, control: { onProgress: (p) => (stage = p.stage) } };
}

describe('the many-seeds jobs the commands call, with a run that fails for a reason other than its input', () => {
  it('dynamics: a backend error in run r1 leaves r1 out, named with the error; the mean is over r0 and r2', async () => {
    const { backend, control } = failingDuring('run r1:');
    const r = await computeDynamicsAllRuns({ bundle: memoryRuns(), threshold: 0.9 }, DEFAULT_OPTIONS, control, backend);
    expect(r.runs).toEqual(['r0', 'r2']);
    expect(r.failedRuns).toEqual([{ run: 'r1', error: 'the GPU device was lost (reason: unknown)' }]);
    expect(r.warnings).toContain('run r1 failed: the GPU device was lost (reason: unknown) (left out of the mean over runs)');
    const alone = await computeDynamicsAllRuns(
      { bundle: { ...memoryRuns(), runs: ['r0', 'r2'], entries: memoryRuns().entries.filter((e) => e.run !== 'r1') }, threshold: 0.9 },
      DEFAULT_OPTIONS,
    );
    expect(r.cells).toEqual(alone.cells);
  }, 60_000);

  it('cross: the pairs with r1 fail with the error, r0 × r2 stands; with every pair failing the job fails naming each', async () => {
    const { backend, control } = failingDuring('runs r0 × r1');
    const r = await computeCrossAllPairs({ bundle: memoryRuns() }, DEFAULT_OPTIONS, control, backend);
    expect(r.pairs.map((p) => [p.a, p.b])).toEqual([
      ['r0', 'r2'],
      ['r1', 'r2'],
    ]);
    expect(r.failedPairs).toEqual([{ a: 'r0', b: 'r1', error: 'the GPU device was lost (reason: unknown)' }]);
    const all = failingDuring('runs');
    const failure = await computeCrossAllPairs({ bundle: memoryRuns() }, DEFAULT_OPTIONS, all.control, all.backend).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SeedsFailedError);
    expect((failure as SeedsFailedError).failed.map((f) => f.unit)).toEqual(['runs r0 × r1', 'runs r0 × r2', 'runs r1 × r2']);
    expect((failure as Error).message).toMatch(/^m\.npz: 0 of 3 pairs of runs computed; .*runs r1 × r2 failed: the GPU device was lost/);
  }, 60_000);

  it('a cancel stops the whole job (an AbortError), never a failed run', async () => {
    const controller = new AbortController();
    const control: JobControl = { signal: controller.signal, onProgress: (p) => p.stage.startsWith('run r1:') && controller.abort() };
    const outcome = await computeDynamicsAllRuns({ bundle: memoryRuns(), threshold: 0.9 }, DEFAULT_OPTIONS, control).catch((e: unknown) => e);
    expect((outcome as Error).name).toBe('AbortError');
  }, 60_000);
});
