// The WebGPU engine's speed targets, judged from one run of `npm run bench -- --backend webgpu`.
import type { WebgpuBenchResult } from './bench-webgpu-page';

export type BenchResult = WebgpuBenchResult;

interface TargetRow {
  target: string;
  measured: string;
  verdict: string;
}

/** The speed targets, from one run: real-GPU targets are judged only on a hardware adapter; the
 *  "≥ 50% of the best product" target (the best of the product kernel the jobs run on) on any adapter. */
export function judgeTargets(result: BenchResult, peakGflops: number | null): TargetRow[] {
  const onGpu = !result.software;
  const judge = (ok: boolean, realGpuOnly: boolean) => (realGpuOnly && !onGpu ? 'not judged (software adapter)' : ok ? 'met' : 'NOT met');
  const rows: TargetRow[] = [];
  // The product kernels: the best general product (X·Yᵀ) of either kernel at any size is judged;
  // beside it, which kernel and size that was, and the best of the kernel runProducts chooses here
  // (result.bestProductGflops, the jobs' reference).
  const general = result.products.filter((p) => p.kind === 'X·Yᵀ');
  const bestProduct = general.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  const best = bestProduct.gflops;
  const figure = (gflops: number) => (gflops >= 100 ? gflops.toFixed(0) : gflops.toPrecision(3));
  const where = `${bestProduct.kernel}, X·Yᵀ ${bestProduct.n} × ${bestProduct.m}; the chosen kernel's best ${figure(result.bestProductGflops)}`;
  rows.push({
    target: 'covariance kernel ≥ 30% of the GPU f32 peak',
    measured: peakGflops
      ? `${figure(best)} GFLOP/s = ${((best / peakGflops) * 100).toFixed(0)}% of ${peakGflops} (${where})`
      : `${figure(best)} GFLOP/s (${where}; pass --peak-gflops)`,
    verdict: peakGflops ? judge(best >= 0.3 * peakGflops, true) : 'not judged (no peak given)',
  });
  const eigen512 = result.eigen.filter((e) => e.n === 512);
  if (eigen512.length > 0) {
    const fastest = eigen512.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const chosen = eigen512.find((e) => e.chosen)!;
    rows.push({
      target: '512 × 512 eigendecomposition ≤ 30 ms',
      measured: `${(chosen.seconds * 1000).toFixed(1)} ms (${chosen.strategy}, as chosen); fastest ${(fastest.seconds * 1000).toFixed(1)} ms (${fastest.strategy})`,
      verdict: judge(chosen.seconds <= 0.03, true),
    });
  }
  if (result.pair.n === 512 && result.pair.m === 10000) {
    rows.push({
      target: 'one SVCCA pair, n = 512, m = 10 000 ≤ 100 ms',
      measured: `${(result.pair.seconds * 1000).toFixed(1)} ms`,
      verdict: judge(result.pair.seconds <= 0.1, true),
    });
  }
  const big = result.jobs.find((j) => j.name.includes('10 layers × 20 checkpoints, n = 512'));
  if (big)
    rows.push({
      target: '10 × 10 layers × 20 checkpoints, n = 512, m = 5000 ≤ 10 s',
      measured: `${big.gpuSeconds.toFixed(2)} s`,
      verdict: judge(big.gpuSeconds <= 10, true),
    });
  for (const job of result.jobs) {
    rows.push({
      target: `end to end ≥ 50% of the best product's GFLOP/s: ${job.name}`,
      measured: `${(job.fractionOfBestProduct * 100).toFixed(0)}%`,
      verdict: judge(job.fractionOfBestProduct >= 0.5, false),
    });
  }
  return rows;
}
