// The schedule of a learning-dynamics job's checkpoints (engine.ts computeDynamics): each checkpoint
// is loaded and factored (`load`: on the GPU backend, Grams → readback → float64 host step →
// whitening and refinement), then its grid of pairs against the reference is computed (`visit`).
//
// With `ahead` = 1 (the GPU backend's default) checkpoint t + 1 is loaded while checkpoint t's pairs
// run: its Grams are recorded and submitted beside t's pair products, and its float64 host step
// (eigen top-k, on the CPU pool's threads where the job has them) runs while the GPU does t's cross
// product and Jacobi rounds, so neither waits for the other as in the plain order (ahead = 0). Only
// the schedule changes: every checkpoint is factored by the same kernels from the same inputs and
// visited in order, so the numbers are bit for bit those of the plain order. Both flows record into
// the runtime's one command encoder in the order their calls run; a readback of either submits what
// both recorded (src/gpu/runtime.ts), which the order of work on the GPU allows.
//
// Memory, bounded to one checkpoint ahead: while t's pairs run, checkpoint t + 1's factors (GPU:
// each layer's whitened Z, kept × datapoints f32, or a DFT layer's spectrum and blocks, or CKA's
// centred rows) and its factoring's transients (the uploaded centred rows, Σ neurons × datapoints
// f32, its Gram and refinement matrices, Z₀ beside Z) are held on the GPU too, and on the host its
// arrays as loaded, their float64 preparation (at most FACTOR_BATCH_BYTES per factoring batch,
// engine.ts) and the float64 Gram copies of its host step: at most one more checkpoint's worth of
// each, never two.
//
// Cancel and failure: a checkpoint loaded ahead is always awaited before this function returns or
// throws, and released if the job does not visit it, so a cancelled or failed job leaves no buffer
// behind (the GPU backend's factoring takes no signal: a cancel lands after that factoring ends, at
// most one checkpoint's factoring later than in the plain order). A failure loading t + 1 surfaces
// after t is visited, where the plain order would meet it. A bad array (bad input: unreadable,
// non-finite) is no failure here: the engine's load records it and leaves its cells missing
// (engine.ts loadSide), so only errors that are not bad input (a bug, a lost device) stop the job.
// A job that stops early gives up the GPU work both flows recorded and did not submit (`abandon`,
// called after the checkpoint loaded ahead is awaited and released): it is dropped, not run with the
// next job's first submission (a failed GPU job of either flow gives up its own the same way,
// src/analysis/gpu/index.ts, dropped once nothing it writes is held).

import { checkAborted } from './backend';

/** How the job ended loading one checkpoint: never a rejected promise left unawaited. */
type Loaded<S> = { ok: true; side: S } | { ok: false; error: unknown };

function settled<S>(loading: Promise<S>): Promise<Loaded<S>> {
  return loading.then(
    (side): Loaded<S> => ({ ok: true, side }),
    (error: unknown): Loaded<S> => ({ ok: false, error }),
  );
}

export interface CheckpointSchedule<S> {
  /** Checkpoints to visit, in order. */
  steps: readonly number[];
  /** Checkpoints loaded ahead of the one being visited: 0 (one after another) or 1 (overlapped). */
  ahead: 0 | 1;
  /** Loads and factors one checkpoint's side. */
  load: (step: number) => Promise<S>;
  /** Computes one checkpoint's pairs (in order of `steps`). */
  visit: (step: number, side: S) => Promise<void>;
  /** Releases a side `load` returned (after its visit, or unvisited when the job stops early). */
  release: (side: S) => void;
  /** The job stopped early (cancel, failure) and both flows have stopped: drops the work they
   *  recorded and did not submit (ComputeBackend.abandon). */
  abandon?: () => void;
  signal?: AbortSignal;
}

/** Loads and visits every checkpoint of `schedule.steps` in order, loading up to `ahead` checkpoints ahead. */
export async function runCheckpoints<S>(schedule: CheckpointSchedule<S>): Promise<void> {
  const { steps, ahead, load, visit, release, abandon, signal } = schedule;
  let next: Promise<Loaded<S>> | null = null;
  let stopped = true;
  try {
    for (const [t, step] of steps.entries()) {
      checkAborted(signal);
      const loaded: Loaded<S> = next ? await next : { ok: true, side: await load(step) };
      next = null;
      if (!loaded.ok) throw loaded.error;
      try {
        if (ahead > 0 && t + 1 < steps.length) next = settled(load(steps[t + 1]));
        await visit(step, loaded.side);
      } finally {
        release(loaded.side);
      }
    }
    stopped = false;
  } finally {
    // Stopped early (cancel, a failed visit): the checkpoint loaded ahead is this job's to release.
    if (next) {
      const loaded: Loaded<S> = await next;
      if (loaded.ok) release(loaded.side);
    }
    // Only now, with neither flow recording, is what they left unsubmitted nobody's.
    if (stopped) abandon?.();
  }
}
