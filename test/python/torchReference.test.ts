// scripts/torch_reference.py, the device run's PyTorch/numpy reference, on a tiny size set in the
// format the WebGPU benchmark's --list prints: it runs the jobs it is given (smallest first), every
// variant computes the same similarity on the same data, and without CUDA PyTorch runs on the CPU
// and says so. Skipped, and says why, without a python3 with numpy.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TOL } from '../helpers/tolerance';

const ROOT = join(__dirname, '../..');
// Debian's python3 has PyTorch (CPU) here; any python3 with numpy runs the numpy column.
const PYTHON = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const dir = mkdtempSync(join(tmpdir(), 'svcca-torch-reference-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sizes = {
  sizes: 'SMOKE',
  products: [[64, 256]],
  eigen: [16],
  pair: { n: 16, m: 200 },
  // Listed largest first: the script runs the smallest first.
  jobs: [
    { name: 'dynamics 3 layers × 3 checkpoints, n ≤ 24, m = 300', widths: [24, 16, 12], steps: 3, datapoints: 300, cpu: true },
    { name: 'dynamics 2 layers × 2 checkpoints, n = 8, m = 100', widths: [8, 8], steps: 2, datapoints: 100, cpu: true },
  ],
};

function run(): { report: Record<string, unknown> & { jobs: Record<string, number | string>[] } } | { missing: string } {
  const config = join(dir, 'sizes.json');
  const out = join(dir, 'torch-reference.json');
  writeFileSync(config, JSON.stringify(sizes));
  const done = spawnSync(PYTHON, ['scripts/torch_reference.py', '--config', config, '--out', out, '--repeats', '1', '--per-pair-budget', '60'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (done.error) return { missing: `${PYTHON} cannot be run (${done.error.message})` };
  if (done.status !== 0 && /No module named 'numpy'/.test(done.stderr)) return { missing: `${PYTHON} has no numpy` };
  if (done.status !== 0) throw new Error(`scripts/torch_reference.py failed: ${done.stderr}`);
  return { report: JSON.parse(readFileSync(out, 'utf8')) };
}

describe('PyTorch/numpy reference of the device run', () => {
  it('runs the size set it is given, smallest job first, every variant on the same data', (context) => {
    const result = run();
    if ('missing' in result) {
      context.skip(result.missing);
      return;
    }
    const { report } = result;
    expect(report.complete).toBe(true);
    expect(report.jobs.map((j) => j.name)).toEqual([sizes.jobs[1].name, sizes.jobs[0].name]);
    for (const job of report.jobs) {
      expect(job.numpy_f64_s).toBeGreaterThan(0);
      const numpy = job.numpy_f64_mean as number;
      expect(numpy).toBeGreaterThan(0);
      expect(numpy).toBeLessThanOrEqual(1);
      if (report.torch === null) continue;
      // The same similarity in PyTorch f64 (to round-off), f32 (the GPU contract's tolerance) and by
      // the reference per-pair loop (every pair timed: the 60 s budget is far above this size's cost even
      // on a loaded machine, where 0.2 s was not; CCA through eigh: f32 round-off).
      expect(Math.abs((job.torch_f64_mean as number) - numpy), job.name as string).toBeLessThanOrEqual(TOL.f64Identity);
      expect(Math.abs((job.torch_f32_mean as number) - numpy), job.name as string).toBeLessThanOrEqual(TOL.f32Mean);
      expect(job.torch_per_pair_pairs_timed).toBe(job.torch_per_pair_pairs);
      expect(Math.abs((job.torch_per_pair_f32_mean as number) - numpy), job.name as string).toBeLessThanOrEqual(TOL.f32Mean);
    }
    if (report.torch === null) {
      expect(report.device).toBe('none (no PyTorch: numpy only)');
      return;
    }
    if (report.cuda === false) expect(report.device).toMatch(/^cpu \(no CUDA: PyTorch on the CPU, \d+ threads; not a GPU reference\)$/);
    expect(report.pair).toEqual(sizes.pair);
    expect(report.pair_factored_f32_s).toBeGreaterThan(0);
    expect(report.products).toEqual([expect.objectContaining({ n: 64, m: 256 })]);
    expect(report.eigh).toEqual([expect.objectContaining({ n: 16 })]);
  }, 150_000);
});
