// Nothing the CLI writes is lost in a pipe: a > 1 MB --json result read slowly through a pipe
// arrives whole, every time (before the fix the process exited with the pipe still holding the
// rest, and a reader got the first 64 KiB with exit status 0).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';

const bin = join(__dirname, '../../bin/svcca-lens.mjs');
const LAYERS = 40;
const STEPS = 36;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcca-pipe-'));
  // Many small layers (4 neurons × 20 datapoints, datapoints-first) at many steps: a cheap job
  // whose dynamics JSON (STEPS × LAYERS × LAYERS values, each with its kept dims) is over 1 MB.
  const members: Record<string, Uint8Array> = {};
  for (let t = 0; t < STEPS; t++) {
    for (let l = 0; l < LAYERS; l++) {
      members[`step_${t}/layer${String(l).padStart(2, '0')}.npy`] = encodeNpy([20, 4], Float32Array.from(randn(1000 * t + l, 20, 4).data));
    }
  }
  writeFileSync(join(dir, 'many.npz'), zipSync(members, { level: 0 }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI with stdout on a pipe that this test reads slowly: it pauses for `pauseMs`
 *  after every chunk, so the CLI finishes its work long before the pipe has drained. */
function runThroughSlowPipe(args: string[], pauseMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      chunks.push(d);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), pauseMs);
    });
    child.on('error', reject);
    child.stdout.on('end', () => child.on('close', (code) => resolve({ code, stdout: Buffer.concat(chunks).toString('utf8'), stderr })));
  });
}

describe('CLI output through a pipe', () => {
  it('a > 1 MB --json result read through a slow pipe parses whole, 20 times', async () => {
    const args = ['dynamics', 'many.npz', '--backend', 'cpu', '--json'];
    const runs = 20;
    const concurrent = 4;
    const sizes: number[] = [];
    for (let start = 0; start < runs; start += concurrent) {
      const results = await Promise.all(Array.from({ length: concurrent }, (_, i) => runThroughSlowPipe(args, 1 + ((start + i) % 3))));
      for (const r of results) {
        expect(r.code, r.stderr).toBe(0);
        sizes.push(Buffer.byteLength(r.stdout));
        const parsed = JSON.parse(r.stdout) as { values: number[][][] };
        expect(parsed.values).toHaveLength(STEPS);
        expect(parsed.values[STEPS - 1]).toHaveLength(LAYERS);
      }
    }
    expect(Math.min(...sizes)).toBeGreaterThan(1024 * 1024);
    expect(new Set(sizes).size).toBe(1);
  }, 240_000);
});
