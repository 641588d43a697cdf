// The measuring half of `npm run bench -- --backend webgpu`: runs on whatever WebGPU adapter it is
// given (this browser's in scripts/bench-webgpu.html; Dawn's with --runtime node) and returns
// numbers as JSON (scripts/bench-webgpu.ts prints and saves them).
// Measures, in one run: both product kernels' GFLOP/s (X·Yᵀ and X·Xᵀ), batched Jacobi time and sweeps per size, and
// learning-dynamics jobs end to end on the GPU and on the float64 CPU path (same data, same page),
// with the split of GPU time between factoring and pairs.
// Timings are wall clock around onSubmittedWorkDone: they include submission overheads. Job timings
// leave out the time spent generating the synthetic activations (reported beside them).

import { cpuBackend, registerGpuBackend, resolveBackend, type ComputeBackend } from '../src/analysis/backend';
import { comparePair, computeDynamics } from '../src/analysis/engine';
import { GpuBackend, webgpuBackendFactory } from '../src/analysis/gpu';
import { gridMaxDelta } from '../src/analysis/precision';
import { DEFAULT_OPTIONS } from '../src/analysis/types';
import { largestWorkgroupN } from '../src/gpu/kernels/jacobi';
import { MAX_SCRATCH_BYTES, planProducts } from '../src/gpu/kernels/product';
import { chooseJacobiStrategy, jacobiEigenBatch, runProducts, type JacobiStrategy } from '../src/gpu/ops';
import type { Bundle, BundleEntry } from '../src/io/types';
import { multiplyABt } from '../src/math/matrix';
import { randn } from '../src/math/random';
import type { Pregenerate } from './bench/pregenerate';
import {
  ActivationGenerator,
  DEFAULT_GENERATOR,
  describeGenerator,
  type GeneratorSpec,
  keepCount,
  oursFactorFlops,
  oursPairFlops,
  populationSpectrum,
} from './bench-data';

export interface WebgpuBenchConfig {
  products: [number, number][]; // X·Yᵀ, X and Y n × m
  eigen: number[]; // n
  /** One SVCCA pair of two n-neuron layers over m datapoints (the full size: n = 512, m = 10 000). */
  pair: { n: number; m: number };
  jobs: { name: string; widths: number[]; steps: number; datapoints: number; cpu: boolean }[];
}

/** A job's activations as a bundle of its first `steps` checkpoints: `arrayOf(layer, step)` gives
 *  X_layer(step) as (m, n_layer) float32, generated on this thread or read from arrays pregenerated
 *  before the clock starts; `loading.seconds` adds up the time it takes, which the job timings leave
 *  out (in the app this is reading files, not computing). */
function bundleOf(spec: GeneratorSpec, arrayOf: (layer: number, step: number) => Float32Array, loading = { seconds: 0 }, steps = spec.steps): Bundle {
  const { widths, datapoints } = spec;
  const entries: BundleEntry[] = [];
  for (let t = 0; t < steps; t++) {
    widths.forEach((n, l) => {
      const load = async () => {
        const started = performance.now();
        const data = arrayOf(l, t);
        loading.seconds += (performance.now() - started) / 1000;
        return { shape: [datapoints, n], dtype: '<f4' as const, data };
      };
      entries.push({ run: null, step: t, layer: `layer${l}`, source: `bench:step_${t}/layer${l}`, shape: [datapoints, n], dtype: '<f4', load });
    });
  }
  return {
    name: 'bench',
    runs: [null],
    steps: Array.from({ length: steps }, (_, t) => t),
    layers: widths.map((_, l) => `layer${l}`),
    entries,
    unmatched: [],
    labels: null,
    manifest: null,
  };
}

/** Wraps a backend to time its two stages. */
function timed(backend: ComputeBackend) {
  const times = { factorize: 0, pairs: 0 };
  const wrapped: ComputeBackend = {
    kind: backend.kind,
    precision: backend.precision,
    datapointsOfFactor: (f) => backend.datapointsOfFactor(f),
    permuteDatapoints: (f, perm, options) => backend.permuteDatapoints(f, perm, options),
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

/** The whole benchmark on the adapter `getGpu` offers: navigator.gpu in the page, Dawn in Node. */
/**
 * `pregenerate` (Node: scripts/bench/pregenerate.ts, worker threads) makes each job's checkpoints
 * before its runs; without it (the browser page) they are generated lazily on this thread, and the
 * time is subtracted from the job's timings either way.
 */
export async function runWebgpuBenchOn(getGpu: () => Promise<GPU | undefined | null>, config: WebgpuBenchConfig, pregenerate?: Pregenerate) {
  registerGpuBackend(webgpuBackendFactory(getGpu));
  const choice = await resolveBackend('webgpu');
  const gpu = choice.backend as GpuBackend;
  const rt = gpu.runtime;
  const products = await measureProducts(rt, config.products);
  // One matrix per size, by every driver that takes it; cold (pipeline compile included) and warm.
  const eigen = [];
  for (const n of config.eigen) {
    const x = randn(2, n, 2 * n);
    const a = Float32Array.from(multiplyABt(x, x).data);
    const padded = n + (n % 2);
    const strategies: JacobiStrategy[] = ['step-per-dispatch', 'sweeps-in-storage'];
    if (n <= largestWorkgroupN(rt.limits.maxComputeWorkgroupStorageSize)) strategies.push('sweeps-in-workgroup');
    for (const strategy of strategies) {
      const times: number[] = [];
      let sweeps = 0;
      for (let run = 0; run < 2; run++) {
        const t0 = performance.now();
        const r = await jacobiEigenBatch(rt, rt.upload(a, 'bench.eigen'), padded, 1, { vectors: true, strategy });
        times.push((performance.now() - t0) / 1000);
        sweeps = r.sweeps;
      }
      eigen.push({ n, strategy, chosen: strategy === chooseJacobiStrategy(rt, padded, 1), coldSeconds: times[0], seconds: times[1], sweeps });
    }
  }
  // One SVCCA pair, cold and warm.
  const pairGenerator = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [config.pair.n, config.pair.n], steps: 1, datapoints: config.pair.m });
  // Generated before the clock starts: the timing is the comparison (upload included), not the data.
  const [layer0, layer1] = [0, 1].map((l) => ({
    name: `layer${l}`,
    array: { shape: [config.pair.m, config.pair.n], dtype: '<f4' as const, data: pairGenerator.generate(l, 0) },
  }));
  const pairTimes: number[] = [];
  let pairSimilarity = 0;
  for (let run = 0; run < 2; run++) {
    const t0 = performance.now();
    pairSimilarity = (await comparePair(layer0, layer1, DEFAULT_OPTIONS, gpu)).similarity;
    pairTimes.push((performance.now() - t0) / 1000);
  }
  const pair = { ...config.pair, coldSeconds: pairTimes[0], seconds: pairTimes[1], similarity: pairSimilarity };
  // GPU-side time per kernel stage from timestamp queries, over the dynamics jobs (when available).
  const timestamps = rt.enableProfiling();
  const jobs = [];
  for (const job of config.jobs) {
    const spec = { ...DEFAULT_GENERATOR, widths: job.widths, steps: job.steps, datapoints: job.datapoints };
    const pregenerated = pregenerate ? await pregenerate(spec) : null;
    // Pregenerated arrays are read as they are (no generator built here: its latents take ~1 s at
    // 10 layers of 512 × 5000); otherwise this thread generates each array when the job loads it.
    let arrayOf: (layer: number, step: number) => Float32Array;
    if (pregenerated) arrayOf = (l, t) => pregenerated.arrays[t][l];
    else {
      const generator = new ActivationGenerator(spec);
      arrayOf = (l, t) => generator.generate(l, t);
    }
    // Warm-up: the same layers over two checkpoints compile every pipeline the job uses (as the app's
    // worker does once per session); the timed run below then measures the computation.
    const warmStart = performance.now();
    await computeDynamics({ bundle: bundleOf(spec, arrayOf, undefined, Math.min(2, job.steps)) }, DEFAULT_OPTIONS, {}, gpu);
    const warmUpSeconds = (performance.now() - warmStart) / 1000;
    const stagesBefore = timestamps ? await rt.gpuTimes() : null;
    rt.resetTraffic();
    const { wrapped, times } = timed(gpu);
    const precisionBefore = gpu instanceof GpuBackend ? { ...gpu.precisionWork } : null;
    const gpuLoading = { seconds: 0 };
    const t0 = performance.now();
    const gpuResult = await computeDynamics({ bundle: bundleOf(spec, arrayOf, gpuLoading) }, DEFAULT_OPTIONS, {}, wrapped);
    const gpuSeconds = (performance.now() - t0) / 1000 - gpuLoading.seconds;
    // Dispatches, passes, submissions and readbacks of the timed run (counted by the runtime: the same on any adapter).
    const traffic = rt.traffic();
    // What the precision contract costs in this job: float64 eigendecompositions on the host and the
    // refinement of the whitening (src/analysis/gpu/whitening.ts steps 3 and 5).
    const precision =
      gpu instanceof GpuBackend && precisionBefore
        ? {
            hostEigenSeconds: gpu.precisionWork.hostEigenSeconds - precisionBefore.hostEigenSeconds,
            refineSeconds: gpu.precisionWork.refineSeconds - precisionBefore.refineSeconds,
            /** CPU threads the host step may run on (the registered CPU pool's: --runtime node registers one; small batches stay in the job thread). */
            hostThreads: gpu.threads,
            float64: gpuResult.provenance?.float64 ?? [],
          }
        : null;
    const stagesAfter = timestamps ? await rt.gpuTimes() : null;
    let gpuMillisecondsByStage: Record<string, number> | null = null;
    if (stagesAfter && stagesBefore) {
      gpuMillisecondsByStage = {};
      for (const [stage, ms] of Object.entries(stagesAfter))
        if (ms > (stagesBefore[stage] ?? 0)) gpuMillisecondsByStage[stage] = ms - (stagesBefore[stage] ?? 0);
    }
    let cpuSeconds: number | null = null;
    let maxDelta: number | null = null;
    if (job.cpu) {
      const cpuLoading = { seconds: 0 };
      const t1 = performance.now();
      const cpuResult = await computeDynamics({ bundle: bundleOf(spec, arrayOf, cpuLoading) }, DEFAULT_OPTIONS, {}, cpuBackend);
      cpuSeconds = (performance.now() - t1) / 1000 - cpuLoading.seconds;
      maxDelta = gridMaxDelta(cpuResult.values, gpuResult.values);
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
      /** Generating the activations (left out of gpuSeconds and cpuSeconds): wall time of the
       *  pregeneration on `generationThreads` threads, or of the lazy generation on this thread. */
      generationSeconds: pregenerated ? pregenerated.seconds : gpuLoading.seconds,
      generationThreads: pregenerated ? pregenerated.threads : 1,
      warmUpSeconds,
      cpuSeconds,
      gpuVsCpu: cpuSeconds !== null ? cpuSeconds / gpuSeconds : null,
      maxDelta,
      modelFlops: flops,
      gflops: flops / gpuSeconds / 1e9,
      gpuMillisecondsByStage,
      /** GPU time (sum of the timestamped passes) over the job's wall-clock time; null without timestamp-query. */
      gpuBusyFraction: gpuMillisecondsByStage ? Object.values(gpuMillisecondsByStage).reduce((sum, ms) => sum + ms, 0) / 1000 / gpuSeconds : null,
      traffic,
      checkpoints: job.steps,
      stageFractions: { factorize: times.factorize / 1000 / gpuSeconds, pairs: times.pairs / 1000 / gpuSeconds },
      precision,
      corner: gpuResult.values[0][0][0],
    });
  }
  // The best general product (X·Yᵀ: real arithmetic) of the kernel runProducts chooses here, the
  // one the jobs run on: their "of best product" ratio. The kernel target judges either kernel.
  const best = Math.max(...products.filter((p) => p.kind === 'X·Yᵀ' && p.chosen).map((p) => p.gflops));
  return {
    adapter: choice.reason,
    software: rt.software,
    timestamps,
    products,
    bestProductGflops: best,
    eigen,
    pair,
    jobs: jobs.map((j) => ({ ...j, fractionOfBestProduct: j.gflops / best })),
  };
}

/** A product measured: `gflops` is 2·n²·m per second for both kinds (for a Gram, which computes
 *  only the tiles on and above the diagonal, that is the rate of a full product doing the same job). */
export interface ProductMeasurement {
  n: number;
  m: number;
  kind: 'X·Yᵀ' | 'X·Xᵀ';
  kernel: 'batched' | 'tiled';
  /** The kernel runProducts chooses on this adapter. */
  chosen: boolean;
  /** Slices of the contracted dimension (split-K; 1 for product-batched or no split). */
  split: number;
  seconds: number;
  gflops: number;
}

/**
 * Both product kernels side by side on every size: X·Yᵀ of two different n × m matrices (a general
 * product) and the Gram X·Xᵀ (symmetric: half the tiles). Each case: one warm-up call (the pipeline
 * compile), then repeated calls for ~0.75 s (at most 50), each waited for.
 */
async function measureProducts(rt: GpuBackend['runtime'], sizes: [number, number][]): Promise<ProductMeasurement[]> {
  const chosenKernel = rt.software ? 'batched' : 'tiled';
  const products: ProductMeasurement[] = [];
  for (const [n, m] of sizes) {
    const x = rt.upload(Float32Array.from(randn(1, n, m).data), 'bench.x');
    const y = rt.upload(Float32Array.from(randn(2, n, m).data), 'bench.y');
    const c = rt.zeros(n * n * 4, 'bench.c');
    const batch = [{ aOffset: 0, bOffset: 0, cOffset: 0, p: n, q: n, k: m, lda: m, ldb: m, ldc: n }];
    for (const kind of ['X·Yᵀ', 'X·Xᵀ'] as const) {
      const other = kind === 'X·Yᵀ' ? y : x;
      for (const kernel of ['batched', 'tiled'] as const) {
        const plan = planProducts([{ ...batch[0], symmetric: kind === 'X·Xᵀ' }], {
          software: rt.software,
          kernel,
          maxScratchWords: Math.floor(Math.min(MAX_SCRATCH_BYTES, rt.maxStorageBindingBytes, rt.limits.maxBufferSize) / 4),
        });
        runProducts(rt, x, other, c, batch, 'bench.warm', { kernel });
        await rt.settle();
        let reps = 0;
        const t0 = performance.now();
        do {
          runProducts(rt, x, other, c, batch, 'bench.product', { kernel });
          await rt.settle();
          reps++;
        } while (performance.now() - t0 < 750 && reps < 50);
        const seconds = (performance.now() - t0) / 1000 / reps;
        const split = plan.kernel === 'tiled' ? plan.split : 1;
        products.push({ n, m, kind, kernel, chosen: kernel === chosenKernel, split, seconds, gflops: (2 * n * n * m) / seconds / 1e9 });
      }
    }
    for (const buffer of [x, y, c]) rt.release(buffer);
  }
  return products;
}

export type WebgpuBenchResult = Awaited<ReturnType<typeof runWebgpuBenchOn>>;

declare global {
  interface Window {
    svccaBenchWebgpu: (config: WebgpuBenchConfig) => Promise<WebgpuBenchResult>;
  }
}
if (typeof window !== 'undefined') window.svccaBenchWebgpu = (config) => runWebgpuBenchOn(async () => navigator.gpu, config);
