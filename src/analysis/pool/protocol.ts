// Messages between a CPU pool (pool.ts, in the job's thread) and its workers (work.ts, one float64
// engine per thread). A request is one task: one representation to factor, one tile of a grid of
// pairs, or a group of Gram matrices for the GPU path's float64 host step (pool/gramHost.ts).
// Shapes: representations are n neurons × m datapoints (src/math/reduce.ts); a Gram is size × size.

import type { PrimedSide } from '../../math/dft';
import type { CcaDraft, SvdDraft, SvdSpectrum } from '../../math/gramFactor';
import { denseRepresentation, storedConv, type ConvShape, type Representation, type StoredConv, type StoredDense } from '../../math/reduce';
import type { Factor, PairNumbers } from '../metrics';
import type { AnalysisOptions } from '../types';

/**
 * A representation on its way to a worker. A dense layer read from a file goes as its stored array
 * (float32 where the file was: half the bytes of the float64 matrix; never that matrix, which the
 * worker's factor may not need at all); anything else as it is.
 */
export type RepresentationMessage =
  Representation | { kind: 'stored-dense'; stored: StoredDense } | { kind: 'stored-conv'; shape: ConvShape; stored: StoredConv };

/**
 * The message form of a representation. `shared`: the stored array goes in a SharedArrayBuffer
 * (one copy here, none in the worker), from `stage` (a buffer of at least that many bytes, which the
 * caller may reuse once the task is done) or a new one; otherwise it is cloned, and a view of a
 * larger buffer (a member of a bundle) is first cut to its own bytes, since a clone would carry the
 * whole buffer.
 */
export function representationMessage(rep: Representation, shared: boolean, stage?: (bytes: number) => SharedArrayBuffer): RepresentationMessage {
  if (rep.kind === 'conv') {
    // A conv layer read from a file goes as its stored array too (its NHWC float64 `data` is built
    // only when read, and the DFT never reads it).
    const { stored, datapoints, height, width, channels } = rep.conv;
    if (!stored) return rep;
    const data = storedValues(stored.data.subarray(0, datapoints * height * width * channels), shared, stage);
    return { kind: 'stored-conv', shape: { datapoints, height, width, channels }, stored: { data, order: stored.order } };
  }
  if (!rep.stored) return rep;
  const { data, neurons, datapoints, neuronsFirst } = rep.stored;
  return { kind: 'stored-dense', stored: { data: storedValues(data.subarray(0, neurons * datapoints), shared, stage), neurons, datapoints, neuronsFirst } };
}

/** A stored array as it goes in a message (see representationMessage). */
function storedValues(values: Float32Array | Float64Array, shared: boolean, stage?: (bytes: number) => SharedArrayBuffer): Float32Array | Float64Array {
  const inShared = typeof SharedArrayBuffer !== 'undefined' && values.buffer instanceof SharedArrayBuffer;
  let sent: Float32Array | Float64Array;
  if (inShared || (!shared && values.byteLength === values.buffer.byteLength)) sent = values;
  else if (shared) {
    const Kind = (values instanceof Float32Array ? Float32Array : Float64Array) as new (
      buffer: SharedArrayBuffer,
      offset: number,
      length: number,
    ) => Float32Array | Float64Array;
    sent = new Kind(stage ? stage(values.byteLength) : new SharedArrayBuffer(values.byteLength), 0, values.length);
    sent.set(values);
  } else sent = values.slice();
  return sent;
}

/** The worker's side of representationMessage. */
export function representationOf(message: RepresentationMessage): Representation {
  if (message.kind === 'stored-dense') return denseRepresentation(message.stored);
  if (message.kind === 'stored-conv') return { kind: 'conv', conv: storedConv(message.shape, message.stored) };
  return message;
}

export type PoolRequest =
  | {
      id: number;
      type: 'factorize';
      rep: RepresentationMessage;
      options: AnalysisOptions;
      dft: boolean;
      /** Hand the factor back in SharedArrayBuffers (shared memory) rather than transferring its buffers. */
      shared: boolean;
      /** A DFT factor's partners' heights and widths: its per-frequency factors against them come back with it (FactorPlan). */
      dftPartners?: { height: number; width: number }[];
      /** A CKA factor keeps its Gram's spectrum (FactorPlan.factorSpectra). */
      spectrum?: boolean;
    }
  | {
      id: number;
      type: 'compare';
      /** The tile's rows and columns: grid[r][c] = compareFactors(a[r], b[c]). */
      a: Factor[];
      b: Factor[];
      options: AnalysisOptions;
    }
  | {
      id: number;
      /** The GPU path's host step, first half, for a group of Grams (gramFactor.ts draftCca or svdSpectrum). */
      type: 'gram-values';
      step: 'cca' | 'svd';
      /** size × size each (float64 copies of the GPU's f32 Grams; in SharedArrayBuffers when `shared`). */
      grams: Float64Array[];
      sizes: number[];
      /** Datapoints m. */
      m: number;
      epsilon: number;
      /** Hand the drafts back in SharedArrayBuffers rather than transferring their buffers. */
      shared: boolean;
    }
  | {
      id: number;
      /**
       * One layer's variance spectrum for k99 (dimensionality.ts layerVarianceSpectrum): the k99 pass
       * (analysis/classes.ts), or a factorize call's FactorPlan.varianceSpectra beside the layer's factor.
       */
      type: 'variance-spectrum';
      rep: RepresentationMessage;
      reduction: 'flatten' | 'meanpool';
    }
  | {
      id: number;
      /** SVCCA's second half: the k kept eigenvectors of each spectrum (gramFactor.ts draftSvd). */
      type: 'gram-vectors';
      spectra: SvdSpectrum[];
      ks: number[];
    };

/** An error thrown in a worker, as data: rebuilt in the pool's thread with the same message. */
export interface PoolError {
  name: string;
  message: string;
  /** InputError's fields (io/types.ts). */
  source?: string;
  detail?: string;
}

export type PoolResponse =
  | {
      id: number;
      type: 'factor';
      factor: Factor;
      /** A DFT factor's per-frequency factors against the partners asked for (math/dft.ts primeSideFactors). */
      primed?: PrimedSide[];
    }
  /** Pairs of the tile finished so far since the last report (one row at a time). */
  | { id: number; type: 'progress'; pairs: number }
  | { id: number; type: 'pairs'; grid: PairNumbers[][] }
  | { id: number; type: 'gram-values'; drafts: (CcaDraft | SvdSpectrum)[] }
  | { id: number; type: 'gram-vectors'; drafts: SvdDraft[] }
  | { id: number; type: 'variance-spectrum'; spectrum: number[] }
  | { id: number; type: 'error'; error: PoolError };
