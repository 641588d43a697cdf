// Messages between a CPU pool (pool.ts, in the job's thread) and its workers (work.ts, one float64
// engine per thread). A request is one task: one representation to factor, one tile of a grid of
// pairs, or a group of Gram matrices for the GPU path's float64 host step (pool/gramHost.ts).
// Shapes: representations are n neurons × m datapoints (src/math/reduce.ts); a Gram is size × size.

import type { CcaDraft, SvdDraft, SvdSpectrum } from '../../math/gramFactor';
import type { Representation } from '../../math/reduce';
import type { Factor, PairNumbers } from '../metrics';
import type { AnalysisOptions } from '../types';

export type PoolRequest =
  | {
      id: number;
      type: 'factorize';
      rep: Representation;
      options: AnalysisOptions;
      dft: boolean;
      /** Hand the factor back in SharedArrayBuffers (shared memory) rather than transferring its buffers. */
      shared: boolean;
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
  | { id: number; type: 'factor'; factor: Factor }
  /** Pairs of the tile finished so far since the last report (one row at a time). */
  | { id: number; type: 'progress'; pairs: number }
  | { id: number; type: 'pairs'; grid: PairNumbers[][] }
  | { id: number; type: 'gram-values'; drafts: (CcaDraft | SvdSpectrum)[] }
  | { id: number; type: 'gram-vectors'; drafts: SvdDraft[] }
  | { id: number; type: 'error'; error: PoolError };
