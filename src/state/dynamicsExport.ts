// Export JSON of a learning-dynamics job: its result with the k99 table (`svcca-lens dynamics --json`'s
// schema). A job that knew every k99 as it factored (SVCCA in float64) carries it; otherwise (other
// metrics, the DFT, float32 GPU factors) the worker computes it here, on the first export of that
// result only, so that no job pays a second read of its bundle and an SVD per array for it.

import type { DynamicsExport } from '../analysis/provenance';
import type { DynamicsJobRequest } from '../worker/protocol';
import { getAnalysisClient, type GridJob } from './appStore';

/** Per job result: its export, complete or on its way (a second click waits for the same pass). */
const exports = new WeakMap<object, Promise<DynamicsExport>>();

/** What Export JSON writes for a finished dynamics job (resolves to the result as is when nothing is missing). */
export function dynamicsExport(job: GridJob): Promise<unknown> {
  const result = job.result as DynamicsExport | null;
  const client = getAnalysisClient();
  if (!result || job.kind !== 'dynamics' || result.k99 !== undefined || !client?.dynamicsK99) return Promise.resolve(result);
  let done = exports.get(result);
  if (!done) {
    const { bundle, run, dropped, options } = job.request as DynamicsJobRequest;
    done = client.dynamicsK99({ bundle, run, dropped, options }).then(({ k99 }) => ({ ...result, k99 }));
    done.catch(() => exports.delete(result));
    exports.set(result, done);
  }
  return done;
}
