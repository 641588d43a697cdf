// `svcca-lens dynamics` on a bundle with one bad array (a NaN in step_200/fc2, a +Inf in the
// reference step's fc1): the job runs to the end, the bad cells are "—" in the table and null in
// --json, one warning names the file, the array and what is wrong, and the freeze steps say where a
// missing value leaves them undecidable. Arrays are stored datapoints-first (300 × n), float32.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';

const run = promisify(execFile);
const bin = join(__dirname, '../../bin/svcca-lens.mjs');
let dir: string;
const STEPS = [0, 100, 200, 300];

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A study bundle: fc1 (6) and fc2 (4) at each step, each a noisier copy of the final representation; `poison` spoils one array. */
function study(poison: { step: number; layer: string; value: number } | null): Uint8Array {
  const members: Record<string, Uint8Array> = {};
  for (const [layer, n] of [
    ['fc1', 6],
    ['fc2', 4],
  ] as const) {
    const final = randn(n, 300, n);
    STEPS.forEach((step, t) => {
      const noise = randn(10 * n + t, 300, n);
      const data = Float32Array.from(final.data, (v, k) => v + ((STEPS.length - 1 - t) / 2) * noise.data[k]);
      if (poison && poison.step === step && poison.layer === layer) data[5] = poison.value;
      members[`step_${step}/${layer}.npy`] = encodeNpy([300, n], data);
    });
  }
  return zipSync(members, { level: 0 });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcca-bad-'));
  writeFileSync(join(dir, 'good.npz'), study(null));
  writeFileSync(join(dir, 'nan.npz'), study({ step: 200, layer: 'fc2', value: Number.NaN }));
  writeFileSync(join(dir, 'badref.npz'), study({ step: 300, layer: 'fc1', value: Infinity }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('svcca-lens dynamics with one bad array', () => {
  it('--json: the bad row is null at its step, every other cell the all-good value; one warning names file and array', async () => {
    const good = JSON.parse((await cli('dynamics', 'good.npz', '--json')).stdout);
    const bad = await cli('dynamics', 'nan.npz', '--json', '--threshold', '0.5');
    expect(bad.code).toBe(0);
    const r = JSON.parse(bad.stdout);
    r.values.forEach((grid: (number | null)[][], t: number) =>
      grid.forEach((row, i) => row.forEach((v, j) => expect(v).toBe(t === 2 && i === 1 ? null : good.values[t][i][j]))),
    );
    expect(r.badArrays).toEqual([{ step: 200, layer: 'fc2', source: 'nan.npz:step_200/fc2', problem: expect.stringMatching(/is NaN/) }]);
    const named = bad.stderr.split('\n').filter((l) => l.includes('step_200/fc2'));
    expect(named).toHaveLength(1);
    expect(named[0]).toMatch(/^svcca-lens: warning: nan\.npz:step_200\/fc2: value at index \[\d+, \d+\] is NaN/);
    expect(bad.stdout).not.toMatch(/NaN(?!;)/); // no NaN number in the JSON (only in the message text)
    expect(JSON.stringify(r.values)).not.toMatch(/NaN/);
  });

  it('the table marks the missing cells and says why; the freeze list says what is undecidable', async () => {
    const { code, stdout } = await cli('dynamics', 'nan.npz', '--threshold', '0.5');
    expect(code).toBe(0);
    const step200 = stdout.split('\nstep 200')[1].split('\nstep 300')[0];
    expect(step200).toMatch(/^fc2\s+—\s+—$/m);
    expect(step200).toMatch(/missing: row fc2 \(nan\.npz:step_200\/fc2: value at index .* is NaN/);
    expect(stdout.split('\nstep 300')[1]).toMatch(/^fc2\s+\d\.\d{4}\s+\d\.\d{4}$/m);
    expect(stdout).toMatch(/^fc2\s+(step \d+|undecidable \(step 200 missing\).*)$/m);
  });

  it("a bad reference array: that layer's column is missing at every step, with a clear message", async () => {
    const { code, stdout, stderr } = await cli('dynamics', 'badref.npz', '--json');
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    for (const grid of r.values) expect(grid.map((row: (number | null)[]) => row[0])).toEqual([null, null]);
    expect(r.values[0][1][1]).toEqual(expect.any(Number));
    expect(stderr).toMatch(/badref\.npz:step_300\/fc1: value at index \[\d+, \d+\] is \+Inf.*its column is missing at all 4 checkpoints/);
    const table = await cli('dynamics', 'badref.npz');
    expect(table.stdout).toMatch(/^fc1\s+undecidable \(steps 0, 100, 200, 300 missing\)/m);
  });
});

describe('svcca-lens cross with one bad array', () => {
  it('B\'s bad array at the compared step: its column is null in --json and "—" in the table, every other cell the all-good value', async () => {
    const good = JSON.parse((await cli('cross', 'good.npz', 'good.npz', '--step', '200', '--json')).stdout);
    const bad = await cli('cross', 'good.npz', 'nan.npz', '--step', '200', '--json');
    expect(bad.code).toBe(0);
    const r = JSON.parse(bad.stdout);
    expect(r.values.map((row: (number | null)[]) => row[1])).toEqual([null, null]);
    expect(r.values.map((row: (number | null)[]) => row[0])).toEqual(good.values.map((row: number[]) => row[0]));
    expect(r.badArrays).toEqual([{ step: 200, layer: 'fc2', source: 'nan.npz:step_200/fc2', problem: expect.stringMatching(/is NaN/), side: 'B', run: null }]);
    expect(bad.stderr.match(/nan\.npz:step_200\/fc2: /g)).toHaveLength(1);
    expect(bad.stderr).toMatch(/B's layer fc2 at step 200 is left out: its column is missing \(2 cells\)/);
    const text = await cli('cross', 'good.npz', 'nan.npz', '--step', '200');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^fc1\s+\d\.\d{4}\s+—$/m);
    expect(text.stdout).toMatch(/missing: column fc2 \(nan\.npz:step_200\/fc2: .*NaN/);
  });
});
