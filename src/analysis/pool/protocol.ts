// Messages between a CPU pool (pool.ts, in the job's thread) and its workers (work.ts, one float64
// engine per thread). A request is one task: one representation to factor, or one tile of a grid
// of pairs. Shapes: representations are n neurons × m datapoints (src/math/reduce.ts).

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
  | { id: number; type: 'error'; error: PoolError };
