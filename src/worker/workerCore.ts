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

import { parseNpy } from '../io/npy';
import { openNpz } from '../io/npz';
import { openSafetensors } from '../io/safetensors';
import { detectLayout } from '../io/layout';
import { InputError } from '../io/types';
import type { DetectedLayout, NdArray } from '../io/types';
import type { Prepared } from '../analysis/engine';
import type { Activation, AnalysisOptions, PairResult, Progress } from '../analysis/types';
import type { AddFilesResult, ArrayInfo, CompareRequest, Request, Response, SerializedError } from './protocol';
import { SupersededError } from './protocol';
import { datapointsOf, mostFrequent } from './shapes';

/** The engine functions the worker needs (analysis/engine in the app). */
export interface Engine {
  prepare(activation: Activation, options: AnalysisOptions): Prepared;
  comparePrepared(a: Prepared, b: Prepared, options: AnalysisOptions): Promise<PairResult>;
}

interface Held {
  name: string;
  file: string;
  array: NdArray;
  detected: DetectedLayout;
}

export const ACCEPTED_EXTENSIONS = ['.npy', '.npz', '.safetensors'] as const;

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
    const counts = all.map((h) => datapointsOf(h.array.shape, detectLayout(h.array.shape).layout));
    const hint = mostFrequent(counts) ?? undefined;
    for (const h of all) h.detected = detectLayout(h.array.shape, hint);
  }

  async function readArrays(file: File): Promise<{ arrays: { name: string; array: NdArray }[]; errors: string[] }> {
    const lower = file.name.toLowerCase();
    const arrays: { name: string; array: NdArray }[] = [];
    const errors: string[] = [];
    try {
      if (lower.endsWith('.npy')) {
        arrays.push({ name: file.name, array: parseNpy(new Uint8Array(await file.arrayBuffer()), file.name) });
      } else if (lower.endsWith('.npz')) {
        const npz = await openNpz(file, file.name);
        for (const m of npz.members) {
          const name = `${file.name}:${m.name}`;
          try {
            arrays.push({ name, array: await npz.read(m.name) });
          } catch (e) {
            errors.push(errorLine(e, name));
          }
        }
        if (npz.members.length === 0) errors.push(`${file.name}: no arrays inside`);
      } else if (lower.endsWith('.safetensors')) {
        const st = await openSafetensors(file, file.name);
        for (const t of st.tensors) {
          const name = `${file.name}:${t.name}`;
          try {
            arrays.push({ name, array: await st.read(t.name) });
          } catch (e) {
            errors.push(errorLine(e, name));
          }
        }
        if (st.tensors.length === 0) errors.push(`${file.name}: no tensors inside`);
      } else {
        errors.push(`${file.name}: not a .npy, .npz or .safetensors file`);
      }
    } catch (e) {
      errors.push(errorLine(e, file.name));
    }
    return { arrays, errors };
  }

  async function addFiles(files: File[], progress: (p: Progress) => void): Promise<AddFilesResult> {
    const added: string[] = [];
    const errors: string[] = [];
    for (let i = 0; i < files.length; i++) {
      const file = files[i];
      progress({ done: i, total: files.length, stage: `reading ${file.name}` });
      const read = await readArrays(file);
      errors.push(...read.errors);
      if (read.arrays.length === 0) continue; // a bad file never removes what it replaced
      // Dropping a file again replaces everything it held before (members may have changed).
      for (const [id, h] of held) if (h.file === file.name) held.delete(id);
      for (const { name, array } of read.arrays) {
        held.delete(name);
        held.set(name, { name, file: file.name, array, detected: detectLayout(array.shape) });
        added.push(name);
      }
    }
    progress({ done: files.length, total: files.length, stage: 'done' });
    redetect();
    return { arrays: infos(), added, errors };
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
  function compare(req: CompareRequest): Promise<PairResult> {
    const sides = [lookup(req.a), lookup(req.b)] as const;
    const [pa, pb] = sides.map((h, i) =>
      engine.prepare({ name: h.name, array: h.array }, { ...req.options, layout: req.layouts[i] ?? h.detected.layout }),
    );
    return engine.comparePrepared(pa, pb, req.options);
  }

  async function handle(request: Request, post: (r: Response) => void): Promise<void> {
    const { id } = request;
    const progress = (p: Progress) => post({ id, type: 'progress', progress: p });
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
        default: {
          const never: never = request;
          throw new Error(`unknown request ${JSON.stringify(never)}`);
        }
      }
    } catch (e) {
      post({ id, type: 'error', error: serializeError(e) });
    }
  }

  return {
    receive(request, post) {
      // Compares are numbered on arrival, so one still queued knows a newer one exists.
      if (request.method === 'compare') latestCompare = request.id;
      queue = queue.then(() => handle(request, post));
      return queue;
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
  if (e instanceof SupersededError) return { kind: 'superseded' };
  return { kind: 'internal', message: e instanceof Error ? e.message : String(e) };
}
