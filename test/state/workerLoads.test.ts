// Loads through the real worker core and readers: a user's load supersedes the demo's parse down in
// the worker, a cancelled load stops, a lone .npy is an array, and bad files carry the reader's reason.

import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { encodeNpy } from '../../src/io/npy';
import { WorkerClient } from '../../src/worker/client';
import type { WorkerPort } from '../../src/worker/client';
import type { InputFileRef, Request, Response } from '../../src/worker/protocol';
import { createWorkerCore } from '../../src/worker/workerCore';
import { realEngine } from '../../src/worker/engine';
import { formatBytes } from '../io/formatHelpers';

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

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, k) => Math.sin(seed * 13 + k * 0.7));
const npz = (name: string, seed: number, runs: (string | null)[] = [null]): InputFileRef => {
  const members: Record<string, Uint8Array> = {};
  for (const run of runs)
    for (const s of [0, 10])
      for (const l of ['a', 'b']) members[`${run ? `${run}/` : ''}step_${s}/${l}.npy`] = encodeNpy([20, 3], values(60, seed + s + l.length));
  return { path: name, file: new File([zipSync(members)], name) };
};

describe('loads in the worker', () => {
  it('a user’s load supersedes the demo queued before it: the demo stops, the user’s is read', async () => {
    const client = inProcessClient();
    const demo = client.addInput([npz('digits.npz', 1, ['x', 'y'])], 'digits.npz', { generation: 1, origin: 'demo' });
    const mine = client.addInput([npz('mine.npz', 2)], 'mine.npz', { generation: 2, origin: 'user' });
    await expect(demo).rejects.toMatchObject({ name: 'AbortError' });
    expect((await mine).bundle).toMatchObject({ id: 'mine.npz', runs: [null], steps: [0, 10] });
    // The demo was never kept: a job on it says it is not loaded.
    await expect(client.dynamics({ bundle: 'digits.npz', run: 'x', reference: 'last', dropped: [], options: DEFAULT_OPTIONS })).rejects.toThrow(
      /no longer loaded/,
    );
  });

  it('a user’s load never supersedes another user’s load', async () => {
    const client = inProcessClient();
    const first = client.addInput([npz('one.npz', 1)], 'one.npz', { generation: 1, origin: 'user' });
    const second = client.addInput([npz('two.npz', 2)], 'two.npz', { generation: 2, origin: 'user' });
    expect((await first).bundle?.id).toBe('one.npz');
    expect((await second).bundle?.id).toBe('two.npz');
  });

  it('a load cancelled while queued stops with an AbortError', async () => {
    const client = inProcessClient();
    const controller = new AbortController();
    const busy = client.addInput([npz('one.npz', 1)], 'one.npz', { generation: 1 });
    const queued = client.addInput([npz('link.npz', 2)], 'link.npz', { generation: 2, origin: 'url', signal: controller.signal });
    controller.abort();
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' });
    expect((await busy).bundle?.id).toBe('one.npz');
  });

  it('one .npz per seed and labels.npy picked together: one study, a run per file, with the labels', async () => {
    const client = inProcessClient();
    const labels = {
      path: 'labels.npy',
      file: new File(
        [
          encodeNpy(
            [20],
            Float32Array.from({ length: 20 }, (_, i) => i % 4),
          ),
        ],
        'labels.npy',
      ),
    };
    const res = await client.addInput([npz('runA.npz', 1), npz('runB_final.npz', 2), labels], 'runA.npz + runB_final.npz');
    expect(res.errors).toEqual([]);
    expect(res.bundle).toMatchObject({ runs: ['runA', 'runB_final'], steps: [0, 10], layers: ['a', 'b'], labels: { count: 20, classes: 4 } });
  });

  it('a pick with an unreadable file is named after the files that were read', async () => {
    const client = inProcessClient();
    const bad = { path: 'bad.npy', file: new File([new TextEncoder().encode('not numpy at all')], 'bad.npy') };
    const picked = [bad, npz('seed0.npz', 1), npz('seed1.npz', 2)];
    const res = await client.addInput(picked, 'bad.npy + seed0.npz + seed1.npz');
    expect(res.errors).toHaveLength(1);
    expect(res.errors[0]).toMatch(/^bad\.npy: /);
    expect(res.bundle).toMatchObject({ id: 'seed0.npz + seed1.npz', name: 'seed0.npz + seed1.npz', runs: ['seed0', 'seed1'] });
    // The same pick again: a second bundle of its own, not a silent replacement of the first.
    const again = await client.addInput(picked, 'bad.npy + seed0.npz + seed1.npz (2)');
    expect(again.bundle?.id).toBe('seed0.npz + seed1.npz (2)');
    // Nothing left out: the store's name stands (labels.npy never names a pick).
    const clean = await client.addInput([npz('seed0.npz', 1), npz('seed1.npz', 2)], 'seed0.npz + seed1.npz (3)');
    expect(clean.bundle?.id).toBe('seed0.npz + seed1.npz (3)');
  });

  it('loose .npy files picked beside a bundle: arrays to compare, and a truncated one is named with its reason', async () => {
    const client = inProcessClient();
    const loose = (name: string, bytes: Uint8Array<ArrayBuffer>): InputFileRef => ({ path: name, file: new File([bytes], name) });
    const whole = encodeNpy([20, 3], values(60, 5));
    const picked = [npz('seed0.npz', 1), npz('seed1.npz', 2), loose('probe.npy', whole), loose('cut.npy', whole.slice(0, 140))];
    const res = await client.addInput(picked, 'seed0.npz + seed1.npz + probe.npy + cut.npy');
    expect(res.bundle).toMatchObject({ runs: ['seed0', 'seed1'], steps: [0, 10] });
    expect(res.bundle!.unmatched).toEqual(['probe.npy', 'cut.npy']);
    expect(res.errors).toEqual([expect.stringMatching(/^cut\.npy: data is truncated: /)]);
    expect(res.files!.added).toEqual(['probe.npy']);
    expect(res.files!.arrays.map((a) => [a.name, a.shape])).toEqual([['probe.npy', [20, 3]]]);
    // A bundle alone offers nothing to compare.
    expect((await client.addInput([npz('alone.npz', 3)], 'alone.npz')).files).toBeNull();
  });

  it('a lone .npy is an array to compare; bad ones give the reader’s reason', async () => {
    const client = inProcessClient();
    const lone = await client.addInput([{ path: 'acts.npy', file: new File([encodeNpy([20, 3], values(60, 1))], 'acts.npy') }], 'acts.npy');
    expect(lone.errors).toEqual([]);
    expect(lone.bundle).toBeNull();
    expect(lone.files!.arrays.map((a) => [a.name, a.shape])).toEqual([['acts.npy', [20, 3]]]);

    const bad = await client.addInput(
      [
        { path: 'notes.npy', file: new File(['these are notes'], 'notes.npy') },
        { path: 'empty.npy', file: new File([], 'empty.npy') },
        { path: 'cut.npy', file: new File([encodeNpy([20, 3], values(60, 2)).slice(0, 140)], 'cut.npy') },
        { path: 'readme.txt', file: new File(['hi'], 'readme.txt') },
      ],
      'notes.npy + empty.npy + cut.npy',
    );
    expect(bad.errors).toEqual([
      'notes.npy: not a .npy file (it does not start with "\\x93NUMPY")',
      'empty.npy: file is empty',
      'readme.txt: not a .npy, .npz, .safetensors, .pt, .pth, .ckpt, .pkl, .pickle, .p, .h5, .hdf5, .hdf or .he5 file',
      expect.stringMatching(/^cut\.npy: data is truncated: /),
    ]);
    expect(bad.errors.join('\n')).not.toMatch(/no arrays named/);
    expect(bad.files!.arrays.map((a) => a.name)).toEqual(['acts.npy']);
  });

  it('an .npz of loose arrays with a string member: the member is named with its reason, the rest loads', async () => {
    const client = inProcessClient();
    const header = new TextEncoder().encode(`{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }`.padEnd(117, ' ') + '\n');
    const names = new Uint8Array(10 + header.length + 40);
    names.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
    names.set(header, 10);
    const zip = zipSync({ 'h1.npy': encodeNpy([20, 3], values(60, 1)), 'class_names.npy': names });
    const res = await client.addInput([{ path: 'acts.npz', file: new File([zip], 'acts.npz') }], 'acts.npz');
    expect(res.files!.arrays.map((a) => a.name)).toEqual(['acts.npz:h1']);
    expect(res.errors).toEqual([expect.stringMatching(/^acts\.npz:class_names: string dtype '<U5' is not supported/)]);
  });

  it('an HDF5 bundle keeps its file open until removed or replaced; arrays to compare close theirs once read', async () => {
    // In Node the HDF5 reader copies a file into h5wasm's in-memory file system (/svcca-lens-<n>.h5)
    // until close(): what is left there is what the worker still holds.
    const h5wasm = await import('h5wasm');
    await h5wasm.ready;
    const held = () => h5wasm.FS!.readdir('/').filter((name: string) => name.startsWith('svcca-lens-')).length;
    const before = held();
    const client = inProcessClient();
    const h5 = (name: string, rel: string): InputFileRef => ({ path: name, file: new File([formatBytes(rel)], name) });
    const first = await client.addInput([h5('steps.h5', 'bundles/steps.h5')], 'steps.h5');
    expect(first.bundle).toMatchObject({ id: 'steps.h5', steps: [0, 10, 20] });
    expect(held()).toBe(before + 1);
    // Computing reads from the open file.
    const result = await client.dynamics({ bundle: 'steps.h5', run: null, reference: 'last', dropped: [], options: { ...DEFAULT_OPTIONS, backend: 'cpu' } });
    expect(result.result.values).toHaveLength(3);
    // The same name loaded again replaces the bundle and closes the old file.
    await client.addInput([h5('steps.h5', 'bundles/steps.h5')], 'steps.h5');
    expect(held()).toBe(before + 1);
    expect(await client.removeBundle('steps.h5')).toEqual({ removed: true });
    expect(held()).toBe(before);
    // Loose arrays (a file of two datasets) are read at once, and their file closed.
    const loose = await client.addInput([h5('acts.h5', 'cross/acts.h5')], 'acts.h5');
    expect(loose.files?.added).toEqual(['acts.h5:model/conv1', 'acts.h5:model/fc']);
    expect(held()).toBe(before);
    const picked = await client.addFiles([new File([formatBytes('cross/acts.h5')], 'acts.h5')]);
    expect(picked.added).toEqual(['acts.h5:model/conv1', 'acts.h5:model/fc']);
    expect(held()).toBe(before);
  });

  it('labels that do not fit the bundle are a warning naming their file; the bundle still loads (issue 12)', async () => {
    const client = inProcessClient();
    const labels: InputFileRef = { path: 'run/labels.npy', file: new File([encodeNpy([19], new Float32Array(19))], 'labels.npy') };
    const layers = (['a', 'b'] as const).flatMap((l) =>
      [0, 10].map((s): InputFileRef => ({ path: `run/step_${s}/${l}.npy`, file: new File([encodeNpy([20, 3], values(60, s + l.length))], `${l}.npy`) })),
    );
    const result = await client.addInput([...layers, labels], 'run', { generation: 1, origin: 'user' });
    expect(result.bundle).toMatchObject({ id: 'run', steps: [0, 10], layers: ['a', 'b'], labels: null });
    // A warning of the bundle (shown in its preview), not a load error that would hold it back.
    expect(result.errors).toEqual([]);
    expect(result.bundle?.warnings).toEqual([
      'run/labels.npy: 19 labels for 20 datapoints; there must be one label per datapoint; the labels are left out (the arrays load without them)',
    ]);
  });

  it('names inside a file that look like paths are flagged and kept as names', async () => {
    const client = inProcessClient();
    const members = { 'step_0/../../x.npy': encodeNpy([20, 3], values(60, 1)), 'step_1/../../x.npy': encodeNpy([20, 3], values(60, 2)) };
    const result = await client.addInput([{ path: 'odd.npz', file: new File([zipSync(members)], 'odd.npz') }], 'odd.npz', { generation: 1, origin: 'user' });
    expect(result.bundle?.layers).toEqual(['../../x']);
    expect(result.errors).toEqual([]);
    expect(result.bundle?.warnings).toHaveLength(1);
    expect(result.bundle!.warnings![0]).toMatch(/^odd\.npz: 2 names inside look like paths leaving the file: 'step_0\/\.\.\/\.\.\/x' \(a '\.\.' segment\)/);
  });
});
