// The GPU path's float64 host step (src/analysis/gpu/whitening.ts step 3) for a batch of Gram
// matrices (every layer of a checkpoint, every frequency block of a DFT layer), on the CPU pool's
// threads where the job has more than one, in-process otherwise. Either way every matrix goes
// through the same functions of src/math/gramFactor.ts, so the drafts are bit-identical whatever the
// thread count; only which thread computes which matrix changes.
//
// Two phases, both parallel, both stateless on the workers:
//   1. 'gram-values': CCA's whole step (draftCca: pruning, the full eigendecomposition of the
//      equilibrated block, whose every vector the whitening uses), or SVCCA's first half (svdSpectrum:
//      the Householder reduction and every eigenvalue, no vectors);
//   2. SVCCA only, once the job thread has chosen every k, 'gram-vectors': the k kept eigenvectors
//      of each matrix (draftSvd: inverse iteration and the back-transformation, or the full solver
//      where k > n/3).
// The job thread chooses k between the two because the DFT's global 99% rule sees the spectra of all
// blocks before any block's k is known. The reduction (n² float64 per matrix) travels back to the job
// thread and out again rather than staying in the worker that made it: no task then has to find the
// one worker holding its state (the pool hands a task to whichever worker is idle), and the same two
// phases run in-process, so there is one code path. Where the pool has shared memory (Node, a
// cross-origin isolated page) the Grams go out and the reductions come back in SharedArrayBuffers,
// so neither direction copies them again; otherwise requests are copied (never transferred: a worker
// that could not start leaves the arrays intact for the in-process fallback) and answers transferred.
//
// Matrices are grouped into contiguous tasks of about equal cost (∝ size³), a few per thread, so
// that many small frequency blocks do not cost a message each.
//
// Shapes: Gram b is sizes[b] × sizes[b], row-major, float64.

import type { CcaDraft, SvdDraft, SvdSpectrum } from '../../math/gramFactor';
import { draftCca, draftSvd, svdSpectrum } from '../../math/gramFactor';
import type { CpuPool, PoolTask } from './pool';
import type { PoolResponse } from './protocol';

/**
 * Below this much work (Σ size³) the batch runs in-process: a message round trip and, the first
 * time, starting a worker cost more than the eigendecompositions (one 128 × 128 takes ~5 ms).
 */
export const POOL_MIN_WORK = 2 * 128 ** 3;

/** Tasks per thread: enough to even out unequal sizes, few enough that messages cost nothing. */
const TASKS_PER_THREAD = 2;

/** What runs the host step: the registered CPU pool (its threads), or null for in-process. */
export type HostPool = Pick<CpuPool, 'threads' | 'runTasks' | 'sharedMemory'>;

/** The GPU path's host step, first half: CCA's drafts, or SVCCA's spectra (every eigenvalue). `grams` are not modified. */
export async function gramValues(
  pool: HostPool | null,
  step: 'cca' | 'svd',
  grams: Float64Array[],
  sizes: number[],
  m: number,
  epsilon: number,
  signal?: AbortSignal,
): Promise<(CcaDraft | SvdSpectrum)[]> {
  const local = () => grams.map((g, b) => (step === 'cca' ? draftCca(g, sizes[b], m, epsilon) : svdSpectrum(g, sizes[b], m)));
  const groups = poolGroups(pool, sizes);
  if (!pool || !groups) return local();
  const shared = pool.sharedMemory;
  const out = shared ? grams.map(sharedArray) : grams;
  const answers = await pool.runTasks(
    groups.map(([from, to]) => ({ type: 'gram-values', step, grams: out.slice(from, to), sizes: sizes.slice(from, to), m, epsilon, shared })),
    signal,
  );
  if (!answers) return local();
  return answers.flatMap((answer) => (answer as Extract<PoolResponse, { type: 'gram-values' }>).drafts);
}

/** SVCCA's second half: the ks[b] kept eigenvectors of each spectrum. Consumes `spectra`. */
export async function gramVectors(pool: HostPool | null, spectra: SvdSpectrum[], ks: number[], signal?: AbortSignal): Promise<SvdDraft[]> {
  const local = () => spectra.map((s, b) => draftSvd(s, ks[b]));
  const groups = poolGroups(
    pool,
    spectra.map((s) => s.size),
  );
  if (!pool || !groups) return local();
  const answers = await pool.runTasks(
    groups.map(([from, to]): PoolTask => ({ type: 'gram-vectors', spectra: spectra.slice(from, to), ks: ks.slice(from, to) })),
    signal,
  );
  if (!answers) return local();
  return answers.flatMap((answer) => (answer as Extract<PoolResponse, { type: 'gram-vectors' }>).drafts);
}

/**
 * The batch cut into contiguous [from, to) groups of about equal Σ size³, TASKS_PER_THREAD per
 * thread at most; null when the pool has one thread or the batch is too small to gain from it.
 */
export function poolGroups(pool: HostPool | null, sizes: number[]): [number, number][] | null {
  if (!pool || pool.threads <= 1 || sizes.length < 2) return null;
  const costs = sizes.map((n) => n ** 3);
  const total = costs.reduce((s, c) => s + c, 0);
  if (total < POOL_MIN_WORK) return null;
  const parts = Math.min(sizes.length, pool.threads * TASKS_PER_THREAD);
  const groups: [number, number][] = [];
  let from = 0;
  let done = 0;
  for (let b = 0; b < sizes.length; b++) {
    done += costs[b];
    // Close a group once the work so far reaches its share of the next boundary.
    if (done >= (total * (groups.length + 1)) / parts || b === sizes.length - 1) {
      groups.push([from, b + 1]);
      from = b + 1;
    }
  }
  return groups;
}

/** A copy of `a` in a SharedArrayBuffer (a worker reads it without a copy of its own). */
function sharedArray(a: Float64Array): Float64Array {
  const copy = new Float64Array(new SharedArrayBuffer(a.byteLength));
  copy.set(a);
  return copy;
}
