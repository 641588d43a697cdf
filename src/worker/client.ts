// Main-thread client of the analysis worker: one promise per request id.
//
// Errors come back as data (protocol.SerializedError) and are rebuilt here: bad inputs as
// io's InputError (message "FILE[:MEMBER]: what is wrong"), replaced compares as SupersededError.

import type { Progress } from '../analysis/types';
import { InputError } from '../io/types';
import { cancelledError } from '../cancel';
import type {
  AnalysisClient,
  CompareRequest,
  CrossJobRequest,
  DynamicsJobRequest,
  DynamicsK99Request,
  GridPartial,
  InputFileRef,
  JobCallbacks,
  LoadControl,
  Method,
  Methods,
  PairJobRequest,
  ClassesJobRequest,
  SweepKJobRequest,
  Request,
  Response,
  SerializedError,
} from './protocol';
import { SupersededError } from './protocol';

/** The part of a Worker the client needs (a fake port in tests). */
export type WorkerPort = Pick<Worker, 'postMessage' | 'addEventListener' | 'terminate'>;

interface Pending {
  resolve: (value: never) => void;
  reject: (error: Error) => void;
  onProgress?: (p: Progress) => void;
  onPartial?: (p: GridPartial) => void;
}

export function deserializeError(error: SerializedError): Error {
  switch (error.kind) {
    case 'input':
      return new InputError(error.source, error.detail);
    case 'superseded':
      return new SupersededError();
    case 'aborted':
      return cancelledError();
    case 'internal':
      return new Error(`unexpected error in the analysis worker: ${error.message}`);
  }
}

export class WorkerClient implements AnalysisClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private broken: Error | null = null;

  constructor(private readonly port: WorkerPort) {
    port.addEventListener('message', (event) => this.onMessage((event as MessageEvent<Response>).data));
    port.addEventListener('error', (event) => {
      const message = event.message || 'it could not start';
      this.fail(new Error(`the analysis worker failed: ${message}`));
    });
    port.addEventListener('messageerror', () => this.fail(new Error('the analysis worker sent an unreadable message')));
  }

  addFiles(files: File[], onProgress?: (p: Progress) => void) {
    return this.call('addFiles', { files }, { onProgress });
  }

  removeArrays(ids: string[]) {
    return this.call('removeArrays', { ids });
  }

  compare(request: CompareRequest, onProgress?: (p: Progress) => void) {
    return this.call('compare', request, { onProgress });
  }

  addInput(files: InputFileRef[], name: string, load: LoadControl = {}) {
    const { generation, origin, onProgress, signal } = load;
    return this.call('addInput', { files, name, generation, origin }, { onProgress, signal });
  }

  removeBundle(id: string) {
    return this.call('removeBundle', { id });
  }

  dynamics(request: DynamicsJobRequest, control: JobCallbacks = {}) {
    return this.call('dynamics', request, control);
  }

  dynamicsK99(request: DynamicsK99Request, control: JobCallbacks = {}) {
    return this.call('dynamicsK99', request, control);
  }

  cross(request: CrossJobRequest, control: JobCallbacks = {}) {
    return this.call('cross', request, control);
  }

  pair(request: PairJobRequest, control: JobCallbacks = {}) {
    return this.call('pair', request, control);
  }

  classes(request: ClassesJobRequest, control: JobCallbacks = {}) {
    return this.call('classes', request, control);
  }

  sweepK(request: SweepKJobRequest, control: JobCallbacks = {}) {
    return this.call('sweepK', request, control);
  }

  /** Threads of the float64 CPU path for the jobs that follow ('auto': one per core but one); resolves to the count in effect. */
  setThreads(threads: number | 'auto') {
    return this.call('setThreads', { threads });
  }

  /** Stops the worker; pending requests reject. */
  dispose(): void {
    this.port.terminate();
    this.fail(new Error('the analysis worker was stopped'));
  }

  private call<K extends Method>(method: K, params: Methods[K]['params'], control: JobCallbacks = {}): Promise<Methods[K]['result']> {
    if (this.broken) return Promise.reject(this.broken);
    const { onProgress, onPartial, signal } = control;
    if (signal?.aborted) return Promise.reject(cancelledError());
    const id = this.nextId++;
    return new Promise<Methods[K]['result']>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve, reject, onProgress, onPartial });
      this.port.postMessage({ id, method, params });
      // The worker answers a cancelled job with an 'aborted' error once it has stopped.
      signal?.addEventListener('abort', () => void this.call('cancel', { target: id }).catch(() => {}), { once: true });
    });
  }

  private onMessage(response: Response): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    if (response.type === 'progress') {
      pending.onProgress?.(response.progress);
      return;
    }
    if (response.type === 'partial') {
      pending.onPartial?.(response.partial);
      return;
    }
    this.pending.delete(response.id);
    if (response.type === 'error') pending.reject(deserializeError(response.error));
    else pending.resolve(response.result as never);
  }

  private fail(error: Error): void {
    this.broken = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

/**
 * `?threads=N` in the page's address: threads of the CPU path (1: no worker threads; default: one
 * per core but one). null when absent or not a whole number ≥ 1.
 */
export function threadsFromSearch(search: string): number | null {
  const value = new URLSearchParams(search).get('threads');
  return value !== null && /^[1-9][0-9]*$/.test(value) ? Number(value) : null;
}

/** The app's client: a module worker bundled by Vite from analysisWorker.ts. */
export function createWorkerClient(threads = threadsFromSearch(globalThis.location?.search ?? '')): WorkerClient {
  const worker = new Worker(new URL('./analysisWorker.ts', import.meta.url), { type: 'module', name: 'svcca-analysis' });
  const client = new WorkerClient(worker);
  // Sent first: the worker answers it before any job arrives.
  if (threads !== null) void client.setThreads(threads).catch(() => {});
  return client;
}
