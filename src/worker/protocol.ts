// The typed message protocol between the main thread and the analysis worker.
//
// The worker owns every raw array (NdArray); the main thread only ever sees ArrayInfo (name,
// shape, dtype, detected layout) and PairResult (small vectors). Every request carries an `id`;
// the worker answers it with exactly one `result` or `error` message, possibly preceded by
// `progress` messages with the same id.
//
// Shape convention: arrays are described as stored in the file (`shape` outermost first); the
// layout says which axis is datapoints. The engine itself works on n neurons × m datapoints.

import type { BundleEntry, DetectedLayout, Layout } from '../io/types';
import type { AnalysisOptions, BadArray, BaselineRequest, PairResult, Progress } from '../analysis/types';
import type { CrossExport, DynamicsExport } from '../analysis/provenance';
import type { ClassSensitivityResult, ClassTarget } from '../analysis/classes';
import type { SweepK } from '../analysis/dimensionality';

/** One array the worker holds: a .npy file, or one array of a file of several (.npz member,
 *  safetensors/torch tensor, pickle entry, HDF5 dataset). */
export interface ArrayInfo {
  /** Unique key. Equal to `name`: dropping a file again replaces the arrays it held. */
  id: string;
  /** What the user calls it: "a.npy", "bundle.npz:conv1", "model.safetensors:h.3", "ckpt.pt:layer1.0.conv", "acts.h5:model/fc". */
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

// ---------------------------------------------------------------------------------------------
// Bundles (many layers × checkpoints × runs) and the explorer's jobs.

/** A dropped file with its path relative to what was dropped ("run/step_10/fc1.npy"). */
export interface InputFileRef {
  path: string;
  file: File;
}

/** One array of a bundle, described by its header: a BundleEntry without its loader (no data
 *  crosses the thread boundary). */
export type EntryInfo = Omit<BundleEntry, 'load'>;

export interface BundleInfo {
  /** Unique key: the name the store gave the load (its file or folder, made unique among the loaded). */
  id: string;
  name: string;
  runs: (string | null)[];
  steps: number[];
  layers: string[];
  entries: EntryInfo[];
  /** Files or members that follow no bundle convention (listed, never silently dropped). */
  unmatched: string[];
  /** Files left out of a study of one file per run, each with why ("seedC.npz: left out of the study: …"). */
  excluded?: string[];
  /** The per-datapoint labels, summarised; null when the bundle has none. */
  labels: { count: number; classes: number } | null;
  /** What reading it warned about (labels left out, names inside a file that look like paths):
   *  shown with the preview's warnings; they never hold the bundle back. */
  warnings?: string[];
  /** manifest.json, shortened to at most 2000 characters of JSON; null when absent. */
  manifest: string | null;
  /** Declared data size of every entry, in bytes. */
  bytes: number;
}

/** Who started a load: the user (a drop or a pick), a ?data= link, or the embedded demo. */
export type LoadOrigin = 'user' | 'url' | 'demo';

export interface AddInputParams {
  files: InputFileRef[];
  /** The bundle's unique id and name (the store makes it unique among what is loaded). */
  name: string;
  /** The store's load generation, increasing with every load started. A user's load supersedes
   *  every load with a smaller generation that the user did not start: those stop between files. */
  generation?: number;
  /** Default 'user'. */
  origin?: LoadOrigin;
}

export interface AddInputResult {
  /** The bundle the files formed (null when they follow no bundle convention: then `files`). */
  bundle: BundleInfo | null;
  /** Loose arrays (the "Compare two arrays" view): every array when the files formed no bundle;
   *  beside a bundle, the arrays of the picked files that hold none of it (null when there are none). */
  files: AddFilesResult | null;
  /** One line per bad file ("FILE[:MEMBER]: what is wrong"); good files still load. */
  errors: string[];
}

/** Similarities of one grid (one checkpoint of a dynamics job, or a cross job) as they finish. */
export interface GridPartial {
  /** Checkpoint index (0 for a cross job). */
  t: number;
  /** null: a pair the positions reduction cannot compare. */
  values: (number | null)[][];
  /** Dimensions each side kept, per pair (SVD directions for SVCCA, neurons after pruning otherwise); null where values is. */
  kept: ([number, number] | null)[][];
  /** Dynamics: the bad arrays met so far (their cells are null for good). */
  badArrays?: BadArray[];
}

export interface DynamicsJobRequest {
  bundle: string;
  run: string | null;
  reference: 'last' | number;
  /** Layers left out of the job. */
  dropped: string[];
  options: AnalysisOptions;
  /** The chance level of the convergence curves' cells (or every cell), when asked for. */
  baseline?: BaselineRequest | null;
}

export interface DynamicsJobResult {
  /** The CLI's `dynamics --json` schema, with what it was computed from (bundle, run, options, hash…). */
  result: DynamicsExport;
  /** kept[t][i][j], as in GridPartial. */
  kept: ([number, number] | null)[][][];
  /** resolveBackend's reason: which backend ran and why. */
  backend: string;
}

/** The k99 table of a finished dynamics job whose result left it out (the job did not know every cell): what its Export JSON asks for. */
export type DynamicsK99Request = Pick<DynamicsJobRequest, 'bundle' | 'run' | 'dropped' | 'options'>;

export interface CrossSideRequest {
  bundle: string;
  run: string | null;
  dropped: string[];
}

export interface CrossJobRequest {
  a: CrossSideRequest;
  b: CrossSideRequest;
  /** null: the last step both have. */
  step: number | null;
  options: AnalysisOptions;
  /** The chance level of every cell or of the diagonal (A's layer i against B's layer i), when asked for. */
  baseline?: BaselineRequest | null;
}

export interface CrossJobResult {
  /** The CLI's `cross --json` schema, with what it was computed from. */
  result: CrossExport;
  kept: ([number, number] | null)[][];
  backend: string;
}

/** One array of a loaded bundle. */
export interface EntryRef {
  bundle: string;
  run: string | null;
  step: number;
  layer: string;
}

export interface PairJobRequest {
  a: EntryRef;
  b: EntryRef;
  /** Which grid the pair belongs to: decides the datapoint hint used to read layouts, as that grid did. */
  scope: 'dynamics' | 'cross';
  dropped: { a: string[]; b: string[] };
  options: AnalysisOptions;
  /** How many top canonical direction pairs to return. */
  directions: number;
  /** At most this many datapoints per direction (an evenly spaced sample past it); all when absent. */
  maxPoints?: number;
  /** The pair's chance level, when its grid shows one. */
  baseline?: BaselineRequest | null;
}

export interface PairJobResult {
  /** With `directions` filled when the metric has canonical directions (cca, svcca without DFT). */
  result: PairResult;
  /** Per-datapoint labels of A's bundle when their count matches the pair's datapoints. */
  labels: number[] | null;
  backend: string;
  /** Sources of the two arrays. */
  names: [string, string];
}

/** Class sensitivity over training (analysis/classes.ts) of one run of a loaded bundle. */
export interface ClassesJobRequest {
  bundle: string;
  run: string | null;
  dropped: string[];
  /** 'auto': the logits when the bundle has a layer named logits, else the class indicator. */
  target: ClassTarget | 'auto';
  /** Default: analysis/classes' DEFAULT_CLASS_THRESHOLD (the view moves its marks without a new job). */
  threshold?: number;
  options: AnalysisOptions;
}

/** The CLI's `classes --json` schema: the result with what it was computed from. */
export type ClassesExport = ClassSensitivityResult & {
  analysis: 'class-sensitivity';
  bundle: string;
  run: string | null;
  leftOut: string[];
  options: { keep: AnalysisOptions['keep']; epsilon: number; layout: AnalysisOptions['layout']; convReduction: 'flatten' | 'meanpool' | null };
  inputHash: string;
  inputArrays: number;
  computed: { backend: 'cpu'; precision: 'float64'; reason: string };
  app: { name: string; version: string };
};

/** The k sweep of one pair of a grid (analysis/dimensionality.ts). */
export type SweepKJobRequest = Pick<PairJobRequest, 'a' | 'b' | 'scope' | 'dropped' | 'options'>;

/** Method name → parameters and result. Add a method here and both ends are type-checked. */
export interface Methods {
  addFiles: { params: { files: File[] }; result: AddFilesResult };
  removeArrays: { params: { ids: string[] }; result: RemoveArraysResult };
  compare: { params: CompareRequest; result: PairResult };
  /** Reads dropped files: a bundle if they follow a bundle convention, else loose arrays. */
  addInput: { params: AddInputParams; result: AddInputResult };
  removeBundle: { params: { id: string }; result: { removed: boolean } };
  dynamics: { params: DynamicsJobRequest; result: DynamicsJobResult };
  /** k99[t][i] of a dynamics job's arrays (analysis/classes.ts dimensionsOverTrainingWithGaps), for its Export JSON. */
  dynamicsK99: { params: DynamicsK99Request; result: { k99: (number | null)[][] } };
  cross: { params: CrossJobRequest; result: CrossJobResult };
  pair: { params: PairJobRequest; result: PairJobResult };
  classes: { params: ClassesJobRequest; result: ClassesExport };
  sweepK: { params: SweepKJobRequest; result: SweepK };
  /** Threads of the float64 CPU path from now on (1: in the analysis worker itself; 'auto': one per
   *  core but one, the default); answers the count in effect. */
  setThreads: { params: { threads: number | 'auto' }; result: { threads: number } };
  /** Aborts the running job with request id `target` (it answers with an 'aborted' error). */
  cancel: { params: { target: number }; result: { cancelled: boolean } };
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
  /** The job was cancelled (its partial results were already sent). */
  | { kind: 'aborted' }
  /** A bug: shown, but says it is unexpected. */
  | { kind: 'internal'; message: string };

export type Response =
  | { [K in Method]: { id: number; type: 'result'; method: K; result: Methods[K]['result'] } }[Method]
  | { id: number; type: 'error'; error: SerializedError }
  | { id: number; type: 'progress'; progress: Progress }
  | { id: number; type: 'partial'; partial: GridPartial };

/** Callbacks and cancellation of one job, on the main thread. */
export interface JobCallbacks {
  onProgress?: (p: Progress) => void;
  onPartial?: (p: GridPartial) => void;
  /** Aborting it cancels the job in the worker; the promise rejects with a DOMException 'AbortError'. */
  signal?: AbortSignal;
}

/** A load's place among the others (see AddInputParams), its progress and its cancellation. */
export interface LoadControl extends Pick<AddInputParams, 'generation' | 'origin'> {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

/** What the store talks to: the worker client in the app, a fake in orchestration tests. */
export interface AnalysisClient {
  addFiles(files: File[], onProgress?: (p: Progress) => void): Promise<AddFilesResult>;
  removeArrays(ids: string[]): Promise<RemoveArraysResult>;
  /** Rejects with InputError for bad pairs, SupersededError when a newer compare replaced it. */
  compare(request: CompareRequest, onProgress?: (p: Progress) => void): Promise<PairResult>;
  /** Aborting `load.signal` cancels the read in the worker (it rejects with an AbortError). */
  addInput(files: InputFileRef[], name: string, load?: LoadControl): Promise<AddInputResult>;
  removeBundle(id: string): Promise<{ removed: boolean }>;
  dynamics(request: DynamicsJobRequest, control?: JobCallbacks): Promise<DynamicsJobResult>;
  /** Optional: test doubles of the store may leave it out (Export JSON then writes the result as it is). */
  dynamicsK99?(request: DynamicsK99Request, control?: JobCallbacks): Promise<{ k99: (number | null)[][] }>;
  cross(request: CrossJobRequest, control?: JobCallbacks): Promise<CrossJobResult>;
  pair(request: PairJobRequest, control?: JobCallbacks): Promise<PairJobResult>;
  /** Optional: test doubles of the store may leave the issue-14 analyses out. */
  classes?(request: ClassesJobRequest, control?: JobCallbacks): Promise<ClassesExport>;
  sweepK?(request: SweepKJobRequest, control?: JobCallbacks): Promise<SweepK>;
  /** Threads of the CPU path from the next job on (the CPU threads setting); optional for test doubles. */
  setThreads?(threads: number | 'auto'): Promise<{ threads: number }>;
}

/** A compare request dropped in favour of a newer one (the user kept changing settings). */
export class SupersededError extends Error {
  constructor() {
    super('superseded by a newer request');
    this.name = 'SupersededError';
  }
}
