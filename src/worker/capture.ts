// A ComputeBackend wrapper that reports each grid of pairs as soon as the engine has it, so that
// heatmap cells fill in while a job runs and each cell's kept dimensions reach the tooltip.
//
// The engine's computeDynamics compares one checkpoint against the reference per compareGrid
// call, in ascending step order; computeCross makes exactly one call. So the k-th call is
// checkpoint k (0 for a cross job). If the engine gains a per-grid callback in JobControl, this
// wrapper goes away (see the report of issue 4).

import type { ComputeBackend } from '../analysis/backend';
import type { PairNumbers } from '../analysis/metrics';

export function capturingBackend(inner: ComputeBackend, onGrid: (call: number, grid: PairNumbers[][]) => void): ComputeBackend {
  let calls = 0;
  return {
    kind: inner.kind,
    precision: inner.precision,
    factorize: (reps, options, dft) => inner.factorize(reps, options, dft),
    async compareGrid(a, b, options, onPairs, signal) {
      const grid = await inner.compareGrid(a, b, options, onPairs, signal);
      onGrid(calls++, grid);
      return grid;
    },
    datapointsOf: (f) => inner.datapointsOf(f),
    release: (factors) => inner.release(factors),
  };
}
