// k99 of a learning-dynamics job on the GPU backend (on Dawn): GPU factors' spectra come from float32
// Grams, so the job records no k99 from them and the export's k99 is the float64 pass's; factors the
// GPU hands to float64 (a checkpoint with a layer wider than its datapoints) hold the pass's spectrum
// bit for bit and give k99 without the pass. And the GPU backend's factorize honours the job's cancel.
// Layers are n neurons × m datapoints.
import { beforeAll, describe, expect, it } from 'vitest';
import { dimensionsOverTrainingWithGaps } from '../../src/analysis/classes';
import { computeDynamics, knownK99Of } from '../../src/analysis/engine';
import type { GpuBackend } from '../../src/analysis/gpu';
import { withDynamicsProvenance } from '../../src/analysis/provenance';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import type { GpuRuntime } from '../../src/gpu/runtime';
import type { Bundle } from '../../src/io/types';
import { randn } from '../../src/math/random';
import type { Representation } from '../../src/math/reduce';
import { memoryBundle, storedDatapointsFirst } from '../helpers/bundle';
import { nodeBackend } from '../helpers/gpu';

let runtime: GpuRuntime;
let backend: GpuBackend;

beforeAll(async () => {
  ({ runtime, backend } = await nodeBackend());
}, 60_000);

const M = 120;
const options = { ...DEFAULT_OPTIONS, backend: 'webgpu' as const };

/** Layers of the given widths at three checkpoints, each row scaled (i + 1)^−1 so that k99 is well inside the width. */
function bundleOf(widths: number[]): Bundle {
  return memoryBundle(
    'gpu.npz',
    [0, 10, 20].flatMap((step) =>
      widths.map((n, l) => {
        const x = randn(300 + 10 * l + step, n, M);
        const data = x.data.map((v, k) => v / (Math.floor(k / M) + 1));
        return { step, layer: `layer${l}`, array: storedDatapointsFirst({ rows: n, cols: M, data }) };
      }),
    ),
  );
}

describe('k99 of a dynamics job on the GPU backend', () => {
  it('float32 GPU factors: nothing recorded; the export runs the pass and gives its table', async () => {
    const bundle = bundleOf([24, 60, 16]);
    const result = await computeDynamics({ bundle }, options, {}, backend);
    expect(result.conventions.precision).toBe('float32');
    const known = knownK99Of(result)!;
    for (const step of result.steps) for (const layer of result.layers) expect(known.get(step, layer)).toBeUndefined();
    const described = await withDynamicsProvenance(result, { bundle, run: null, options, leftOut: [], reason: 'test' });
    expect(described.k99).toEqual((await dimensionsOverTrainingWithGaps(bundle, null, options)).k99);
  }, 300_000);

  it('float64 factors the GPU hands over (a layer wider than its datapoints): k99 from them, equal to the pass', async () => {
    const bundle = bundleOf([24, 150, 16]);
    const result = await computeDynamics({ bundle }, options, {}, backend);
    const known = knownK99Of(result)!;
    const pass = await dimensionsOverTrainingWithGaps(bundle, null, options);
    expect(known.table(result.steps, result.layers)).toEqual(pass.k99);
  }, 300_000);

  it('factorize with the job cancelled rejects with an AbortError and holds no buffer', async () => {
    const live = runtime.liveBuffers;
    const controller = new AbortController();
    controller.abort();
    const reps: Representation[] = [24, 16].map((n, l) => ({ kind: 'dense', x: randn(50 + l, n, M) }));
    await expect(backend.factorize(reps, options, false, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(runtime.liveBuffers).toBe(live);
    // Not cancelled: it factors.
    const factors = await backend.factorize(reps, options, false);
    expect(factors).toHaveLength(2);
    backend.release(factors);
    expect(runtime.liveBuffers).toBe(live);
  }, 300_000);
});
