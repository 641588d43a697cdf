// The typed message protocol between the main thread and the analysis worker.
//
// The worker owns every raw array (NdArray); the main thread only ever sees ArrayInfo (name,
// shape, dtype, detected layout) and PairResult (small vectors). Every request carries an `id`;
// the worker answers it with exactly one `result` or `error` message, possibly preceded by
// `progress` messages with the same id.
//
// Shape convention: arrays are described as stored in the file (`shape` outermost first); the
// layout says which axis is datapoints. The engine itself works on n neurons × m datapoints.

import type { DetectedLayout, Layout } from '../io/types';
import type { AnalysisOptions, PairResult, Progress } from '../analysis/types';

/** One array the worker holds: a .npy file, an .npz member or a safetensors tensor. */
export interface ArrayInfo {
  /** Unique key. Equal to `name`: dropping a file again replaces the arrays it held. */
  id: string;
  /** What the user calls it: "a.npy", "bundle.npz:conv1", "model.safetensors:h.3". */
  name: string;
  /** The file it came from. */
  file: string;
  shape: number[];
  dtype: string;
  /** io/layout's guess, made knowing the other arrays' datapoint counts. */
  detected: DetectedLayout;
}

export interface AddFilesResult {
  /** Every array the worker now holds, in the order they were first added. */
  arrays: ArrayInfo[];
  /** Ids added (or replaced) by this call, in order. */
  added: string[];
  /** One line per bad file or member ("FILE[:MEMBER]: what is wrong"); good files still load. */
  errors: string[];
}

export interface RemoveArraysResult {
  arrays: ArrayInfo[];
}

export interface CompareRequest {
  /** ArrayInfo ids. */
  a: string;
  b: string;
  /** Per-side layout the user chose; null = use the detected layout. */
  layouts: [Layout | null, Layout | null];
  /** `layout` is ignored (per-side layouts above win); everything else goes to the engine. */
  options: AnalysisOptions;
}

/** Method name → parameters and result. Add a method here and both ends are type-checked. */
export interface Methods {
  addFiles: { params: { files: File[] }; result: AddFilesResult };
  removeArrays: { params: { ids: string[] }; result: RemoveArraysResult };
  compare: { params: CompareRequest; result: PairResult };
}
export type Method = keyof Methods;

export type Request = {
  [K in Method]: { id: number; method: K; params: Methods[K]['params'] };
}[Method];

/** Errors cross the thread boundary as data; the client turns them back into Error objects. */
export type SerializedError =
  /** A bad input (io's InputError or the engine's refusal): shown to the user as is. */
  | { kind: 'input'; source: string; detail: string }
  /** A newer compare request arrived before this one started: nothing to show. */
  | { kind: 'superseded' }
  /** A bug: shown, but says it is unexpected. */
  | { kind: 'internal'; message: string };

export type Response =
  | { [K in Method]: { id: number; type: 'result'; method: K; result: Methods[K]['result'] } }[Method]
  | { id: number; type: 'error'; error: SerializedError }
  | { id: number; type: 'progress'; progress: Progress };

/** What the store talks to: the worker client in the app, a fake in orchestration tests. */
export interface AnalysisClient {
  addFiles(files: File[], onProgress?: (p: Progress) => void): Promise<AddFilesResult>;
  removeArrays(ids: string[]): Promise<RemoveArraysResult>;
  /** Rejects with InputError for bad pairs, SupersededError when a newer compare replaced it. */
  compare(request: CompareRequest, onProgress?: (p: Progress) => void): Promise<PairResult>;
}

/** A compare request dropped in favour of a newer one (the user kept changing settings). */
export class SupersededError extends Error {
  constructor() {
    super('superseded by a newer request');
    this.name = 'SupersededError';
  }
}
