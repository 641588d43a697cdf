// The WebGPU backend: the same contract as the float64 CPU backend (src/analysis/backend.ts), with the
// heavy products in f32 and every number within PRECISION_CONTRACT of float64 (src/analysis/precision.ts).
// Each file of this folder is the GPU twin of the float64 file of the same name in src/math/:
//   factors.ts   a grid side centred, stacked and its Gram matrices formed (metrics.ts factorize)
//   whitening.ts the whitening and its refinement (math/whitening.ts, math/gramFactor.ts)
//   cca.ts, pwcca.ts, cka.ts, dft.ts   each metric's factors and grid of pairs
//   pairs.ts     the stacked cross product every grid starts with
// This file chooses the path per metric (a `switch` with a `never` default: a metric added to
// `Metric` does not compile until the GPU backend handles it), hands what the GPU does not take to
// the float64 path with the reason, and runs every call as a job that owns its buffers: whatever a
// job acquired and did not hand to a factor is released when it ends, however it ends.
//
// Shapes: every representation is n neurons × m datapoints, row-major.

import { acquireDevice } from '../../gpu/device';
import { GpuLimitError, GpuRuntime } from '../../gpu/runtime';
import type { Representation } from '../../math/reduce';
import { factorPermuted } from '../baseline';
import { checkAborted, float64SpectrumOf, forgetGpuBackend, registeredCpuBackend, type ComputeBackend, type GpuBackendFactory } from '../backend';
import { compareFactors, factorize, type Factor, type PairNumbers } from '../metrics';
import type { HostPool } from '../pool/gramHost';
import { CpuPool } from '../pool/pool';
import type { AnalysisOptions } from '../types';
import { compareCca } from './cca';
import { compareCka } from './cka';
import { compareDft } from './dft';
import { factorizeSide, releaseFactors } from './factors';
import { comparePwcca } from './pwcca';
import { unreachableMetric, type GpuCcaFactor, type GpuCkaFactor, type GpuDftFactor, type GpuFactor, type GpuJob, type PrecisionWork } from './types';

export type { GpuFactor } from './types';

/** Why the chance level of a GPU job is computed in float64 (provenance). */
export const PERMUTED_IN_FLOAT64 = 'the chance level (datapoints permuted) is computed from float64 factors re-indexed on the host';

/** The CPU pool the app or the CLI registered (its threads run the float64 host step, whitening.ts), or null. */
function hostPool(): HostPool | null {
  const cpu = registeredCpuBackend();
  return cpu instanceof CpuPool ? cpu : null;
}

export class GpuBackend implements ComputeBackend<GpuFactor> {
  readonly kind = 'webgpu' as const;
  /** Float64 factors of GPU factors that met a pair the GPU does not handle (compareOnCpu); they
   *  go with their GPU factor (a factor belongs to one job, so to one set of options). */
  private readonly cpuTwins = new WeakMap<GpuFactor, Factor>();
  readonly precision = 'float32' as const;
  /** Threads the float64 host step runs on (the registered CPU pool's; provenance.threads). */
  get threads(): number {
    return hostPool()?.threads ?? 1;
  }
  /** Wall-clock seconds spent on what the precision contract adds (for the benchmark): the host's
   *  float64 step (eigenvalues, keep rule, kept eigenvectors; on the CPU pool where registered), and
   *  the refinement (Z₀'s Gram, its read-back, Cholesky, Z = L⁻¹ Z₀). */
  readonly precisionWork: PrecisionWork = { hostEigenSeconds: 0, refineSeconds: 0 };
  /**
   * @param maxChunkBytes largest buffer of stacked datapoints uploaded at once (default: the device's
   *   storage-binding limit). Beyond it the datapoints stream in column chunks: Gram matrices
   *   accumulate over chunks and Z's columns are written chunk by chunk, so m is bounded by GPU
   *   memory rather than by the binding limit.
   */
  constructor(
    readonly runtime: GpuRuntime,
    readonly maxChunkBytes?: number,
  ) {}

  private chunkLimit(): number {
    return this.maxChunkBytes ?? Math.min(this.runtime.maxStorageBindingBytes, this.runtime.limits.maxBufferSize);
  }

  /**
   * Runs `work` as one job: its buffers are released when it ends, whether it returns or throws. A
   * job that throws (a cancel, a limit met, a bug) gives up the work it recorded and did not submit
   * (GpuRuntime.discardPending): dropped once nothing it writes is held, so it does not run with the
   * next job's first submission. Work another flow recorded beside it (the checkpoint pipeline's
   * factoring, checkpointPipeline.ts) is submitted as usual while its results are held.
   */
  private async job<T>(options: AnalysisOptions, signal: AbortSignal | undefined, work: (job: GpuJob) => Promise<T>): Promise<T> {
    const own = this.runtime.ledger();
    const job: GpuJob = {
      rt: this.runtime,
      own,
      options,
      signal,
      precisionWork: this.precisionWork,
      hostPool: hostPool(),
      twin: (f) => this.cpuFactor(f, options),
    };
    let failed = true;
    try {
      const done = await work(job);
      failed = false;
      return done;
    } finally {
      own.close();
      if (failed) this.runtime.discardPending();
    }
  }

  /** The job using this backend stopped (failed or cancelled) between GPU jobs: see ComputeBackend.abandon. */
  abandon(): void {
    this.runtime.discardPending();
  }

  datapointsOfFactor(f: GpuFactor): number {
    return f.kind === 'cpu' ? f.factor.datapoints : f.datapoints;
  }

  /** Float64 factors only (those the GPU handed to the float64 path): a GPU factor's spectrum comes from its float32 Gram. */
  float64Spectrum(f: GpuFactor): readonly number[] | null {
    return f.kind === 'cpu' ? float64SpectrumOf(f.factor) : null;
  }

  /**
   * The chance level's permuted factors run in float64: each representation's float64 twin (made
   * once per factor) re-indexed on the host, so every pair with a permuted side takes the float64
   * path and says so. A GPU gather of Z's columns would keep them in float32; until then the
   * contract holds trivially (float64 is the oracle).
   */
  permuteDatapoints(factors: GpuFactor[], perm: Int32Array, options: AnalysisOptions): GpuFactor[] {
    return factors.map((f) => ({ kind: 'cpu', factor: factorPermuted(this.cpuFactor(f, options), perm), rep: f.rep, reason: PERMUTED_IN_FLOAT64 }));
  }

  release(factors: GpuFactor[]): void {
    releaseFactors(this.runtime, factors);
  }

  async factorize(reps: Representation[], options: AnalysisOptions, dft: boolean, signal?: AbortSignal): Promise<GpuFactor[]> {
    checkAborted(signal);
    try {
      return await this.job(options, signal, (job) => factorizeSide(job, reps, dft, this.chunkLimit()));
    } catch (error) {
      // Beyond this device's limits: the float64 path computes the same numbers (and says so).
      if (!(error instanceof GpuLimitError)) throw error;
      return reps.map((rep) => ({ kind: 'cpu', factor: factorize(rep, options, dft), rep, reason: error.message }));
    }
  }

  async compareGrid(
    a: GpuFactor[],
    b: GpuFactor[],
    options: AnalysisOptions,
    onPairs?: (count: number) => void,
    signal?: AbortSignal,
  ): Promise<PairNumbers[][]> {
    this.runtime.checkAlive();
    // Representations the precision rule sent to float64: their pairs run there, the rest on the GPU.
    const toCpu = (f: GpuFactor) => f.kind === 'cpu' && f.conditioning === true;
    if (!a.some(toCpu) && !b.some(toCpu)) return this.compareUniform(a, b, options, onPairs, signal);
    const onGpuA = a.flatMap((f, i) => (toCpu(f) ? [] : [i]));
    const onGpuB = b.flatMap((f, j) => (toCpu(f) ? [] : [j]));
    const sub =
      onGpuA.length > 0 && onGpuB.length > 0
        ? await this.compareUniform(
            onGpuA.map((i) => a[i]),
            onGpuB.map((j) => b[j]),
            options,
            undefined,
            signal,
          )
        : [];
    const grid = a.map((fa, i) =>
      b.map((fb, j): PairNumbers => {
        const si = onGpuA.indexOf(i);
        const sj = onGpuB.indexOf(j);
        if (si >= 0 && sj >= 0) return sub[si][sj];
        checkAborted(signal);
        const numbers = compareFactors(this.cpuFactor(fa, options), this.cpuFactor(fb, options), options);
        const why = (f: GpuFactor) => (f.kind === 'cpu' && toCpu(f) ? f.reason : null);
        return { ...numbers, fallbackSides: [why(fa), why(fb)] };
      }),
    );
    onPairs?.(a.length * b.length);
    return grid;
  }

  /** A factor's float64 twin, made once: a dynamics job meets the reference side at every step. */
  private cpuFactor(f: GpuFactor, options: AnalysisOptions): Factor {
    if (f.kind === 'cpu') return f.factor;
    let twin = this.cpuTwins.get(f);
    if (!twin) this.cpuTwins.set(f, (twin = factorize(f.rep, options, f.kind === 'gpu-dft')));
    return twin;
  }

  /** Pairs whose factors are all of one GPU kind, on the GPU; anything else (or a limit met on the way) on the float64 path. */
  private async compareUniform(
    a: GpuFactor[],
    b: GpuFactor[],
    options: AnalysisOptions,
    onPairs?: (count: number) => void,
    signal?: AbortSignal,
  ): Promise<PairNumbers[][]> {
    const all =
      <K extends GpuFactor['kind']>(kind: K) =>
      (f: GpuFactor): f is Extract<GpuFactor, { kind: K }> =>
        f.kind === kind;
    const whole = async (grid: Promise<PairNumbers[][]>) => {
      const done = await grid;
      onPairs?.(a.length * b.length);
      return done;
    };
    const ckaGrid = (job: GpuJob, debiased: boolean) => (a.every(all('gpu-cka')) && b.every(all('gpu-cka')) ? whole(compareCka(job, a, b, debiased)) : null);
    try {
      const onGpu = await this.job(options, signal, async (job): Promise<PairNumbers[][] | null> => {
        switch (options.metric) {
          case 'svcca':
          case 'cca':
            // Through the DFT (factors.ts makes DFT factors for these two metrics alone), or whole layers.
            if (a.every(all('gpu-dft')) && b.every(all('gpu-dft'))) return compareDft(job, a, b, onPairs);
            if (a.every(all('gpu-cca')) && b.every(all('gpu-cca'))) return whole(compareCca(job, a, b));
            return null;
          case 'pwcca': {
            const withExtras = (f: GpuFactor) => f.kind === 'gpu-cca' && f.pwcca !== undefined;
            return a.every(withExtras) && b.every(withExtras) ? whole(comparePwcca(job, a as GpuCcaFactor[], b as GpuCcaFactor[])) : null;
          }
          case 'cka':
            return ckaGrid(job, false);
          case 'cka-debiased':
            return ckaGrid(job, true);
          default:
            return unreachableMetric(options.metric);
        }
      });
      if (onGpu) return onGpu;
    } catch (error) {
      if (!(error instanceof GpuLimitError)) throw error;
      return this.compareOnCpu(a, b, options, error.message, onPairs, signal);
    }
    const reasons = [...a, ...b].flatMap((f) => (f.kind === 'cpu' ? [f.reason] : []));
    return this.compareOnCpu(a, b, options, reasons[0] ?? 'factors of different kinds', onPairs, signal);
  }

  /** The float64 path, pair by pair, for factors (or pairs) the GPU does not handle; `reason` travels with every pair. */
  private async compareOnCpu(
    a: GpuFactor[],
    b: GpuFactor[],
    options: AnalysisOptions,
    reason: string,
    onPairs?: (count: number) => void,
    signal?: AbortSignal,
  ): Promise<PairNumbers[][]> {
    const fa = a.map((f) => this.cpuFactor(f, options));
    const fb = b.map((f) => this.cpuFactor(f, options));
    const grid: PairNumbers[][] = [];
    for (const x of fa) {
      checkAborted(signal);
      grid.push(fb.map((y) => ({ ...compareFactors(x, y, options), fallback: reason })));
      onPairs?.(fb.length);
    }
    return grid;
  }
}

/**
 * How the engine gets a WebGPU backend from a `GPU` object (navigator.gpu in the browser worker,
 * the `webgpu` package in Node). `onLost` hears about an unexpected device loss (not a destroy).
 */
export function webgpuBackendFactory(getGpu: () => Promise<GPU | undefined | null>, onLost?: (message: string) => void): GpuBackendFactory {
  return async () => {
    const outcome = await acquireDevice(await getGpu());
    if (outcome.kind !== 'ok') return { error: outcome.message };
    const runtime = new GpuRuntime(outcome.device, (message) => {
      forgetGpuBackend(); // the next job asks for a fresh adapter
      onLost?.(message);
    });
    runtime.software = outcome.fallback;
    return { backend: new GpuBackend(runtime), fallback: outcome.fallback, adapter: outcome.adapterName };
  };
}
