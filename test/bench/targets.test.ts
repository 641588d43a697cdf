// The WebGPU benchmark's verdicts on the speed targets (scripts/bench-targets.ts), from made-up runs.
import { describe, expect, it } from 'vitest';
import { judgeTargets, type BenchResult } from '../../scripts/bench-targets';

function run(
  software: boolean,
  overrides: { eigenSeconds?: number; pairSeconds?: number; jobSeconds?: number; fraction?: number; batchedGflops?: number } = {},
): BenchResult {
  const product = (kind: string, kernel: string, gflops: number) => ({
    n: 1024,
    m: 10000,
    kind,
    kernel,
    chosen: kernel === 'tiled',
    split: 1,
    seconds: 1,
    gflops,
  });
  return {
    software,
    // Both kernels side by side; the chosen (tiled) one's best X·Yᵀ is the jobs' reference.
    products: [
      product('X·Yᵀ', 'batched', overrides.batchedGflops ?? 3_000),
      product('X·Yᵀ', 'tiled', 20_000),
      product('X·Xᵀ', 'batched', 5_000),
      product('X·Xᵀ', 'tiled', 90_000), // GEMM-equivalent rate of a Gram: never judged
    ],
    bestProductGflops: 20_000,
    eigen: [
      { n: 512, strategy: 'step-per-dispatch', chosen: true, coldSeconds: 1, seconds: overrides.eigenSeconds ?? 0.02, sweeps: 9 },
      { n: 512, strategy: 'sweeps-in-storage', chosen: false, coldSeconds: 1, seconds: 0.01, sweeps: 9 },
    ],
    pair: { n: 512, m: 10000, coldSeconds: 1, seconds: overrides.pairSeconds ?? 0.05, similarity: 0.5 },
    jobs: [
      {
        name: 'dynamics 10 layers × 20 checkpoints, n = 512, m = 5000',
        gpuSeconds: overrides.jobSeconds ?? 8,
        fractionOfBestProduct: overrides.fraction ?? 0.6,
      },
    ],
  } as unknown as BenchResult;
}

const verdict = (rows: ReturnType<typeof judgeTargets>, start: string) => rows.find((r) => r.target.startsWith(start))!.verdict;

describe('judgeTargets', () => {
  it('judges every target on a hardware adapter', () => {
    const rows = judgeTargets(run(false), 50_000);
    expect(verdict(rows, 'covariance')).toBe('met'); // 40% of peak
    expect(verdict(rows, '512 × 512')).toBe('met');
    expect(verdict(rows, 'one SVCCA pair')).toBe('met');
    expect(verdict(rows, '10 × 10 layers')).toBe('met');
    expect(verdict(rows, 'end to end')).toBe('met');
  });

  it('says which targets are missed', () => {
    const rows = judgeTargets(run(false, { eigenSeconds: 0.05, pairSeconds: 0.2, jobSeconds: 30, fraction: 0.3 }), 100_000);
    for (const start of ['covariance', '512 × 512', 'one SVCCA pair', '10 × 10 layers', 'end to end']) expect(verdict(rows, start)).toBe('NOT met');
  });

  it('judges the eigen target by the driver the engine chooses, not the fastest', () => {
    const rows = judgeTargets(run(false, { eigenSeconds: 0.05 }), null);
    expect(verdict(rows, '512 × 512')).toBe('NOT met');
    expect(rows.find((r) => r.target.startsWith('512'))!.measured).toMatch(/fastest 10\.0 ms \(sweeps-in-storage\)/);
  });

  it('judges the best general product of either kernel, and names it beside the chosen kernel', () => {
    const tiledBest = judgeTargets(run(false), 50_000).find((r) => r.target.startsWith('covariance'))!;
    expect(tiledBest.measured).toBe("20000 GFLOP/s = 40% of 50000 (tiled, X·Yᵀ 1024 × 10000; the chosen kernel's best 20000)");
    const batchedBest = judgeTargets(run(false, { batchedGflops: 30_000 }), 100_000).find((r) => r.target.startsWith('covariance'))!;
    expect(batchedBest.verdict).toBe('met'); // 30% of the peak, by the kernel not chosen
    expect(batchedBest.measured).toMatch(/\(batched, X·Yᵀ 1024 × 10000; the chosen kernel's best 20000\)/);
  });

  it('on a software adapter judges only the end-to-end fraction, and the kernel target needs a peak', () => {
    const rows = judgeTargets(run(true, { fraction: 0.3 }), null);
    expect(verdict(rows, 'covariance')).toBe('not judged (no peak given)');
    for (const start of ['512 × 512', 'one SVCCA pair', '10 × 10 layers']) expect(verdict(rows, start)).toBe('not judged (software adapter)');
    expect(verdict(rows, 'end to end')).toBe('NOT met');
  });
});
