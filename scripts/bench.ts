// `npm run bench -- --backend cpu [--quick] [--no-reference] [--out FILE] [--numpy-threads both|default|1]`
// `npm run bench -- --backend webgpu [--quick] …` (scripts/bench-webgpu.ts: its own options)
// `npm run bench -- --host-step [--sizes 128,256,512] …` (scripts/bench/hostStep.ts: the GPU path's float64 host step)
//
// Speed benchmark of the SVCCA engine against the reference pair-by-pair algorithm
// (scripts/reference_pairwise.py: numpy, following google/svcca's tutorial + cca_core step by
// step), measured in ONE run on the same machine, so that the ratios mean something on a shared,
// noisy machine. Absolute seconds are printed too, but only the ratios are comparable across runs.
// Beside it, every job also runs scripts/efficient_numpy.py: numpy doing our own algorithm (factor
// every representation once with a BLAS Gram and numpy.linalg.eigh, then one small SVD per pair) on
// the same files and pairs (bench/efficient.ts); CPU seconds are reported beside wall seconds, and
// the report ends with the targets (≥ 12× the reference loop, ≥ 0.5× the efficient program).
//
//   (a) one SVCCA pair, n = 512, m = 10000: comparePair vs the numpy script (--pair)   bench/pair.ts
//   (b) learning dynamics, 5 layers × 6 checkpoints, n ≤ 128, m = 2000: computeDynamics vs numpy,
//       every pair                                                                    bench/dynamics.ts
//   (c) learning dynamics, 10 layers × 20 checkpoints, n = 256, m = 5000: computeDynamics vs numpy on
//       a seeded random sample of pairs, extrapolated to all pairs (and labelled so)  bench/dynamics.ts
//   micro-kernels: Gram X·Xᵀ (multiplyABt), eigen (tridiagonal vs Jacobi), projection, pair product
//                                                                                     bench/micro.ts
//
// Data: synthetic activations from scripts/bench-data.ts (spectrum λ_i ∝ i^-2, stated in the header
// and the JSON: our cost depends on k, the reference's hardly does). Arrays handed to the engine are
// (m, n) float32, datapoints first, as files hold them; each checkpoint is generated lazily when the
// engine loads it, and that generation time (plus writing the .npy files the numpy script reads, into
// a temporary folder deleted at the end) is measured inside load() and subtracted from our time
// (bench/synthetic.ts).
//
// Stage fractions come from two sources: the engine's progress callbacks (one event per row of
// pairs: rows with no load in between time the pairs; the rest is prepare + factoring), and an
// instrumented replica that calls the same math functions as the engine (prepare → centre → Gram →
// eigen → U_kᵀ·Xc → pairs) with a timer around each, on all of (b) and on two checkpoints of (c)
// (bench/replica.ts).
//
// The rest: bench/args.ts (command line, sizes, options), bench/reference.ts (running numpy),
// bench/report.ts (the printed tables), bench/cpu.ts (runs the jobs in order, writes the JSON).

import { runCpuBench } from './bench/cpu';

const raw = process.argv.slice(2);
if (raw.includes('--host-step')) {
  const { runHostStepBench } = await import('./bench/hostStep');
  await runHostStepBench(raw);
} else if (raw.includes('--backend=webgpu') || raw[raw.indexOf('--backend') + 1] === 'webgpu') {
  // The WebGPU benchmark runs in headless Chromium and takes its own options.
  const { runWebgpuBench } = await import('./bench-webgpu');
  await runWebgpuBench(raw);
} else {
  await runCpuBench(raw);
}
