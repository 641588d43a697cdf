// The benchmark as it travels to a GPU machine without node_modules (scripts/device-bench.sh): the
// one-file bundle builds, and its smoke run completes on Dawn with only the webgpu package beside it.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { TOL } from '../helpers/tolerance';

const run = promisify(execFile);
const root = join(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'svcca-device-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('device benchmark bundle', () => {
  it.runIf(process.env.VK_ICD_FILENAMES)(
    'builds into one file and runs the smoke sizes on Dawn',
    async () => {
      await run(process.execPath, [join(root, 'scripts/bundle-device-bench.mjs'), join(dir, 'bench.mjs')]);
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(join(root, 'node_modules/webgpu'), join(dir, 'node_modules/webgpu'));
      const out = join(dir, 'smoke.json');
      const { stdout } = await run(process.execPath, [join(dir, 'bench.mjs'), '--backend', 'webgpu', '--runtime', 'node', '--smoke', '--out', out], {
        cwd: dir,
      });
      expect(stdout).toMatch(/SMOKE sizes, in Node \(Dawn\); adapter: WebGPU \(float32\)/);
      const { result } = JSON.parse(readFileSync(out, 'utf8'));
      expect(result.jobs).toHaveLength(1);
      expect(result.jobs[0].maxDelta).toBeLessThanOrEqual(TOL.f32Mean);
      expect(result.eigen.length).toBeGreaterThanOrEqual(2);
    },
    120_000,
  );
});
