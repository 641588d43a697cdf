// The worker's side of the CPU pool: the same float64 functions as the in-process path
// (analysis/metrics.ts: factorize, compareFactors; math/gramFactor.ts for the GPU path's host step,
// pool/gramHost.ts), one task at a time. Used by the browser's
// module worker (worker/poolWorker.ts) and Node's worker thread (pool/nodeWorker.ts) alike.

import { primeSideFactors } from '../../math/dft';
import { draftCca, draftSvd, svdSpectrum } from '../../math/gramFactor';
import { layerVarianceSpectrum } from '../dimensionality';
import { compareFactors, factorize, type Factor } from '../metrics';
import { representationOf, type PoolError, type PoolRequest, type PoolResponse } from './protocol';

/** Sends a response; `transfer` lists buffers whose ownership moves with it. */
export type PoolPost = (response: PoolResponse, transfer: ArrayBuffer[]) => void;

type TypedArray = Float64Array | Float32Array | Int32Array | Uint32Array | Uint8Array;

/**
 * Every typed array in a factor (plain objects and arrays of them: what factorize builds), each
 * replaced by `map`; one array referenced twice stays one array.
 */
function mapTypedArrays<T>(value: T, map: (array: TypedArray) => TypedArray, seen = new Map<unknown, unknown>()): T {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value) as T;
  if (ArrayBuffer.isView(value)) {
    const mapped = map(value as unknown as TypedArray);
    seen.set(value, mapped);
    return mapped as unknown as T;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(mapTypedArrays(item, map, seen));
    return out as T;
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [key, item] of Object.entries(value)) out[key] = mapTypedArrays(item, map, seen);
  return out as T;
}

/** The value (a factor, the host step's drafts) with every typed array copied into a SharedArrayBuffer: later tasks read it without a copy. */
function sharedCopy<T>(value: T): T {
  return mapTypedArrays(value, (array) => {
    const Kind = array.constructor as new (buffer: SharedArrayBuffer) => TypedArray;
    const copy = new Kind(new SharedArrayBuffer(array.byteLength));
    copy.set(array);
    return copy;
  });
}

/**
 * The distinct ArrayBuffers under a value (a factor, the host step's drafts): its transfer list, they
 * move, not copied. Everything these builders return owns its buffer (no views of WebAssembly memory).
 */
function buffersOf(value: unknown): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  mapTypedArrays(value, (array) => {
    if (array.buffer instanceof ArrayBuffer) buffers.add(array.buffer);
    return array;
  });
  return [...buffers];
}

export function poolError(error: unknown): PoolError {
  if (error instanceof Error) {
    const fields = error as Error & { source?: unknown; detail?: unknown };
    return {
      name: error.name,
      message: error.message,
      ...(typeof fields.source === 'string' && typeof fields.detail === 'string' ? { source: fields.source, detail: fields.detail } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}

/** Runs one task and posts its answer (progress rows first for a tile, then the grid). */
export function handlePoolRequest(request: PoolRequest, post: PoolPost): void {
  const { id } = request;
  try {
    if (request.type === 'factorize') {
      const { options } = request;
      const factor = factorize(representationOf(request.rep), options, request.dft, request.spectrum);
      // A DFT factor (the layer's spectrum) is compared in the calling thread only (pool.ts
      // compareGrid), never sent to a worker again: it moves, where a shared copy would only fault in
      // fresh memory for it (hundreds of MB for a conv layer). So do the per-frequency factors the
      // pairs will need, computed here while the calling thread does other work (the checkpoint
      // before, in a learning-dynamics job) instead of there on the first pair.
      if (factor.kind === 'dft') {
        const primed =
          request.dftPartners && (options.metric === 'svcca' || options.metric === 'cca')
            ? primeSideFactors(factor.spectrum, request.dftPartners, { metric: options.metric, keep: options.keep, epsilon: options.epsilon })
            : undefined;
        post({ id, type: 'factor', factor, ...(primed ? { primed } : {}) }, buffersOf([factor, primed]));
      } else if (request.shared) post({ id, type: 'factor', factor: sharedCopy(factor) }, []);
      else post({ id, type: 'factor', factor }, buffersOf(factor));
      return;
    }
    if (request.type === 'gram-values') {
      const { step, grams, sizes, m, epsilon } = request;
      const drafts = grams.map((g, b) => (step === 'cca' ? draftCca(g, sizes[b], m, epsilon) : svdSpectrum(g, sizes[b], m)));
      // Shared: SVCCA's reduction goes out again with 'gram-vectors' and is then read, not copied.
      if (request.shared) post({ id, type: 'gram-values', drafts: sharedCopy(drafts) }, []);
      else post({ id, type: 'gram-values', drafts }, buffersOf(drafts));
      return;
    }
    if (request.type === 'variance-spectrum') {
      post({ id, type: 'variance-spectrum', spectrum: layerVarianceSpectrum(representationOf(request.rep), request.reduction) }, []);
      return;
    }
    if (request.type === 'gram-vectors') {
      const drafts = request.spectra.map((s, b) => draftSvd(s, request.ks[b]));
      post({ id, type: 'gram-vectors', drafts }, buffersOf(drafts));
      return;
    }
    const grid = request.a.map((fa) => {
      const row = request.b.map((fb) => compareFactors(fa, fb, request.options));
      post({ id, type: 'progress', pairs: row.length }, []);
      return row;
    });
    post({ id, type: 'pairs', grid }, []);
  } catch (error) {
    post({ id, type: 'error', error: poolError(error) }, []);
  }
}
