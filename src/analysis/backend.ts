// The seam between the engine's orchestration (prepare, grids, progress, cancel) and the place the
// arithmetic happens. Two implementations share this contract: the float64 CPU backend below
// (src/math) and the WebGPU backend (src/gpu). A grid side is factored as a batch and a grid of
// pairs is compared as a batch, so that a GPU can do one product per checkpoint.
//
// Shapes: representations are n neurons × m datapoints (see src/math/reduce.ts).

import { checkAborted } from '../cancel';
import type { Representation } from '../math/reduce';
import { compareFactors, factorize, type Factor, type PairNumbers } from './metrics';
import { factorPermuted } from './baseline';
import { layerVarianceSpectrum } from './dimensionality';
import type { AnalysisOptions } from './types';

export interface ComputeBackend<F = unknown> {
  readonly kind: 'cpu' | 'webgpu';
  readonly precision: 'float64' | 'float32';
  /** Threads the float64 work runs on (the CPU pool, analysis/pool); 1 when absent. */
  readonly threads?: number;
  /**
   * Per-representation work for one side of a grid (centring, SVD, whitening, DFT). `signal` is
   * checked between representations (and between the GPU's steps): a cancel stops a checkpoint
   * mid-way, not after its last layer.
   */
  factorize(reps: Representation[], options: AnalysisOptions, dft: boolean, signal?: AbortSignal, plan?: FactorPlan): Promise<F[]>;
  /**
   * The variance spectrum λ_i = s_i²/(m−1) of the factor's centred n × m matrix where the factor
   * holds it in float64 (SVCCA factored on the CPU, whole layers; CKA where FactorPlan.factorSpectra
   * asked): bit for bit math/cca.ts svdStep's spectrum of that matrix, so k99 read off it is the k99
   * pass's (classes.ts). null otherwise (other metrics, the DFT, a GPU factor whose spectrum comes
   * from a float32 Gram). Optional: a backend without it leaves k99 to the pass.
   */
  float64Spectrum?(f: F): readonly number[] | null;
  /**
   * Every pair (a[i], b[j]) as PairNumbers, grid[i][j]. `onPairs(count)` reports pairs finished as
   * they finish; `signal` is checked between chunks of work.
   */
  compareGrid(a: F[], b: F[], options: AnalysisOptions, onPairs?: (count: number) => void, signal?: AbortSignal): Promise<PairNumbers[][]>;
  /**
   * The factors of the same representations with their datapoints permuted (new column j ← old
   * perm[j]): the chance level (analysis/baseline.ts). A re-indexing of what factorize made, never
   * a new SVD; release them like any factor.
   */
  permuteDatapoints(factors: F[], perm: Int32Array, options: AnalysisOptions): F[];
  /** Datapoints a factor was built over (what pairs are checked against). */
  datapointsOfFactor(f: F): number;
  /** Frees what a factor holds (GPU buffers); a no-op on the CPU. */
  release(factors: F[]): void;
  /**
   * The engine's job failed or was cancelled outside the backend's own calls (between checkpoints):
   * GPU work it recorded and did not submit is dropped once nothing it writes is held, instead of
   * running with the next job's first submission (GpuRuntime.discardPending). Absent on the CPU.
   */
  abandon?(): void;
}

/**
 * What the engine knows of the pairs a factor will take part in: a hint for work a backend may do
 * ahead (the CPU pool primes a DFT factor's per-frequency factors in the worker that computed its
 * spectrum, math/dft.ts primeSideFactors), never a change of any number.
 */
export interface FactorPlan {
  /**
   * Per representation (in the order given), the heights and widths of the layers its DFT factor
   * will be compared with (a dense layer: 1 × 1).
   */
  dftPartners?: readonly (readonly { height: number; width: number }[])[];
  /**
   * The caller does other work while this call runs (engine.ts loadSide reads the next batch): the
   * CPU pool then hands even a single representation to a worker, freeing the calling thread.
   */
  alongside?: boolean;
  /**
   * k99 as the job reads (engine.ts computeDynamics with `k99: true`): per representation, the
   * reduction the k99 pass reads it under, or undefined where the factor holds that spectrum itself.
   * Each such layer's variance spectrum (dimensionality.ts layerVarianceSpectrum, bit for bit the
   * pass's) is computed where its factor is, from the same copy of the array, and handed to
   * onVarianceSpectrum with the representation's index. A backend that does not (the GPU) leaves
   * those cells to the pass.
   */
  varianceSpectra?: readonly ('flatten' | 'meanpool' | undefined)[];
  onVarianceSpectrum?: (index: number, spectrum: number[]) => void;
  /**
   * k99 as the job reads, for CKA: each float64 CKA factor keeps the eigenvalues of the Gram it
   * forms anyway (metrics.ts factorize's `withSpectrum`), which float64Spectrum then returns, so
   * no second Gram is formed for varianceSpectra.
   */
  factorSpectra?: boolean;
}

/** Runs plan.varianceSpectra's request for the representation at `index` in this thread (see FactorPlan). */
function varianceSpectrumFor(plan: FactorPlan | undefined, index: number, rep: Representation): void {
  const reduction = plan?.varianceSpectra?.[index];
  if (reduction) plan.onVarianceSpectrum?.(index, layerVarianceSpectrum(rep, reduction));
}

export { checkAborted };

/** The spectrum of a float64 SVCCA factor of a whole layer, or of a CKA factor that kept one (see ComputeBackend.float64Spectrum), else null. */
export function float64SpectrumOf(f: Factor): readonly number[] | null {
  if (f.kind === 'svcca') return f.factor.spectrum;
  return f.kind === 'cka' ? (f.factor.spectrum ?? null) : null;
}

/** Lets the event loop breathe between chunks (progress messages, cancel requests). */
export const yieldNow = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The float64 implementation of src/math: the oracle, the fallback and the path for small inputs. */
export const cpuBackend: ComputeBackend<Factor> = {
  kind: 'cpu',
  precision: 'float64',
  async factorize(reps, options, dft, signal, plan) {
    const factorOf = (rep: Representation, k: number) => {
      const factor = factorize(rep, options, dft, plan?.factorSpectra);
      varianceSpectrumFor(plan, k, rep);
      return factor;
    };
    if (!signal) return reps.map(factorOf);
    const factors: Factor[] = [];
    for (const rep of reps) {
      checkAborted(signal);
      factors.push(factorOf(rep, factors.length));
      // Lets a cancel request (a message to the worker) reach the signal before the next layer.
      if (factors.length < reps.length) await yieldNow();
    }
    return factors;
  },
  float64Spectrum: (f) => float64SpectrumOf(f),
  async compareGrid(a, b, options, onPairs, signal) {
    const grid: PairNumbers[][] = [];
    for (const fa of a) {
      checkAborted(signal);
      grid.push(b.map((fb) => compareFactors(fa, fb, options)));
      onPairs?.(b.length);
      await yieldNow();
    }
    return grid;
  },
  permuteDatapoints: (factors, perm) => factors.map((f) => factorPermuted(f, perm)),
  datapointsOfFactor: (f) => f.datapoints,
  release() {},
};

export interface BackendChoice {
  backend: ComputeBackend;
  /** One sentence for the user: which backend runs and why. */
  reason: string;
}

/** How a WebGPU backend is obtained in this environment (the browser worker or Node registers one). */
export type GpuBackendFactory = () => Promise<{ backend: ComputeBackend; fallback: boolean; adapter: string } | { error: string }>;

let gpuFactory: GpuBackendFactory | null = null;
let cpuChoice: ComputeBackend = cpuBackend;

/**
 * Registers the float64 backend jobs get when they run on the CPU: the CPU pool (analysis/pool) where
 * the job's thread may start workers; null restores the in-process cpuBackend.
 */
export function registerCpuBackend(backend: ComputeBackend | null): void {
  cpuChoice = backend ?? cpuBackend;
}

/** The registered float64 backend (the CPU pool where one is registered): the GPU backend runs its float64 host step on its threads. */
export function registeredCpuBackend(): ComputeBackend {
  return cpuChoice;
}
let gpuPromise: ReturnType<GpuBackendFactory> | null = null;

/** Registers how to create the WebGPU backend (called once at start-up where WebGPU may exist). */
export function registerGpuBackend(factory: GpuBackendFactory | null): void {
  gpuFactory = factory;
  gpuPromise = null;
}

/** Forgets a WebGPU backend whose device was lost, so that the next job asks for a fresh adapter. */
export function forgetGpuBackend(): void {
  gpuPromise = null;
}

/**
 * Picks the backend for a job. 'auto' prefers WebGPU on a hardware adapter and the float64 CPU
 * path when the adapter is a software fallback (SwiftShader runs ~5× slower than plain JS) or
 * WebGPU is missing. 'webgpu' insists (and throws a message the user can act on if it cannot);
 * 'cpu' is always available.
 */
export async function resolveBackend(choice: 'auto' | 'cpu' | 'webgpu'): Promise<BackendChoice> {
  if (choice === 'cpu') return { backend: cpuChoice, reason: 'CPU (float64), as chosen' };
  if (!gpuFactory) {
    if (choice === 'webgpu') throw new Error('WebGPU is not available in this environment');
    return { backend: cpuChoice, reason: 'CPU (float64): WebGPU is not available here' };
  }
  gpuPromise ??= gpuFactory();
  const gpu = await gpuPromise;
  if ('error' in gpu) {
    gpuPromise = null;
    if (choice === 'webgpu') throw new Error(gpu.error);
    return { backend: cpuChoice, reason: `CPU (float64): ${gpu.error}` };
  }
  if (choice === 'webgpu') return { backend: gpu.backend, reason: `WebGPU (float32) on ${gpu.adapter}, as chosen` };
  if (gpu.fallback) {
    return {
      backend: cpuChoice,
      reason: `CPU (float64): the WebGPU adapter (${gpu.adapter}) is a software fallback, slower than the CPU path; choose GPU to use it anyway`,
    };
  }
  return { backend: gpu.backend, reason: `WebGPU (float32) on ${gpu.adapter}` };
}
