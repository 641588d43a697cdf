// The float64 CPU path on several threads: a ComputeBackend that hands the independent work of a
// job to a pool of workers, each running the same float64 code as the in-process path
// (analysis/metrics.ts through pool/work.ts) with its own WebAssembly kernels. What runs in parallel:
// the factorisations of a batch of representations (the layers of a checkpoint: one task each) and
// the pairs of a grid (tiles of rows or columns, one task each); and, for the WebGPU backend, the
// float64 host step of a batch of Gram matrices (pool/gramHost.ts, runTasks). Every factor, pair
// and Gram is computed by one thread exactly as the one-thread path computes it, so the numbers
// are bit-identical; only the order in which they finish changes.
//
// Memory: factors come back in SharedArrayBuffers where the pool is `shared` (Node; a cross-origin
// isolated page), so a tile reads them without a copy; otherwise their buffers are transferred back
// and a tile's factors are copied to its worker. A representation is copied to its worker (its data
// may be a view of an array the bundle keeps); a dense layer as its stored array (float32 where the
// file is), in a SharedArrayBuffer where the pool is `shared` (protocol.ts representationMessage),
// never as the float64 matrix. Batches stay as the engine makes them (bounded).
//
// Cancel: an aborted signal rejects the call at once and terminates the workers running its tasks
// (the pool starts fresh ones on the next call). Workers start lazily, on the first task.
//
// Shapes: representations are n neurons × m datapoints; grid[i][j] compares a[i] with b[j].

import { cancelledError, checkAborted } from '../../cancel';
import { InputError } from '../../io/types';
import type { Representation } from '../../math/reduce';
import { rememberSideFactors } from '../../math/dft';
import { cpuBackend, float64SpectrumOf, type ComputeBackend, type FactorPlan } from '../backend';
import type { Factor, PairNumbers } from '../metrics';
import type { AnalysisOptions } from '../types';
import { representationMessage, type PoolError, type PoolRequest, type PoolResponse } from './protocol';
import { MAX_THREADS } from '../threads';

/** What the pool needs of one worker (a Web Worker or a Node worker thread). */
export interface PoolPort {
  post(request: PoolRequest): void;
  listen(onMessage: (response: PoolResponse) => void, onError: (message: string) => void): void;
  terminate(): void;
  /** Node: a worker keeps the process alive only while it has a task. */
  setBusy?(busy: boolean): void;
}

export interface PoolConfig {
  /** Starts worker number `index` (0-based). */
  spawn: (index: number) => PoolPort;
  threads: number;
  /** Factors come back in SharedArrayBuffers (needs SharedArrayBuffer: Node, or a cross-origin isolated page). */
  shared: boolean;
}

/**
 * A worker idle this long stops: its WebAssembly memory (grown to the largest product it computed)
 * is freed, and the next parallel work starts a fresh one (a few tens of milliseconds).
 */
const IDLE_MS = 20_000;

/**
 * Shared buffers that carried stored arrays to the workers are kept for the next factorize up to
 * this many bytes in all: a fresh one costs page faults on first touch (~60 ms for a 20 MB float32
 * layer on the development VM), refilling a kept one ~1 ms.
 */
const MAX_STAGING_BYTES = 256 * 1024 * 1024;

// The limit lives in analysis/threads.ts (pure: the app's settings read it on the main thread).
export { MAX_THREADS };

/** A thread count from a flag, a setting or the hardware: a whole number from 1 to MAX_THREADS. */
export function clampThreads(threads: number): number {
  return Number.isFinite(threads) ? Math.max(1, Math.min(MAX_THREADS, Math.floor(threads))) : 1;
}

/** A request without its id. */
export type PoolTask = DistributiveOmit<PoolRequest, 'id'>;
type Task = { request: PoolTask; call: object; id?: number; receive: (response: PoolResponse) => void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Slot {
  port: PoolPort;
  task: Task | null;
  /** Whether it has answered once (a worker that fails before that could not start). */
  started: boolean;
  idle?: ReturnType<typeof setTimeout>;
}

/** A worker that could not start (a blocked script, a missing file): the pool runs in-process instead. */
class PoolStartError extends Error {}

function rebuildError(error: PoolError): Error {
  if (error.name === 'InputError' && error.source !== undefined && error.detail !== undefined) return new InputError(error.source, error.detail);
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  return rebuilt;
}

interface Tile {
  rows: [number, number];
  cols: [number, number];
}

/**
 * A rows × cols grid cut into at most `parts` tiles along its longer side (each tile gets the other
 * side whole: fewer copies than cutting the shorter one).
 */
function tilesOf(rows: number, cols: number, parts: number): Tile[] {
  const alongRows = rows >= cols;
  const length = alongRows ? rows : cols;
  const count = Math.max(1, Math.min(parts, length));
  return Array.from({ length: count }, (_, k) => {
    const span: [number, number] = [Math.floor((k * length) / count), Math.floor(((k + 1) * length) / count)];
    return alongRows ? { rows: span, cols: [0, cols] } : { rows: [0, rows], cols: span };
  });
}

export class CpuPool implements ComputeBackend<Factor> {
  readonly kind = 'cpu';
  readonly precision = 'float64';
  private wanted: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  /** Why workers cannot start here (then every call runs in-process). */
  private broken: string | null = null;
  /** Shared buffers kept between factorize calls (MAX_STAGING_BYTES), free while none runs; dropped with the last worker. */
  private staging: SharedArrayBuffer[] = [];
  private stagingInUse = false;

  constructor(private readonly config: PoolConfig) {
    this.wanted = clampThreads(config.threads);
  }

  /** Threads the float64 work runs on (1: in-process, the one-thread path itself). */
  get threads(): number {
    return this.broken ? 1 : this.wanted;
  }

  /** Whether tasks and answers may use SharedArrayBuffers (Node; a cross-origin isolated page). */
  get sharedMemory(): boolean {
    return this.config.shared;
  }

  /** Why worker threads could not start here (every call then ran in-process), or null. */
  get startFailure(): string | null {
    return this.broken;
  }

  setThreads(threads: number): void {
    this.wanted = clampThreads(threads);
    this.trim();
  }

  /** Workers alive now (started lazily; none after close or a cancelled call that held them all). */
  get workers(): number {
    return this.slots.length;
  }

  /** Stops every worker; queued tasks fail. The pool starts new workers if used again. */
  close(): void {
    for (const slot of this.slots.splice(0)) slot.port.terminate();
    this.staging = [];
    for (const task of this.queue.splice(0)) task.receive({ id: -1, type: 'error', error: { name: 'Error', message: 'the CPU thread pool was closed' } });
  }

  async factorize(reps: Representation[], options: AnalysisOptions, dft: boolean, signal?: AbortSignal, plan?: FactorPlan): Promise<Factor[]> {
    // One representation runs here (nothing to split), unless the caller has other work meanwhile.
    if (this.threads <= 1 || reps.length === 0 || (reps.length === 1 && !plan?.alongside)) return cpuBackend.factorize(reps, options, dft, signal, plan);
    checkAborted(signal);
    // Kept shared buffers carry this call's stored arrays unless another call holds them.
    const stage = this.config.shared && !this.stagingInUse ? this.stager() : undefined;
    if (stage) this.stagingInUse = true;
    try {
      const messages = reps.map((rep) => representationMessage(rep, this.config.shared, stage));
      const factorTasks: PoolTask[] = messages.map((rep, r) => ({
        type: 'factorize',
        rep,
        options,
        dft,
        shared: this.config.shared,
        ...(dft && plan?.dftPartners?.[r] ? { dftPartners: plan.dftPartners[r].map(({ height, width }) => ({ height, width })) } : {}),
        ...(plan?.factorSpectra ? { spectrum: true } : {}),
      }));
      // k99 as read (FactorPlan.varianceSpectra): a task of its own on the same message (in shared
      // memory the same stored array), so that another worker takes it while this one factors.
      const spectrumOf: { r: number; task: PoolTask }[] = [];
      messages.forEach((rep, r) => {
        const reduction = plan?.varianceSpectra?.[r];
        if (reduction) spectrumOf.push({ r, task: { type: 'variance-spectrum', rep, reduction } });
      });
      const answers = await this.run([...factorTasks, ...spectrumOf.map((s) => s.task)], signal, undefined);
      spectrumOf.forEach(({ r }, s) =>
        plan?.onVarianceSpectrum?.(r, (answers[reps.length + s] as Extract<PoolResponse, { type: 'variance-spectrum' }>).spectrum),
      );
      return answers.slice(0, reps.length).map((answer) => {
        const { factor, primed } = answer as Extract<PoolResponse, { type: 'factor' }>;
        // The worker's per-frequency factors, kept with this thread's copy of the spectrum for compareGrid.
        if (factor.kind === 'dft' && primed) rememberSideFactors(factor.spectrum, primed);
        return factor;
      });
    } catch (error) {
      if (error instanceof PoolStartError) return cpuBackend.factorize(reps, options, dft, signal, plan);
      throw error;
    } finally {
      if (stage) this.stagingInUse = false;
    }
  }

  /** Hands out the kept shared buffers in turn (grown where too small) for one factorize call. */
  private stager(): (bytes: number) => SharedArrayBuffer {
    let next = 0;
    return (bytes) => {
      const k = next++;
      if (k < this.staging.length && this.staging[k].byteLength >= bytes) return this.staging[k];
      const buffer = new SharedArrayBuffer(bytes);
      const others = this.staging.reduce((sum, b, i) => sum + (i === k ? 0 : b.byteLength), 0);
      if (k <= this.staging.length && others + bytes <= MAX_STAGING_BYTES) this.staging[k] = buffer;
      return buffer;
    };
  }

  async compareGrid(a: Factor[], b: Factor[], options: AnalysisOptions, onPairs?: (count: number) => void, signal?: AbortSignal): Promise<PairNumbers[][]> {
    // DFT pairs stay in-process: dftSimilarity memoises each spectrum's per-frequency factors on the
    // spectrum object, which a copy in a worker would rebuild for every tile. The workers that
    // computed the spectra computed those factors too, where the engine named the partners (factorize).
    if (this.threads <= 1 || a.length * b.length < 2 || a[0]?.kind === 'dft') return cpuBackend.compareGrid(a, b, options, onPairs, signal);
    checkAborted(signal);
    const tiles = tilesOf(a.length, b.length, this.threads * (this.config.shared ? 2 : 1));
    let answers: PoolResponse[];
    try {
      answers = await this.run(
        tiles.map((t) => ({ type: 'compare', a: a.slice(...t.rows), b: b.slice(...t.cols), options })),
        signal,
        onPairs,
      );
    } catch (error) {
      if (error instanceof PoolStartError) return cpuBackend.compareGrid(a, b, options, onPairs, signal);
      throw error;
    }
    const grid: PairNumbers[][] = a.map(() => new Array<PairNumbers>(b.length));
    tiles.forEach((tile, k) => {
      const part = (answers[k] as Extract<PoolResponse, { type: 'pairs' }>).grid;
      part.forEach((row, r) => row.forEach((numbers, c) => (grid[tile.rows[0] + r][tile.cols[0] + c] = numbers)));
    });
    return grid;
  }

  /**
   * Runs tasks (pool/gramHost.ts: the GPU path's float64 host step) on the workers; the answers in
   * task order. Requests are copied to the workers, never transferred: when workers cannot start
   * here the answer is null and the caller runs the same functions in-process on the same arrays.
   * Rejects on a worker's error or on abort.
   */
  async runTasks(requests: PoolTask[], signal?: AbortSignal): Promise<PoolResponse[] | null> {
    try {
      return await this.run(requests, signal, undefined);
    } catch (error) {
      if (error instanceof PoolStartError) return null;
      throw error;
    }
  }

  permuteDatapoints(factors: Factor[], perm: Int32Array, options: AnalysisOptions): Factor[] {
    return cpuBackend.permuteDatapoints(factors, perm, options);
  }

  datapointsOfFactor(f: Factor): number {
    return f.datapoints;
  }

  float64Spectrum(f: Factor): readonly number[] | null {
    return float64SpectrumOf(f);
  }

  release(): void {}

  /** Runs the tasks on the workers; the answers in task order. Rejects on the first error or on abort. */
  private run(requests: PoolTask[], signal: AbortSignal | undefined, onPairs: ((count: number) => void) | undefined): Promise<PoolResponse[]> {
    return new Promise((resolve, reject) => {
      const call = {};
      const answers: PoolResponse[] = new Array(requests.length);
      let left = requests.length;
      let settled = false;
      const finish = (error: Error | null) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (error) {
          this.drop(call);
          reject(error);
        } else {
          resolve(answers);
        }
      };
      const onAbort = () => finish(cancelledError());
      signal?.addEventListener('abort', onAbort, { once: true });
      const tasks = requests.map((request, k): Task => ({
        request,
        call,
        receive: (response) => {
          if (settled) return;
          if (response.type === 'progress') onPairs?.(response.pairs);
          else if (response.type === 'error')
            finish(response.error.name === 'PoolStartError' ? new PoolStartError(response.error.message) : rebuildError(response.error));
          else {
            answers[k] = response;
            if (--left === 0) finish(null);
          }
        },
      }));
      this.queue.push(...tasks);
      this.pump();
    });
  }

  /** A failed or cancelled call: its queued tasks go, the workers running its tasks are stopped. */
  private drop(call: object): void {
    for (let k = this.queue.length - 1; k >= 0; k--) if (this.queue[k].call === call) this.queue.splice(k, 1);
    for (const slot of [...this.slots]) if (slot.task?.call === call) this.remove(slot);
    this.pump();
  }

  private remove(slot: Slot): void {
    clearTimeout(slot.idle);
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    slot.port.terminate();
    if (this.slots.length === 0) this.staging = [];
  }

  /** Stops idle workers beyond the wanted count. */
  private trim(): void {
    for (const slot of [...this.slots]) if (this.slots.length > this.wanted && !slot.task) this.remove(slot);
  }

  /** Hands queued tasks to idle workers, starting workers up to the wanted count. */
  private pump(): void {
    this.trim();
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.task);
      if (!slot && this.slots.length < this.wanted) {
        let port: PoolPort;
        try {
          port = this.config.spawn(this.slots.length);
        } catch (error) {
          // Could not even be created (Node: no bundled poolWorker.mjs and no tsx to run the
          // sources): like a worker that fails before answering, the calls fall back in-process.
          this.broken = error instanceof Error ? error.message : String(error);
          const message = `a CPU worker thread could not start: ${this.broken}`;
          for (const task of this.queue.splice(0)) task.receive({ id: -1, type: 'error', error: { name: 'PoolStartError', message } });
          return;
        }
        slot = this.spawn(port);
      }
      if (!slot) return;
      const task = this.queue.shift()!;
      task.id = this.nextId++;
      clearTimeout(slot.idle);
      slot.task = task;
      slot.port.setBusy?.(true);
      slot.port.post({ ...task.request, id: task.id });
    }
  }

  private spawn(port: PoolPort): Slot {
    const slot: Slot = { port, task: null, started: false };
    this.slots.push(slot);
    slot.port.listen(
      (response) => {
        slot.started = true;
        const task = slot.task;
        if (!task || task.id !== response.id) return;
        if (response.type !== 'progress') {
          slot.task = null;
          slot.port.setBusy?.(false);
          slot.idle = setTimeout(() => !slot.task && this.remove(slot), IDLE_MS);
          // Node: an idle worker's timer must not keep the process alive either.
          (slot.idle as { unref?: () => void }).unref?.();
        }
        task.receive(response);
        this.pump();
      },
      (message) => {
        const task = slot.task;
        slot.task = null;
        this.remove(slot);
        if (!slot.started) this.broken = message;
        const name = slot.started ? 'Error' : 'PoolStartError';
        task?.receive({ id: task.id!, type: 'error', error: { name, message: `a CPU worker thread failed: ${message}` } });
        this.pump();
      },
    );
    return slot;
  }
}
