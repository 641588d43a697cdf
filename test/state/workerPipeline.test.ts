// The store, the worker client and the worker core wired together in one thread, over the real
// file readers and the real engine: everything the page does except the Worker and the DOM.

import { zipSync } from 'fflate';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy';
import { InputError } from '../../src/io/types';
import { addFiles, appStore, flipLayout, resetAppState, selectArray, setAnalysisClient, setOptions } from '../../src/state/store';
import { WorkerClient } from '../../src/worker/client';
import type { WorkerPort } from '../../src/worker/client';
import { SupersededError } from '../../src/worker/protocol';
import type { Request, Response } from '../../src/worker/protocol';
import { createWorkerCore } from '../../src/worker/workerCore';
import { realEngine } from '../../src/worker/engine';
import { randn as randnMatrix } from '../../src/math/random';

/** A Worker stand-in: requests go to a worker core, responses come back as message events. */
function inProcessClient(): WorkerClient {
  const core = createWorkerCore(realEngine);
  const target = new EventTarget();
  const port = {
    postMessage(request: Request) {
      void core.receive(request, (response: Response) => {
        queueMicrotask(() => target.dispatchEvent(new MessageEvent('message', { data: response })));
      });
    },
    addEventListener: target.addEventListener.bind(target),
    terminate() {},
  };
  return new WorkerClient(port);
}

/** Seeded normals from the portable generator of the semantics doc (src/math/random.ts), as a flat array. */
function randn(seed: number, count: number): Float64Array {
  return randnMatrix(seed, 1, count).data;
}

const M = 200; // datapoints
const N = 8; // neurons
const X = randn(1, M * N); // (M, N), datapoints first
/** Xᵀ: (N, M), neurons first, same numbers. */
const XT = Float64Array.from({ length: M * N }, (_, k) => X[(k % M) * N + Math.floor(k / M)]);
const Y = randn(2, M * 6);

const npy = (name: string, shape: number[], data: Float64Array) => new File([encodeNpy(shape, data).slice()], name);

function safetensors(name: string, tensors: Record<string, { shape: number[]; data: Float32Array }>): File {
  let offset = 0;
  const header: Record<string, unknown> = {};
  for (const [key, t] of Object.entries(tensors)) {
    header[key] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return new File([out], name);
}

const state = () => appStore.getState();
async function settled() {
  for (let i = 0; i < 200 && (state().status === 'running' || state().loading); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('worker client + core (real readers, real engine)', () => {
  it('lists arrays with shapes, dtypes and layouts detected against each other', async () => {
    const client = inProcessClient();
    const npz = new File([zipSync({ 'h1.npy': encodeNpy([M, 3], randn(5, M * 3)), 'h2.npy': encodeNpy([M, 4], randn(6, M * 4)) })], 'acts.npz');
    const st = safetensors('model.safetensors', { 'blocks.0': { shape: [M, 5], data: Float32Array.from(randn(7, M * 5)) } });
    const res = await client.addFiles([npy('x.npy', [M, N], X), npy('xt.npy', [N, M], XT), npz, st]);
    expect(res.errors).toEqual([]);
    expect(res.arrays.map((a) => a.name)).toEqual(['x.npy', 'xt.npy', 'acts.npz:h1', 'acts.npz:h2', 'model.safetensors:blocks.0']);
    expect(res.added).toHaveLength(5);
    const byName = Object.fromEntries(res.arrays.map((a) => [a.name, a]));
    expect(byName['x.npy']).toMatchObject({ shape: [M, N], dtype: '<f8', file: 'x.npy' });
    expect(byName['x.npy'].detected.layout).toBe('datapoints-first');
    expect(byName['xt.npy'].detected.layout).toBe('neurons-first');
    expect(byName['xt.npy'].detected.reason).toContain(String(M));
    expect(byName['model.safetensors:blocks.0'].dtype).toBe('F32');
  });

  it('compares per-side layouts: X against its own transpose is 1', async () => {
    const client = inProcessClient();
    await client.addFiles([npy('x.npy', [M, N], X), npy('xt.npy', [N, M], XT)]);
    const result = await client.compare({ a: 'x.npy', b: 'xt.npy', layouts: [null, null], options: state().options });
    expect(result.similarity).toBeCloseTo(1, 9);
    expect(result.conventions.layout).toEqual(['datapoints-first', 'neurons-first']);
    expect(result.datapoints).toBe(M);
  });

  it('a flip that breaks the datapoints match is refused with both counts, as an InputError', async () => {
    const client = inProcessClient();
    await client.addFiles([npy('x.npy', [M, N], X), npy('xt.npy', [N, M], XT)]);
    const refused = client.compare({ a: 'x.npy', b: 'xt.npy', layouts: [null, 'datapoints-first'], options: state().options });
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(new RegExp(`x\\.npy: has ${M} datapoints but xt\\.npy has ${N}`));
  });

  it('bad files give one line each and never remove what was loaded', async () => {
    const client = inProcessClient();
    await client.addFiles([npy('x.npy', [M, N], X)]);
    const whole = encodeNpy([M, N], X);
    const res = await client.addFiles([
      new File([whole.slice(0, 100)], 'cut.npy'),
      new File(['hello'], 'notes.txt'),
      new File([whole.slice(0, 100)], 'x.npy'), // a broken copy of a loaded file keeps the good one
      npy('y.npy', [M, 6], Y),
    ]);
    expect(res.arrays.map((a) => a.name)).toEqual(['x.npy', 'y.npy']);
    expect(res.added).toEqual(['y.npy']);
    expect(res.errors).toHaveLength(3);
    expect(res.errors[0]).toMatch(/^cut\.npy: /);
    expect(res.errors[1]).toBe('notes.txt: not a .npy, .npz, .safetensors, .pt, .pth, .ckpt, .pkl, .pickle, .p, .h5, .hdf5, .hdf or .he5 file');
    expect(res.errors[2]).toMatch(/^x\.npy: /);
    for (const e of res.errors) expect(e).not.toContain('\n');
  });

  it('dropping a file again replaces the arrays it held', async () => {
    const client = inProcessClient();
    await client.addFiles([new File([zipSync({ 'a.npy': encodeNpy([M, 2], randn(3, M * 2)), 'b.npy': encodeNpy([M, 2], randn(4, M * 2)) })], 'z.npz')]);
    const res = await client.addFiles([new File([zipSync({ 'c.npy': encodeNpy([M, 2], randn(3, M * 2)) })], 'z.npz')]);
    expect(res.arrays.map((a) => a.name)).toEqual(['z.npz:c']);
    const removed = await client.removeArrays(['z.npz:c']);
    expect(removed.arrays).toEqual([]);
  });

  it('a compare replaced before it started is superseded; the newest one answers', async () => {
    const client = inProcessClient();
    await client.addFiles([npy('x.npy', [M, N], X), npy('y.npy', [M, 6], Y)]);
    const options = state().options;
    const first = client.compare({ a: 'x.npy', b: 'y.npy', layouts: [null, null], options });
    const second = client.compare({ a: 'x.npy', b: 'x.npy', layouts: [null, null], options });
    await expect(first).rejects.toBeInstanceOf(SupersededError);
    expect((await second).similarity).toBeCloseTo(1, 9);
  });

  it('an unknown id is an InputError naming it', async () => {
    const client = inProcessClient();
    await expect(client.compare({ a: 'gone.npy', b: 'gone.npy', layouts: [null, null], options: state().options })).rejects.toThrow(
      /^gone\.npy: is no longer loaded/,
    );
  });
});

describe('store over the in-process worker', () => {
  beforeEach(() => {
    resetAppState();
    setAnalysisClient(inProcessClient());
  });

  it('drop two files → SVCCA in (0, 1]; same array twice → 1; metrics and flips recompute', async () => {
    await addFiles([npy('x.npy', [M, N], X), npy('y.npy', [M, 6], Y)]);
    await settled();
    expect(state().status).toBe('done');
    const sim = state().result!.similarity;
    expect(sim).toBeGreaterThan(0);
    expect(sim).toBeLessThanOrEqual(1);
    expect(state().result!.spectra).not.toBeNull();

    selectArray('b', 'x.npy');
    await settled();
    expect(state().result!.similarity).toBeCloseTo(1, 9);

    setOptions({ metric: 'cka' });
    await settled();
    expect(state().result!.metric).toBe('cka');
    expect(state().result!.similarity).toBeCloseTo(1, 9);

    flipLayout('x.npy'); // now X is read as 200 neurons × 8 datapoints on both sides
    await settled();
    expect(state().status).toBe('done');
    expect(state().result!.conventions.layout).toEqual(['neurons-first', 'neurons-first']);
    expect(state().result!.datapoints).toBe(N);
  });

  it('a bad file shows its error and keeps the result', async () => {
    await addFiles([npy('x.npy', [M, N], X), npy('y.npy', [M, 6], Y)]);
    await settled();
    const before = state().result!.similarity;
    await addFiles([new File([new Uint8Array([1, 2, 3])], 'bad.npy')]);
    await settled();
    expect(state().loadErrors).toHaveLength(1);
    expect(state().loadErrors[0]).toMatch(/^bad\.npy: /);
    expect(state().arrays).toHaveLength(2);
    expect(state().result!.similarity).toBe(before);
  });
});

describe('bundles through the worker (real readers, real engine)', () => {
  const M2 = 120;
  /** layer l at step s: a noisy copy of a shared signal, less noisy later. */
  const layer = (l: number, s: number) => {
    const base = randn(50 + l, M2 * 6);
    const noise = randn(500 + 10 * l + s, M2 * 6);
    const w = s === 2 ? 0 : 1 / (s + 1);
    return Float64Array.from(base, (v, k) => v + w * noise[k]);
  };
  const folder = () => {
    const files: { path: string; file: File }[] = [];
    for (const s of [0, 1, 2])
      for (const [l, name] of ['a', 'b'].entries()) files.push({ path: `run/step_${s}/${name}.npy`, file: npy(`${name}.npy`, [M2, 6], layer(l, s)) });
    files.push({
      path: 'run/labels.npy',
      file: npy(
        'labels.npy',
        [M2],
        Float64Array.from({ length: M2 }, (_, i) => i % 3),
      ),
    });
    return files;
  };

  it('reads a folder as a bundle; a bad file is reported by name and left out', async () => {
    const client = inProcessClient();
    const files = [
      ...folder(),
      { path: 'run/step_1/broken.npz', file: new File([new Uint8Array([1, 2, 3, 4])], 'broken.npz') },
      { path: 'run/notes.txt', file: new File(['hi'], 'notes.txt') },
    ];
    const res = await client.addInput(files, 'run');
    expect(res.files).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors[0]).toMatch(/^run\/step_1\/broken\.npz: /);
    const info = res.bundle!;
    expect(info).toMatchObject({
      id: 'run',
      runs: [null],
      steps: [0, 1, 2],
      layers: ['a', 'b'],
      unmatched: ['run/notes.txt'],
      labels: { count: M2, classes: 3 },
    });
    expect(info.entries).toHaveLength(6);
    expect(info.bytes).toBe(6 * M2 * 6 * 8);
  });

  it('files that form no bundle are loose arrays', async () => {
    const client = inProcessClient();
    const res = await client.addInput(
      [
        { path: 'x.npy', file: npy('x.npy', [M, N], X) },
        { path: 'y.npy', file: npy('y.npy', [M, 6], Y) },
      ],
      '2 files',
    );
    expect(res.bundle).toBeNull();
    expect(res.files!.arrays.map((a) => a.name)).toEqual(['x.npy', 'y.npy']);
  });

  it('a truncated .npy is named as soon as the bundle is read', async () => {
    const client = inProcessClient();
    const files = folder();
    const whole = encodeNpy([M2, 6], layer(0, 1));
    files[2] = { path: 'run/step_1/a.npy', file: new File([whole.slice(0, 300)], 'a.npy') };
    const res = await client.addInput(files, 'run');
    expect(res.bundle).not.toBeNull();
    expect(res.errors).toEqual([expect.stringMatching(/^run\/step_1\/a\.npy: data is truncated/)]);
  });

  it('a dynamics job streams each checkpoint, ends with the engine’s result, and matches the drill-down', async () => {
    const client = inProcessClient();
    await client.addInput(folder(), 'run');
    const partials: number[] = [];
    const options = { ...state().options };
    const res = await client.dynamics({ bundle: 'run', run: null, reference: 'last', dropped: [], options }, { onPartial: (p) => partials.push(p.t) });
    expect(partials).toEqual([0, 1, 2]);
    expect(res.result.steps).toEqual([0, 1, 2]);
    expect(res.result.values[2][0][0]).toBeCloseTo(1, 9);
    expect(res.kept[0][0][1]![0]).toBeGreaterThan(0);
    expect(res.backend).toMatch(/^CPU \(float64\)/);
    const pair = await client.pair({
      a: { bundle: 'run', run: null, step: 0, layer: 'a' },
      b: { bundle: 'run', run: null, step: 2, layer: 'b' },
      scope: 'dynamics',
      dropped: { a: [], b: [] },
      options,
      directions: 2,
    });
    expect(pair.result.similarity).toBeCloseTo(res.result.values[0][0][1]!, 12);
    expect(pair.result.kept).toEqual(res.kept[0][0][1]);
    expect(pair.result.directions!.x).toHaveLength(2);
    expect(pair.result.directions!.x[0]).toHaveLength(M2);
    expect(pair.labels).toHaveLength(M2);
    expect(pair.names).toEqual(['run/step_0/a.npy', 'run/step_2/b.npy']);
  });

  it('leaving a layer out and a cross job of the bundle with itself', async () => {
    const client = inProcessClient();
    await client.addInput(folder(), 'run');
    const options = { ...state().options };
    const dyn = await client.dynamics({ bundle: 'run', run: null, reference: 'last', dropped: ['a'], options });
    expect(dyn.result.layers).toEqual(['b']);
    const cross = await client.cross({ a: { bundle: 'run', run: null, dropped: [] }, b: { bundle: 'run', run: null, dropped: ['b'] }, step: null, options });
    expect(cross.result.step).toBe(2);
    expect(cross.result.layersA).toEqual(['a', 'b']);
    expect(cross.result.layersB).toEqual(['a']);
    expect(cross.result.values[0][0]).toBeCloseTo(1, 9);
    expect(cross.result.baseline).toBeUndefined();
    // The across-runs job passes the chance level it is asked for to the engine (the diagonal: A's i × B's i).
    const chance = await client.cross({
      a: { bundle: 'run', run: null, dropped: [] },
      b: { bundle: 'run', run: null, dropped: [] },
      step: null,
      options,
      baseline: { permutations: 5, seed: 3, cells: 'diagonal', null: 'auto' },
    });
    expect(chance.result.baseline![0][0]).toMatchObject({ permutations: 5, seed: 3 });
    expect(chance.result.baseline![0][0]!.mean).toBeLessThan(chance.result.values[0][0]!);
    expect(chance.result.baseline![0][1]).toBeNull();
  });

  it('cancelling a job rejects it with an AbortError, and the worker keeps answering', async () => {
    const client = inProcessClient();
    await client.addInput(folder(), 'run');
    const controller = new AbortController();
    const options = { ...state().options };
    const job = client.dynamics(
      { bundle: 'run', run: null, reference: 'last', dropped: [], options },
      { signal: controller.signal, onPartial: () => controller.abort() },
    );
    await expect(job).rejects.toMatchObject({ name: 'AbortError' });
    const again = await client.dynamics({ bundle: 'run', run: null, reference: 'last', dropped: [], options });
    expect(again.result.values).toHaveLength(3);
  });

  it('an unknown bundle and an unavailable backend are one-line input errors', async () => {
    const client = inProcessClient();
    const options = { ...state().options };
    await expect(client.dynamics({ bundle: 'gone', run: null, reference: 'last', dropped: [], options })).rejects.toThrow(/^gone: is no longer loaded/);
    await client.addInput(folder(), 'run');
    await expect(client.dynamics({ bundle: 'run', run: null, reference: 'last', dropped: [], options: { ...options, backend: 'webgpu' } })).rejects.toThrow(
      /^Backend: /,
    );
  });
});
