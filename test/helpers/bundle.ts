// In-memory bundles for engine tests: arrays are stored datapoints-first (m, n), as files hold them.
import type { Bundle, BundleEntry, NdArray } from '../../src/io/types';
import type { Matrix } from '../../src/math/matrix';

/** An n × m matrix stored as a datapoints-first (m, n) float64 array. */
export function storedDatapointsFirst(x: Matrix): NdArray {
  const data = new Float64Array(x.rows * x.cols);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) data[j * x.rows + i] = x.data[i * x.cols + j];
  return { shape: [x.cols, x.rows], dtype: '<f8', data };
}

export function memoryBundle(name: string, arrays: { run?: string | null; step: number; layer: string; array: NdArray }[]): Bundle {
  const entries: BundleEntry[] = arrays.map((a) => ({
    run: a.run ?? null,
    step: a.step,
    layer: a.layer,
    source: `${name}:${a.run ? a.run + '/' : ''}step_${a.step}/${a.layer}`,
    shape: a.array.shape,
    dtype: a.array.dtype,
    load: async () => a.array,
  }));
  return {
    name,
    runs: [...new Set(entries.map((e) => e.run))],
    steps: [...new Set(entries.map((e) => e.step))].sort((x, y) => x - y),
    layers: [...new Set(entries.map((e) => e.layer))],
    entries,
    unmatched: [],
    labels: null,
    manifest: null,
  };
}
