// The analysis worker's logic, free of `self` so it runs in Node tests as well as in a Worker.
//
// It holds every array read from the user's files (raw data never leaves this thread), answers
// the protocol's requests one at a time, and drops compare requests that a newer one replaced
// before they started (the engine is synchronous: a stale request cannot be interrupted once it
// runs, but it need not start).
//
// Shape convention: arrays are kept exactly as stored (row-major, shape as in the file); the
// per-side layout (the user's flip, else the detected one) is resolved at compare time and handed
// to the engine's prepare step, which turns each side into n neurons × m datapoints.

import { openArrays } from '../io/arrays';
import type { OpenedArrays } from '../io/arrays';
import { ALL_EXTENSIONS_TEXT } from '../io/formats';
import { readInput } from '../io/bundle';
import { nameOfPaths, pathsThatMadeIt } from '../io/inputName';
import type { LooseArray, ReadInput } from '../io/bundle';
import { detectLayout } from '../io/layout';
import { InputError } from '../io/types';
import { checkAborted } from '../cancel';
import type { Bundle, BundleEntry, DetectedLayout, NdArray } from '../io/types';
import type { BackendChoice, ComputeBackend } from '../analysis/backend';
import type { CrossRequest, DynamicsRequest } from '../analysis/engine';
import type { Prepared } from '../analysis/prepare';
import type {
  Activation,
  AnalysisOptions,
  BadArray,
  BaselineRequest,
  CrossResult,
  DynamicsResult,
  JobControl,
  PairDirections,
  PairResult,
  Progress,
} from '../analysis/types';
import type {
  AddFilesResult,
  AddInputResult,
  ArrayInfo,
  BundleInfo,
  CompareRequest,
  CrossJobRequest,
  CrossJobResult,
  DynamicsJobRequest,
  DynamicsJobResult,
  DynamicsK99Request,
  GridPartial,
  LoadOrigin,
  Methods,
  PairJobRequest,
  PairJobResult,
  Request,
  Response,
  SerializedError,
} from './protocol';
import { SupersededError } from './protocol';
import { classesJob, sweepKJob } from './classesJobs';
import { FactorCache } from '../analysis/factorCache';
import { rememberEntryDigest, withCrossProvenance, withDynamicsProvenance } from '../analysis/provenance';
import { dimensionsOverTrainingWithGaps } from '../analysis/classes';
import { arrayBytes, datapointsOfShape, mostFrequent } from './shapes';

/** The engine functions the worker needs (analysis/engine and analysis/backend in the app). */
export interface Engine {
  prepare(activation: Activation, options: AnalysisOptions, datapointsHint?: number): Prepared;
  comparePrepared(
    a: Prepared,
    b: Prepared,
    options: AnalysisOptions,
    backend?: ComputeBackend,
    baseline?: Partial<BaselineRequest> | null,
  ): Promise<PairResult>;
  computeDynamics(request: DynamicsRequest, options: AnalysisOptions, control?: JobControl, backend?: ComputeBackend): Promise<DynamicsResult>;
  computeCross(request: CrossRequest, options: AnalysisOptions, control?: JobControl, backend?: ComputeBackend): Promise<CrossResult>;
  pairDirections(a: Prepared, b: Prepared, options: AnalysisOptions, count: number, maxPoints?: number): PairDirections | null;
  inferDatapoints(shapes: readonly (readonly number[])[]): number | undefined;
  resolveBackend(choice: AnalysisOptions['backend']): Promise<BackendChoice>;
  /** Threads of the float64 CPU path (the CPU pool; 'auto': its default); returns the count in effect. Absent: always 1. */
  setCpuThreads?(threads: number | 'auto'): number;
}

interface Held {
  name: string;
  file: string;
  array: NdArray;
  detected: DetectedLayout;
}

/** Lets messages already queued behind the current one arrive (so a newer compare can supersede). */
const yieldToQueue = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export interface WorkerCore {
  /** Handles one request; `post` receives its progress messages and exactly one result or error. */
  receive(request: Request, post: (response: Response) => void): Promise<void>;
}

export function createWorkerCore(engine: Engine): WorkerCore {
  /** Insertion order is the order arrays are listed in. */
  const held = new Map<string, Held>();
  let latestCompare = -1;
  let queue: Promise<void> = Promise.resolve();

  function infos(): ArrayInfo[] {
    return [...held.values()].map((h) => ({
      id: h.name,
      name: h.name,
      file: h.file,
      shape: h.array.shape,
      dtype: h.array.dtype,
      detected: h.detected,
    }));
  }

  /** Detect every layout twice: first alone, then knowing the datapoint count most arrays agree on. */
  function redetect(): void {
    const all = [...held.values()];
    const counts = all.map((h) => datapointsOfShape(h.array.shape, detectLayout(h.array.shape).layout));
    const hint = mostFrequent(counts) ?? undefined;
    for (const h of all) h.detected = detectLayout(h.array.shape, hint);
  }

  /** Every array of one file as loose arrays, through the same reader as bundles (the caller closes `opened`). */
  async function looseArraysOf(file: File, opened: OpenedArrays[]): Promise<LooseArray[]> {
    const reader = await openArrays(file, file.name);
    opened.push(reader);
    if (reader.entries.length === 0) throw new InputError(file.name, reader.format === 'safetensors' ? 'no tensors inside' : 'no arrays inside');
    return reader.entries.map((entry) => ({
      source: reader.format === 'npy' ? file.name : `${file.name}:${entry.name}`,
      file: file.name,
      shape: entry.shape,
      dtype: entry.dtype,
      load: () => reader.read(entry.name),
    }));
  }

  /**
   * Holds loose arrays for "Compare two arrays" (their data is read now: compares are one pair at a
   * time and re-read nothing). An array that cannot be read is reported with the reader's reason
   * and left out; a file read again replaces every array it held before.
   */
  async function holdLoose(arrays: LooseArray[], errors: string[], progress: (p: Progress) => void, signal?: AbortSignal): Promise<string[]> {
    const added: string[] = [];
    const replaced = new Set<string>();
    for (let i = 0; i < arrays.length; i++) {
      checkAborted(signal);
      const loose = arrays[i];
      progress({ done: i, total: arrays.length, stage: `reading ${loose.source}` });
      let array: NdArray;
      try {
        array = await loose.load();
      } catch (e) {
        errors.push(errorLine(e, loose.source));
        continue; // a bad array never removes what it would replace
      }
      if (!replaced.has(loose.file)) {
        // Dropping a file again replaces everything it held before (members may have changed).
        for (const [id, h] of held) if (h.file === loose.file) held.delete(id);
        replaced.add(loose.file);
      }
      held.delete(loose.source);
      held.set(loose.source, { name: loose.source, file: loose.file, array, detected: detectLayout(array.shape) });
      added.push(loose.source);
    }
    progress({ done: arrays.length, total: arrays.length, stage: 'done' });
    redetect();
    return added;
  }

  async function addFiles(files: File[], progress: (p: Progress) => void): Promise<AddFilesResult> {
    const errors: string[] = [];
    const arrays: LooseArray[] = [];
    const opened: OpenedArrays[] = [];
    try {
      for (const file of files) {
        try {
          arrays.push(...(await looseArraysOf(file, opened)));
        } catch (e) {
          errors.push(errorLine(e, file.name));
        }
      }
      const added = await holdLoose(arrays, errors, progress);
      return { arrays: infos(), added, errors };
    } finally {
      // Loose arrays are held decoded: their files are needed no longer.
      for (const reader of opened) reader.close();
    }
  }

  function removeArrays(ids: string[]) {
    for (const id of ids) held.delete(id);
    redetect();
    return { arrays: infos() };
  }

  function lookup(id: string): Held {
    const h = held.get(id);
    if (!h) throw new InputError(id, 'is no longer loaded; drop the file again');
    return h;
  }

  /** Each side is prepared with its own layout (the user's flip or the detected one). */
  async function compare(req: CompareRequest): Promise<PairResult> {
    const sides = [lookup(req.a), lookup(req.b)] as const;
    const [pa, pb] = sides.map((h, i) => engine.prepare({ name: h.name, array: h.array }, { ...req.options, layout: req.layouts[i] ?? h.detected.layout }));
    const { backend, reason } = await chooseBackend(req.options);
    const result = await engine.comparePrepared(pa, pb, req.options, backend);
    result.conventions.backendReason = reason;
    return result;
  }

  // -------------------------------------------------------------------------------------------
  // Bundles and the explorer's jobs.

  /** Bundles by id (their name). Raw data is read from the dropped Blobs by each entry's load(). */
  const bundles = new Map<string, Bundle>();
  /** What closes each bundle's files (an HDF5 file stays open while its bundle is loaded). */
  const bundleFiles = new Map<string, () => void>();
  function dropBundle(id: string): boolean {
    const removed = bundles.get(id);
    if (removed) factorCache.forget(removed.entries);
    bundleFiles.get(id)?.();
    bundleFiles.delete(id);
    return bundles.delete(id);
  }
  // Factors kept between jobs: changing the reference step, the run or a view reuses them, and so
  // does switching a setting back (float64 path; bounded, least recently used out first).
  const factorCache = new FactorCache();

  /**
   * The newest load the user started (its generation). A load the user did not start (the demo, a
   * ?data= link) with an older generation is superseded: it is aborted on the user's load's arrival
   * (between files if it is running, at once if queued), and one arriving later never starts.
   */
  let newestUserLoad = -1;
  /** Loads queued or running, by request id. */
  const loads = new Map<number, { origin: LoadOrigin; generation: number }>();

  function noteLoad(id: number, params: Methods['addInput']['params']): void {
    const origin = params.origin ?? 'user';
    const generation = params.generation ?? 0;
    const controller = new AbortController();
    controllers.set(id, controller);
    loads.set(id, { origin, generation });
    if (origin !== 'user') {
      if (generation < newestUserLoad) controller.abort();
      return;
    }
    newestUserLoad = Math.max(newestUserLoad, generation);
    for (const [other, load] of loads) if (load.origin !== 'user' && load.generation < generation) controllers.get(other)?.abort();
  }

  /**
   * Reads dropped files as one bundle. A file that cannot be read is reported with the reader's
   * reason and left out, and the rest is read again (a bad file never stops the good ones). Files
   * that follow no bundle convention at all are loose arrays for the "Compare two arrays" view.
   * `signal` (a cancel from the store, or a newer load of the user's) stops it between files.
   */
  async function addInput(params: Methods['addInput']['params'], progress: (p: Progress) => void, signal?: AbortSignal): Promise<AddInputResult> {
    const { files, name } = params;
    const check = () => checkAborted(signal);
    check();
    const errors: string[] = [];
    const visible = files.filter((f) => !f.path.split('/').some((segment) => segment.startsWith('.')));
    let remaining = visible;
    let read: ReadInput | null = null;
    progress({ done: 0, total: remaining.length, stage: `reading ${name}` });
    while (remaining.length > 0) {
      check();
      try {
        read = await readInput(
          name,
          remaining.map((f) => ({ path: f.path, blob: f.file })),
          undefined,
          signal,
        );
        break;
      } catch (e) {
        if (isInputError(e)) {
          const bad = remaining.find((f) => e.source === f.path || e.source.startsWith(`${f.path}:`));
          if (bad) {
            errors.push(e.message);
            remaining = remaining.filter((f) => f !== bad);
            continue;
          }
        }
        if (e instanceof Error && e.name === 'AbortError') throw e;
        errors.push(errorLine(e, name));
        return { bundle: null, files: null, errors };
      }
    }
    check();
    if (read && read.bundle.entries.length > 0) {
      const bundle = { ...read.bundle, name: nameAfterWhatWasRead(name, visible, read.bundle) };
      dropBundle(bundle.name);
      bundles.set(bundle.name, bundle);
      bundleFiles.set(bundle.name, read.close);
      errors.push(...read.excluded, ...truncatedEntries(bundle));
      // Files picked beside the bundle that hold none of it (a loose acts.npy): arrays to compare,
      // read now, so that one that cannot be read is reported naming it (a truncated .npy) rather
      // than only listed as not part of the bundle. Arrays inside the bundle's own files (a
      // state_dict's weights beside the activations) stay listed only: they may be large.
      const madeIt = new Set(
        pathsThatMadeIt(
          remaining.map((f) => f.path),
          bundle.entries.map((e) => e.source),
        ),
      );
      const besides = read.loose.filter((l) => !madeIt.has(l.file));
      let files: AddFilesResult | null = null;
      if (besides.length > 0) {
        const added = await holdLoose(besides, errors, () => {}, signal);
        files = { arrays: infos(), added, errors: [] };
      }
      progress({ done: remaining.length, total: remaining.length, stage: 'done' });
      // Labels left out, names that look like paths (io/bundle): warnings of the bundle, not errors.
      return { bundle: { ...describeBundle(bundle), excluded: read.excluded, warnings: read.warnings }, files, errors };
    }
    if (!read || read.loose.length === 0) {
      read?.close();
      if (read && remaining.length > 0) {
        const found = read.bundle.unmatched;
        const listed = found.length > 12 ? `${found.slice(0, 12).join(', ')} and ${found.length - 12} more` : found.join(', ');
        errors.push(`${name}: no arrays found in ${listed || 'these files'} (readable: ${ALL_EXTENSIONS_TEXT} files)`);
      }
      return { bundle: null, files: null, errors };
    }
    // Loose arrays: what else was picked is named, never silently dropped (a bundle lists it in its preview).
    errors.push(...read.warnings);
    const arrays = new Set(read.loose.map((l) => l.source));
    for (const other of read.bundle.unmatched) {
      if (arrays.has(other)) continue;
      const why = read.unreadable.find((line) => line.startsWith(`${other}: `));
      errors.push(why ?? (other.includes(':') ? `${other}: not an array; left out` : `${other}: not a ${ALL_EXTENSIONS_TEXT} file`));
    }
    let added: string[];
    try {
      added = await holdLoose(read.loose, errors, progress, signal);
    } finally {
      read.close(); // loose arrays are held decoded
    }
    return { bundle: null, files: { arrays: infos(), added, errors: [] }, errors };
  }

  /**
   * The bundle's name (and id): the store's `name` for what was picked, unless some picked files
   * did not make the bundle (unreadable, or no arrays in it): then it is named after the files
   * that did ("seed0.npz + seed1.npz", not "bad.npy + seed0.npz + seed1.npz"), unique among the
   * bundles loaded.
   */
  function nameAfterWhatWasRead(name: string, picked: readonly { path: string }[], bundle: Bundle): string {
    const paths = picked.map((f) => f.path);
    const made = pathsThatMadeIt(
      paths,
      bundle.entries.map((e) => e.source),
    );
    const read = nameOfPaths(made);
    if (made.length === 0 || read === nameOfPaths(paths)) return name;
    if (!bundles.has(read)) return read;
    for (let k = 2; ; k++) if (!bundles.has(`${read} (${k})`)) return `${read} (${k})`;
  }

  /**
   * A .npy shorter than its header declares is only found out when its data is read; say so now,
   * naming the file, rather than in the middle of a job. (The entry stays: its layer can be dropped.)
   */
  function truncatedEntries(bundle: Bundle): string[] {
    const found: string[] = [];
    for (const entry of bundle.entries) {
      const size = blobSizes.get(entry.source);
      if (size !== undefined && size < arrayBytes(entry.shape, entry.dtype)) {
        found.push(`${entry.source}: data is truncated: the header declares ${arrayBytes(entry.shape, entry.dtype)} bytes of data but the file has ${size}`);
      }
    }
    return found;
  }
  /** Sizes of the dropped .npy files by path (set while reading input). */
  const blobSizes = new Map<string, number>();

  function describeBundle(bundle: Bundle): BundleInfo {
    let labels: BundleInfo['labels'] = null;
    if (bundle.labels) {
      const values = bundle.labels.data;
      labels = { count: values.length, classes: new Set(values).size };
    }
    let manifest: string | null = null;
    if (bundle.manifest !== null) {
      const text = JSON.stringify(bundle.manifest);
      manifest = text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
    }
    return {
      id: bundle.name,
      name: bundle.name,
      runs: bundle.runs,
      steps: bundle.steps,
      layers: bundle.layers,
      entries: bundle.entries.map((e) => ({ run: e.run, step: e.step, layer: e.layer, source: e.source, shape: e.shape, dtype: e.dtype })),
      unmatched: bundle.unmatched,
      labels,
      manifest,
      bytes: bundle.entries.reduce((sum, e) => sum + arrayBytes(e.shape, e.dtype), 0),
    };
  }

  /** The bundle without the dropped layers. */
  function bundleView(id: string, dropped: readonly string[]): Bundle {
    const bundle = bundles.get(id);
    if (!bundle) throw new InputError(id, 'is no longer loaded; drop it again');
    if (dropped.length === 0) return bundle;
    const out = new Set(dropped);
    const layers = bundle.layers.filter((l) => !out.has(l));
    if (layers.length === 0) throw new InputError(bundle.name, 'every layer is left out; keep at least one');
    return { ...bundle, layers, entries: bundle.entries.filter((e) => !out.has(e.layer)) };
  }

  async function chooseBackend(options: AnalysisOptions): Promise<BackendChoice> {
    try {
      return await engine.resolveBackend(options.backend);
    } catch (e) {
      throw new InputError('Backend', e instanceof Error ? e.message : String(e));
    }
  }

  async function dynamics(req: DynamicsJobRequest, control: JobControl, partial: (p: GridPartial) => void): Promise<DynamicsJobResult> {
    const bundle = bundleView(req.bundle, req.dropped);
    const { backend, reason } = await chooseBackend(req.options);
    const kept: ([number, number] | null)[][][] = [];
    const onValues = (t: number, values: (number | null)[][], grid: ([number, number] | null)[][], badArrays?: readonly BadArray[]) => {
      kept[t] = grid;
      partial({ t, values, kept: grid, ...(badArrays && badArrays.length > 0 ? { badArrays: [...badArrays] } : {}) });
    };
    const result = await engine.computeDynamics(
      // Each array is hashed as the job reads it: the export's content hash reads nothing again.
      { bundle, run: req.run, reference: req.reference, cache: factorCache, baseline: req.baseline, onArrayRead: rememberEntryDigest },
      req.options,
      { ...control, onValues },
      backend,
    );
    // As the CLI does, so that Export JSON has the same schema as `svcca-lens dynamics --json`.
    result.conventions.backendReason = reason;
    // k99 where the job knew it as it factored (SVCCA in float64); otherwise Export JSON asks for it
    // (dynamicsK99), so that no job pays a second read and an SVD per array for it.
    const described = await withDynamicsProvenance(
      result,
      { bundle, run: req.run, options: req.options, leftOut: req.dropped, reason, k99: 'if-known' },
      control,
    );
    return { result: described, kept, backend: reason };
  }

  /** k99 of a dynamics job's arrays (its bundle view, run and options), for an Export JSON whose job did not know it. */
  async function dynamicsK99(req: DynamicsK99Request, control: JobControl): Promise<{ k99: (number | null)[][] }> {
    const bundle = bundleView(req.bundle, req.dropped);
    return { k99: (await dimensionsOverTrainingWithGaps(bundle, req.run, req.options, control)).k99 };
  }

  async function cross(req: CrossJobRequest, control: JobControl, partial: (p: GridPartial) => void): Promise<CrossJobResult> {
    const a = bundleView(req.a.bundle, req.a.dropped);
    const b = bundleView(req.b.bundle, req.b.dropped);
    const { backend, reason } = await chooseBackend(req.options);
    let kept: ([number, number] | null)[][] = [];
    const onValues = (_: number, values: (number | null)[][], grid: ([number, number] | null)[][]) => {
      kept = grid;
      partial({ t: 0, values, kept });
    };
    const result = await engine.computeCross(
      { a: { bundle: a, run: req.a.run }, b: { bundle: b, run: req.b.run }, step: req.step ?? undefined, cache: factorCache, baseline: req.baseline },
      req.options,
      { ...control, onValues },
      backend,
    );
    result.conventions.backendReason = reason;
    const described = await withCrossProvenance(result, {
      a: { bundle: a.name, run: req.a.run, entries: a.entries, leftOut: req.a.dropped },
      b: { bundle: b.name, run: req.b.run, entries: b.entries, leftOut: req.b.dropped },
      options: req.options,
      reason,
    });
    return { result: described, kept, backend: reason };
  }

  function findEntry(bundle: Bundle, ref: { run: string | null; step: number; layer: string }): BundleEntry {
    const entry = bundle.entries.find((e) => e.run === ref.run && e.step === ref.step && e.layer === ref.layer);
    if (!entry) {
      const run = ref.run === null ? '' : `run ${ref.run}, `;
      throw new InputError(bundle.name, `has no array for ${run}step ${ref.step}, layer ${ref.layer}`);
    }
    return entry;
  }

  /** One pair of a grid in full: spectra, directions over datapoints, conventions and warnings. */
  async function pair(req: PairJobRequest, control: JobControl): Promise<PairJobResult> {
    const a = bundleView(req.a.bundle, req.dropped.a);
    const b = bundleView(req.b.bundle, req.dropped.b);
    const ea = findEntry(a, req.a);
    const eb = findEntry(b, req.b);
    // The datapoint hint the grid used, so the layouts are read exactly as in the grid.
    const shapes =
      req.scope === 'dynamics'
        ? a.entries.filter((e) => e.run === req.a.run).map((e) => e.shape)
        : [
            ...a.entries.filter((e) => e.run === req.a.run && e.step === req.a.step),
            ...b.entries.filter((e) => e.run === req.b.run && e.step === req.b.step),
          ].map((e) => e.shape);
    const hint = engine.inferDatapoints(shapes);
    const pa = engine.prepare({ name: ea.source, array: await ea.load() }, req.options, hint);
    checkAborted(control.signal);
    const pb = engine.prepare({ name: eb.source, array: await eb.load() }, req.options, hint);
    checkAborted(control.signal);
    const { backend, reason } = await chooseBackend(req.options);
    const result = await engine.comparePrepared(pa, pb, req.options, backend, req.baseline);
    result.conventions.backendReason = reason;
    checkAborted(control.signal);
    result.directions = req.directions > 0 ? engine.pairDirections(pa, pb, req.options, req.directions, req.maxPoints ?? Infinity) : null;
    let labels: number[] | null = null;
    const source = a.labels ?? b.labels;
    if (source && source.data.length === result.datapoints) {
      // The labels of the datapoints drawn (all, or the sample the directions hold).
      const indices = result.directions?.indices ?? null;
      labels = indices ? indices.map((i) => source.data[i]) : Array.from(source.data);
    }
    return { result, labels, backend: reason, names: [ea.source, eb.source] };
  }

  // -------------------------------------------------------------------------------------------
  // Dispatch. Requests that change what is held (files, bundles) run one at a time, in order;
  // jobs run alongside them and each other (the engine yields between chunks of work), so a
  // 'cancel' is handled while a job runs.

  const controllers = new Map<number, AbortController>();

  async function handle(request: Request, post: (r: Response) => void): Promise<void> {
    const { id } = request;
    const progress = (p: Progress) => post({ id, type: 'progress', progress: p });
    const partial = (p: GridPartial) => post({ id, type: 'partial', partial: p });
    const job = (): JobControl => {
      const controller = new AbortController();
      controllers.set(id, controller);
      return { signal: controller.signal, onProgress: progress };
    };
    try {
      switch (request.method) {
        case 'addFiles': {
          const result = await addFiles(request.params.files, progress);
          post({ id, type: 'result', method: 'addFiles', result });
          break;
        }
        case 'removeArrays': {
          post({ id, type: 'result', method: 'removeArrays', result: removeArrays(request.params.ids) });
          break;
        }
        case 'compare': {
          await yieldToQueue();
          if (id !== latestCompare) throw new SupersededError();
          progress({ done: 0, total: 1, stage: 'comparing' });
          post({ id, type: 'result', method: 'compare', result: await compare(request.params) });
          break;
        }
        case 'addInput': {
          for (const f of request.params.files) if (f.path.toLowerCase().endsWith('.npy')) blobSizes.set(f.path, f.file.size);
          const result = await addInput(request.params, progress, controllers.get(id)?.signal);
          post({ id, type: 'result', method: 'addInput', result });
          break;
        }
        case 'removeBundle': {
          post({ id, type: 'result', method: 'removeBundle', result: { removed: dropBundle(request.params.id) } });
          break;
        }
        case 'dynamics': {
          post({ id, type: 'result', method: 'dynamics', result: await dynamics(request.params, job(), partial) });
          break;
        }
        case 'dynamicsK99': {
          post({ id, type: 'result', method: 'dynamicsK99', result: await dynamicsK99(request.params, job()) });
          break;
        }
        case 'cross': {
          post({ id, type: 'result', method: 'cross', result: await cross(request.params, job(), partial) });
          break;
        }
        case 'pair': {
          post({ id, type: 'result', method: 'pair', result: await pair(request.params, job()) });
          break;
        }
        case 'classes': {
          const params = request.params;
          post({ id, type: 'result', method: 'classes', result: await classesJob(bundleView(params.bundle, params.dropped), params, job()) });
          break;
        }
        case 'sweepK': {
          const p = request.params;
          post({
            id,
            type: 'result',
            method: 'sweepK',
            result: await sweepKJob(bundleView(p.a.bundle, p.dropped.a), bundleView(p.b.bundle, p.dropped.b), p, job()),
          });
          break;
        }
        case 'setThreads': {
          post({ id, type: 'result', method: 'setThreads', result: { threads: engine.setCpuThreads?.(request.params.threads) ?? 1 } });
          break;
        }
        case 'cancel': {
          const controller = controllers.get(request.params.target);
          controller?.abort();
          post({ id, type: 'result', method: 'cancel', result: { cancelled: controller !== undefined } });
          break;
        }
        default: {
          const never: never = request;
          throw new Error(`unknown request ${JSON.stringify(never)}`);
        }
      }
    } catch (e) {
      post({ id, type: 'error', error: serializeError(e) });
    } finally {
      controllers.delete(id);
      loads.delete(id);
    }
  }

  const SERIAL = new Set<Request['method']>(['addFiles', 'removeArrays', 'addInput', 'removeBundle']);

  return {
    receive(request, post) {
      // Compares are numbered on arrival, so one still queued knows a newer one exists.
      if (request.method === 'compare') latestCompare = request.id;
      // Known on arrival: a user's load supersedes the demo queued or running before it, and a
      // cancel of a load still queued finds its controller.
      if (request.method === 'addInput') noteLoad(request.id, request.params);
      if (SERIAL.has(request.method)) {
        queue = queue.then(() => handle(request, post));
        return queue;
      }
      return handle(request, post);
    },
  };
}

function isInputError(e: unknown): e is InputError {
  return e instanceof InputError || (e instanceof Error && e.name === 'InputError' && 'source' in e && 'detail' in e);
}

/** One line naming the source, whatever was thrown. */
export function errorLine(e: unknown, source: string): string {
  if (isInputError(e)) return e.message;
  return `${source}: unexpected error: ${e instanceof Error ? e.message : String(e)}`;
}

export function serializeError(e: unknown): SerializedError {
  if (isInputError(e)) return { kind: 'input', source: e.source, detail: e.detail };
  if (e instanceof Error && e.name === 'AbortError') return { kind: 'aborted' };
  if (e instanceof SupersededError) return { kind: 'superseded' };
  return { kind: 'internal', message: e instanceof Error ? e.message : String(e) };
}
