// The benchmark as it travels to a GPU machine without node_modules (scripts/device-bench.sh): the
// one-file bundle builds, and its smoke run completes on Dawn with only the webgpu package beside it;
// the CPU pool's worker thread is bundled beside it (poolWorker.mjs) and starts from there, so the GPU
// path's float64 host step runs on the pool there too.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
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
      // The threads that pregenerate the large jobs' checkpoints start this file from beside the bench.
      expect(existsSync(join(dir, 'generateWorker.mjs'))).toBe(true);
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
      // The bench registers a CPU pool (one thread per core) for the GPU path's host step.
      expect(result.jobs[0].precision.hostThreads).toBeGreaterThanOrEqual(1);
      // The bundled pool starts its workers from poolWorker.mjs (no tsx, no sources here): the
      // host-step benchmark fails loudly when they cannot start.
      const host = await run(process.execPath, [join(dir, 'bench.mjs'), '--host-step', '--sizes', '128', '--batch', '3', '--threads', '2'], { cwd: dir });
      expect(host.stdout).toMatch(/pool of 2 threads/);
      expect(host.stdout).toMatch(/^128 /m);
    },
    180_000,
  );
});
