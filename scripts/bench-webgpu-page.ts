// In-browser half of `npm run bench -- --backend webgpu`: runs on whatever WebGPU adapter this
// browser offers and returns numbers as JSON (scripts/bench-webgpu.ts prints and saves them).
// Measures, in one run: product-kernel GFLOP/s, batched Jacobi time and sweeps per size, and
// learning-dynamics jobs end to end on the GPU and on the float64 CPU path (same data, same page),
// with the split of GPU time between factoring and pairs.
// Timings are wall clock around onSubmittedWorkDone: they include submission overheads.

import { cpuBackend, registerGpuBackend, resolveBackend, type ComputeBackend } from '../src/analysis/backend';
import { computeDynamics } from '../src/analysis/engine';
import { GpuBackend, webgpuBackendFactory } from '../src/analysis/gpuBackend';
import { DEFAULT_OPTIONS } from '../src/analysis/types';
import { jacobiEigenBatch, runProducts } from '../src/gpu/ops';
import type { Bundle, BundleEntry } from '../src/io/types';
import { multiplyABt } from '../src/math/matrix';
import { randn } from '../src/math/random';
import { ActivationGenerator, DEFAULT_GENERATOR, describeGenerator, keepCount, oursFactorFlops, oursPairFlops, populationSpectrum } from './bench-data';

export interface WebgpuBenchConfig {
  products: [number, number][]; // X·Yᵀ, X and Y n × m
  eigen: number[]; // n
  jobs: { name: string; widths: number[]; steps: number; datapoints: number; cpu: boolean }[];
}

function bundleOf(generator: ActivationGenerator): Bundle {
  const { widths, steps, datapoints } = generator.spec;
  const entries: BundleEntry[] = [];
  for (let t = 0; t < steps; t++) {
    widths.forEach((n, l) => {
      entries.push({ run: null, step: t, layer: `layer${l}`, source: `bench:step_${t}/layer${l}`, shape: [datapoints, n], dtype: '<f4', load: async () => ({ shape: [datapoints, n], dtype: '<f4', data: generator.generate(l, t) }) });
    });
  }
  return { name: 'bench', runs: [null], steps: Array.from({ length: steps }, (_, t) => t), layers: widths.map((_, l) => `layer${l}`), entries, unmatched: [], labels: null, manifest: null };
}

/** Wraps a backend to time its two stages. */
function timed(backend: ComputeBackend) {
  const times = { factorize: 0, pairs: 0 };
  const wrapped: ComputeBackend = {
    kind: backend.kind,
    precision: backend.precision,
    datapointsOf: (f) => backend.datapointsOf(f),
    release: (f) => backend.release(f),
    async factorize(reps, options, dft) {
      const t0 = performance.now();
      const out = await backend.factorize(reps, options, dft);
      times.factorize += performance.now() - t0;
      return out;
    },
    async compareGrid(a, b, options, onPairs, signal) {
      const t0 = performance.now();
      const out = await backend.compareGrid(a, b, options, onPairs, signal);
      times.pairs += performance.now() - t0;
      return out;
    },
  };
  return { wrapped, times };
}

async function run(config: WebgpuBenchConfig) {
  registerGpuBackend(webgpuBackendFactory(async () => navigator.gpu));
  const choice = await resolveBackend('webgpu');
  const gpu = choice.backend as GpuBackend;
  const rt = gpu.runtime;
  const products = [];
  for (const [n, m] of config.products) {
    // X·Yᵀ of two different matrices: a general product (a Gram X·Xᵀ would be computed as
    // symmetric, half the work, and overstate the rate).
    const x = rt.upload(Float32Array.from(randn(1, n, m).data), 'bench.x');
    const y = rt.upload(Float32Array.from(randn(2, n, m).data), 'bench.y');
    const c = rt.zeros(n * n * 4, 'bench.c');
    const batch = [{ aOffset: 0, bOffset: 0, cOffset: 0, p: n, q: n, k: m, lda: m, ldb: m, ldc: n }];
    runProducts(rt, x, y, c, batch, 'bench.warm');
    await rt.settle();
    let reps = 0;
    const t0 = performance.now();
    do {
      runProducts(rt, x, y, c, batch, 'bench.product');
      await rt.settle();
      reps++;
    } while (performance.now() - t0 < 1500 && reps < 50);
    const seconds = (performance.now() - t0) / 1000 / reps;
    products.push({ n, m, seconds, gflops: (2 * n * n * m) / seconds / 1e9 });
    for (const buffer of [x, y, c]) rt.release(buffer);
  }
  const eigen = [];
  for (const n of config.eigen) {
    const x = randn(2, n, 2 * n);
    const a = multiplyABt(x, x);
    const buffer = rt.upload(Float32Array.from(a.data), 'bench.eigen');
    const t0 = performance.now();
    const r = await jacobiEigenBatch(rt, buffer, n + (n % 2), 1, { vectors: true });
    eigen.push({ n, seconds: (performance.now() - t0) / 1000, sweeps: r.sweeps });
  }
  // GPU-side time per kernel stage from timestamp queries, over the dynamics jobs (when available).
  const timestamps = rt.enableProfiling();
  const jobs = [];
  for (const job of config.jobs) {
    const spec = { ...DEFAULT_GENERATOR, widths: job.widths, steps: job.steps, datapoints: job.datapoints };
    const generator = new ActivationGenerator(spec);
    // Warm-up: the same layers over two checkpoints compile every pipeline the job uses (as the app's
    // worker does once per session); the timed run below then measures the computation.
    const warmStart = performance.now();
    await computeDynamics({ bundle: bundleOf(new ActivationGenerator({ ...spec, steps: Math.min(2, job.steps) })) }, DEFAULT_OPTIONS, {}, gpu);
    const warmUpSeconds = (performance.now() - warmStart) / 1000;
    const stagesBefore = timestamps ? await rt.gpuTimes() : null;
    const { wrapped, times } = timed(gpu);
    const t0 = performance.now();
    const gpuResult = await computeDynamics({ bundle: bundleOf(generator) }, DEFAULT_OPTIONS, {}, wrapped);
    const gpuSeconds = (performance.now() - t0) / 1000;
    const stagesAfter = timestamps ? await rt.gpuTimes() : null;
    let gpuMillisecondsByStage: Record<string, number> | null = null;
    if (stagesAfter && stagesBefore) {
      gpuMillisecondsByStage = {};
      for (const [stage, ms] of Object.entries(stagesAfter)) if (ms > (stagesBefore[stage] ?? 0)) gpuMillisecondsByStage[stage] = ms - (stagesBefore[stage] ?? 0);
    }
    let cpuSeconds: number | null = null;
    let maxDelta: number | null = null;
    if (job.cpu) {
      const t1 = performance.now();
      const cpuResult = await computeDynamics({ bundle: bundleOf(generator) }, DEFAULT_OPTIONS, {}, cpuBackend);
      cpuSeconds = (performance.now() - t1) / 1000;
      maxDelta = 0;
      cpuResult.values.forEach((g, t) => g.forEach((row, i) => row.forEach((v, j) => (maxDelta = Math.max(maxDelta!, Math.abs(v - gpuResult.values[t][i][j]))))));
    }
    // FLOP model (scripts/bench-data.ts): k from the population spectrum of each width.
    const ks = job.widths.map((n) => keepCount(populationSpectrum(n, spec.spectrumExponent), 0.99));
    let flops = 0;
    for (let t = 0; t < job.steps; t++) job.widths.forEach((n, l) => (flops += oursFactorFlops(n, job.datapoints, ks[l]).total));
    for (let t = 0; t < job.steps; t++) for (const k1 of ks) for (const k2 of ks) flops += oursPairFlops(k1, k2, job.datapoints).total;
    jobs.push({
      name: job.name,
      generator: describeGenerator(spec),
      gpuSeconds,
      warmUpSeconds,
      cpuSeconds,
      gpuVsCpu: cpuSeconds !== null ? cpuSeconds / gpuSeconds : null,
      maxDelta,
      modelFlops: flops,
      gflops: flops / gpuSeconds / 1e9,
      gpuMillisecondsByStage,
      stageFractions: { factorize: times.factorize / 1000 / gpuSeconds, pairs: times.pairs / 1000 / gpuSeconds },
      corner: gpuResult.values[0][0][0],
    });
  }
  const best = Math.max(...products.map((p) => p.gflops));
  return {
    adapter: choice.reason,
    timestamps,
    products,
    bestProductGflops: best,
    eigen,
    jobs: jobs.map((j) => ({ ...j, fractionOfBestProduct: j.gflops / best })),
  };
}

declare global {
  interface Window {
    svccaBenchWebgpu: typeof run;
  }
}
window.svccaBenchWebgpu = run;
