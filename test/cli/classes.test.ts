// `svcca-lens classes`, `compare --sweep-k` and `dynamics --json`'s k99, spawned as a user runs
// them (node bin/svcca-lens.mjs), on the demo bundle: the JSON carries the engine's numbers
// exactly (test/analysis/classes.test.ts checks those against numpy) and says what it read.

import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeClassSensitivity } from '../../src/analysis/classes';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { openBundle } from '../../src/io/bundle';
import { encodeNpy } from '../../src/io/npy';

const run = promisify(execFile);
const bin = join(__dirname, '../../bin/svcca-lens.mjs');
const DEMO = join(__dirname, '../../public/demo/fashion-resnet.npz');
let dir: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.VK_ICD_FILENAMES;
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: dir, env, maxBuffer: 32 * 2 ** 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcca-classes-cli-'));
  // A bundle without labels: two steps of one dense layer.
  for (const step of [0, 1]) {
    mkdirSync(join(dir, 'nolabels', `step_${step}`), { recursive: true });
    const data = Float32Array.from({ length: 60 * 4 }, (_, i) => Math.sin(i * (step + 1.3)));
    writeFileSync(join(dir, 'nolabels', `step_${step}`, 'fc.npy'), encodeNpy([60, 4], data));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('svcca-lens classes', () => {
  it('--json: values[l][c][t], firstStep, k99, provenance; the engine’s numbers exactly', async () => {
    const { code, stdout, stderr } = await cli('classes', DEMO, '--layer', 's3b2', '--target', 'indicator', '--run', 'seed0', '--threshold', '0.9', '--json');
    expect(code, stderr).toBe(0);
    const r = JSON.parse(stdout);
    expect(r.analysis).toBe('class-sensitivity');
    expect(r.layers).toEqual(['s3b2']);
    expect(r.classes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.steps).toHaveLength(14);
    expect(r.values).toHaveLength(1);
    expect(r.values[0]).toHaveLength(10);
    expect(r.values[0][0]).toHaveLength(14);
    expect(r.target).toBe('indicator');
    expect(r.logitsLayer).toBeNull();
    expect(r.threshold).toBe(0.9);
    expect(r.k99).toHaveLength(14);
    expect(r).toMatchObject({ bundle: 'fashion-resnet.npz', run: 'seed0', inputArrays: 14, computed: { backend: 'cpu', precision: 'float64' } });
    expect(r.inputHash).toMatch(/^[0-9a-f]{12}$/);
    expect(r.app.name).toBe('svcca-lens');
    const bundle = await openBundle('fashion-resnet.npz', [{ path: 'fashion-resnet.npz', blob: new Blob([new Uint8Array(readFileSync(DEMO))]) }]);
    const engine = await computeClassSensitivity({ bundle, run: 'seed0', layers: ['s3b2'], target: 'indicator', threshold: 0.9 }, DEFAULT_OPTIONS);
    expect(r.values).toEqual(engine.values);
    expect(r.firstStep).toEqual(engine.firstStep);
    expect(stderr).toMatch(/conv layers are flattened/);
  }, 120_000);

  it('prints a table per layer with the step each class first reaches the threshold, and which come first', async () => {
    const { code, stdout } = await cli('classes', DEMO, '--layer', 'logits', '--target', 'indicator');
    expect(code).toBe(0);
    expect(stdout).toMatch(/layer logits {2}\(rows: class; columns: step\)/);
    expect(stdout).toMatch(/learned first: /);
    expect(stdout).toMatch(/k99 \(SVD directions holding 99% of the variance/);
  }, 60_000);

  it('--help names its options; no labels and bad flags exit 2 with one line', async () => {
    const help = await cli('classes', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--target logits\|indicator/);
    expect(help.stdout).toMatch(/--logits LAYER/);
    const none = await cli('classes', 'nolabels');
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toMatch(/^svcca-lens: nolabels: has no labels/);
    const bad = await cli('classes', DEMO, '--target', 'softmax');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--target must be one of logits, indicator/);
  }, 60_000);
});

describe('svcca-lens compare --sweep-k and dynamics k99', () => {
  it('compare --sweep-k --json: sweepK [{k, similarity}] from k = 1, k99 per side; text: a compact table', async () => {
    const a = `${DEMO}:seed0/step_700/s3b1`;
    const b = `${DEMO}:seed0/step_700/logits`;
    const { code, stdout, stderr } = await cli('compare', a, b, '--sweep-k', '--json');
    expect(code, stderr).toBe(0);
    const r = JSON.parse(stdout);
    expect(r.sweepK.map((p: { k: number }) => p.k)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const p of r.sweepK) expect(p.similarity).toBeGreaterThan(0);
    expect(r.k99).toHaveLength(2);
    expect(typeof r.similarity).toBe('number'); // the ordinary compare fields stay
    const text = await cli('compare', a, b, '--sweep-k');
    expect(text.stdout).toMatch(/sweep over k/);
    expect(text.stdout).toMatch(/← k99/);
  }, 60_000);

  it('dynamics --json has k99[t][i]: the directions holding 99% of the variance', async () => {
    const { code, stdout } = await cli('dynamics', DEMO, '--run', 'seed0', '--metric', 'cka', '--json');
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(r.k99).toHaveLength(r.steps.length);
    expect(r.k99[0]).toHaveLength(r.layers.length);
    expect(r.k99[0][r.layers.indexOf('logits')]).toBeLessThanOrEqual(10);
  }, 120_000);
});
