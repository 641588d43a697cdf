// A scripted AnalysisClient for orchestration tests: every call is recorded and answered only
// when the test says so, in whatever order it likes.

import type { PairResult, Progress } from '../../src/analysis/types';
import type { DetectedLayout } from '../../src/io/types';
import type {
  AddFilesResult,
  AddInputResult,
  AnalysisClient,
  ArrayInfo,
  BundleInfo,
  CompareRequest,
  CrossJobRequest,
  CrossJobResult,
  DynamicsJobRequest,
  DynamicsJobResult,
  InputFileRef,
  JobCallbacks,
  LoadControl,
  PairJobRequest,
  PairJobResult,
  RemoveArraysResult,
} from '../../src/worker/protocol';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface Call<P, R> extends Deferred<R> {
  params: P;
  onProgress?: (p: Progress) => void;
  control?: JobCallbacks;
}

/** A job call: rejects with an AbortError when its signal aborts (as the worker client does). */
function job<P, R>(list: Call<P, R>[], params: P, control: JobCallbacks = {}): Promise<R> {
  const d: Call<P, R> = { ...deferred<R>(), params: structuredClone(params), control, onProgress: control.onProgress };
  control.signal?.addEventListener('abort', () => d.reject(new DOMException('The computation was cancelled', 'AbortError')), { once: true });
  list.push(d);
  return d.promise;
}

export class FakeClient implements AnalysisClient {
  readonly adds: Call<File[], AddFilesResult>[] = [];
  readonly removes: Call<string[], RemoveArraysResult>[] = [];
  readonly compares: Call<CompareRequest, PairResult>[] = [];

  addFiles(files: File[], onProgress?: (p: Progress) => void) {
    const d = { ...deferred<AddFilesResult>(), params: files, onProgress };
    this.adds.push(d);
    return d.promise;
  }
  removeArrays(ids: string[]) {
    const d = { ...deferred<RemoveArraysResult>(), params: ids };
    this.removes.push(d);
    return d.promise;
  }
  compare(request: CompareRequest) {
    const d = { ...deferred<PairResult>(), params: structuredClone(request) };
    this.compares.push(d);
    return d.promise;
  }

  readonly inputs: (Call<{ files: InputFileRef[]; name: string }, AddInputResult> & { load: LoadControl })[] = [];
  readonly bundleRemovals: string[] = [];
  readonly dynamicsJobs: Call<DynamicsJobRequest, DynamicsJobResult>[] = [];
  readonly crossJobs: Call<CrossJobRequest, CrossJobResult>[] = [];
  readonly pairJobs: Call<PairJobRequest, PairJobResult>[] = [];

  /** Rejects with an AbortError when the load's signal aborts, as the worker client does. */
  addInput(files: InputFileRef[], name: string, load: LoadControl = {}) {
    const d = { ...deferred<AddInputResult>(), params: { files, name }, onProgress: load.onProgress, load };
    load.signal?.addEventListener('abort', () => d.reject(new DOMException('The computation was cancelled', 'AbortError')), { once: true });
    this.inputs.push(d);
    return d.promise;
  }
  async removeBundle(id: string) {
    this.bundleRemovals.push(id);
    return { removed: true };
  }
  dynamics(request: DynamicsJobRequest, control?: JobCallbacks) {
    return job(this.dynamicsJobs, request, control);
  }
  cross(request: CrossJobRequest, control?: JobCallbacks) {
    return job(this.crossJobs, request, control);
  }
  pair(request: PairJobRequest, control?: JobCallbacks) {
    return job(this.pairJobs, request, control);
  }
}

/** A bundle of `layers` × `steps` (one run unless `runs`), 100 datapoints × 8 neurons each. */
export function bundleInfo(name: string, layers: string[], steps: number[], runs: (string | null)[] = [null], shape = [100, 8]): BundleInfo {
  const entries = runs.flatMap((run) =>
    steps.flatMap((step) => layers.map((layer) => ({ run, step, layer, source: `${name}:${run ? `${run}/` : ''}step_${step}/${layer}`, shape, dtype: '<f4' }))),
  );
  return { id: name, name, runs, steps, layers, entries, unmatched: [], labels: null, manifest: null, bytes: entries.length * shape[0] * shape[1] * 4 };
}

/** Let every settled promise's continuations run. */
export const flush = () => new Promise<void>((r) => setTimeout(r, 0));

const detected = (layout: DetectedLayout['layout']): DetectedLayout => ({ layout, reason: `assumed ${layout}` });

export function info(name: string, shape: number[], layout: DetectedLayout['layout'] = 'datapoints-first'): ArrayInfo {
  return { id: name, name, file: name.split(':')[0], shape, dtype: '<f4', detected: detected(layout) };
}

export function file(name: string): File {
  return new File([new Uint8Array(4)], name);
}

export function pairResult(similarity: number): PairResult {
  return {
    metric: 'svcca',
    similarity,
    mean98: similarity,
    meanSquared: similarity * similarity,
    directions: null,
    rho: [similarity],
    kept: [1, 1],
    datapoints: 10,
    neurons: [2, 2],
    dropped: [0, 0],
    spectra: [[1], [1]],
    warnings: [],
    conventions: {
      metric: 'svcca',
      keep: { kind: 'variance', fraction: 0.99 },
      epsilon: 1e-10,
      layout: ['datapoints-first', 'datapoints-first'],
      convLayout: [null, null],
      convReduction: null,
      pwccaVariant: null,
      summary: 'fake',
      backend: 'cpu',
      precision: 'float64',
    },
  };
}
