// Bundles: step_<N>/<layer> conventions in .npz, folders of .npy and step_<N>.safetensors files.
// Shape convention: entries report shapes as stored; load() returns arrays as stored, C order.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { listMissing, openBundle } from '../../src/io/bundle';
import { encodeNpy } from '../../src/io/npy';
import type { InputFile } from '../../src/io/types';
import { CountingBlob, expectArray, expectInputError, FIXTURES, fixtureBlob, npyWithHeader } from './helpers';

/** The files under a fixture folder as a browser drop gives them: "<folder>/<relative path>", sorted. */
function droppedFolder(rel: string): InputFile[] {
  const root = join(FIXTURES, rel);
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(join(root, p)).isFile())
    .map((p) => p.split(sep).join('/'))
    .sort()
    .map((p) => ({ path: `${basename(root)}/${p}`, blob: new Blob([new Uint8Array(readFileSync(join(root, p)))]) }));
}

const npyFile = (path: string, values = [1, 2, 3]): InputFile => ({ path, blob: new Blob([encodeNpy([values.length], Float32Array.from(values))]) });

describe('openBundle on an .npz of step_<N>/<layer> members', () => {
  it('finds steps (numerically), layers, labels, manifest and strays', async () => {
    const bundle = await openBundle('steps.npz', [{ path: 'steps.npz', blob: fixtureBlob('bundle/steps.npz') }]);
    expect(bundle.name).toBe('steps.npz');
    expect(bundle.runs).toEqual([null]);
    expect(bundle.steps).toEqual([0, 2, 10]);
    expect(bundle.layers).toEqual(['block1/conv', 'conv1', 'fc.out']);
    expect(bundle.entries.map((e) => e.source)).toEqual([
      'steps.npz:step_0/block1/conv',
      'steps.npz:step_0/conv1',
      'steps.npz:step_0/fc.out',
      'steps.npz:step_2/block1/conv',
      'steps.npz:step_2/conv1',
      'steps.npz:step_2/fc.out',
      'steps.npz:step_10/conv1',
      'steps.npz:step_10/fc.out',
    ]);
    expect(bundle.unmatched).toEqual(['steps.npz:stray']);
    expectArray(bundle.labels!, 'labels');
    expect(bundle.manifest).toEqual({ model: 'toy', datapoints: 6, note: 'written by scripts/make_io_fixtures.py' });
    for (const entry of bundle.entries) {
      expect(entry.run).toBeNull();
      expect(entry.shape).toEqual([6, 4]);
      expect(entry.dtype).toBe('<f4');
      expectArray(await entry.load(), entry.source);
    }
    expect(listMissing(bundle)).toEqual([{ run: null, step: 10, layer: 'block1/conv' }]);
  });

  it('finds runs in order of appearance in a deflated <run>/step_<N>/<layer> archive', async () => {
    const bundle = await openBundle('runs.npz', [{ path: 'runs.npz', blob: fixtureBlob('bundle/runs.npz') }]);
    expect(bundle.runs).toEqual(['runB', 'runA']);
    expect(bundle.steps).toEqual([1, 2]);
    expect(bundle.layers).toEqual(['l1', 'l2']);
    expect(bundle.entries.map((e) => `${e.run}/${e.step}/${e.layer}`)).toEqual([
      'runB/1/l1',
      'runB/1/l2',
      'runB/2/l1',
      'runB/2/l2',
      'runA/1/l1',
      'runA/1/l2',
      'runA/2/l1',
      'runA/2/l2',
    ]);
    for (const entry of bundle.entries) expectArray(await entry.load(), entry.source);
    expect(bundle.labels).toBeNull();
    expect(bundle.manifest).toBeNull();
    expect(listMissing(bundle)).toEqual([]);
  });

  it('reads only headers until an entry is loaded', async () => {
    const big = encodeNpy(
      [400, 600],
      new Float32Array(240_000).map((_, i) => (i * 7919) % 1009),
    );
    const zip = zipSync({ 'step_1/big.npy': [big, { level: 0 }], 'step_2/big.npy': [big, { level: 0 }] });
    const counter = { bytes: 0 };
    const bundle = await openBundle('big.npz', [{ path: 'big.npz', blob: new CountingBlob([zip], counter) }]);
    expect(bundle.entries.map((e) => e.shape)).toEqual([
      [400, 600],
      [400, 600],
    ]);
    expect(counter.bytes).toBeLessThan(zip.length / 5);
    expect((await bundle.entries[1].load()).data[239_999]).toBe((239_999 * 7919) % 1009);
  });
});

describe('openBundle on folders and several files', () => {
  it('reads a dropped folder of <run>/step_<N>/<layer>.npy', async () => {
    const files = droppedFolder('bundle/tree');
    expect(files.map((f) => f.path)).toContain('tree/runA/step_10/block1/conv.npy');
    const bundle = await openBundle('tree', files);
    expect(bundle.runs).toEqual(['runA', 'runB']);
    expect(bundle.steps).toEqual([1, 10]);
    expect(bundle.layers).toEqual(['block1/conv', 'conv1']);
    expect(bundle.entries).toHaveLength(8);
    expect(bundle.unmatched).toEqual(['tree/notes.txt']);
    expectArray(bundle.labels!, 'labels');
    expect(bundle.manifest).toMatchObject({ model: 'toy' });
    for (const entry of bundle.entries) expectArray(await entry.load(), `bundle/${entry.source}`);
    expect(bundle.entries[0].source).toBe('tree/runA/step_1/block1/conv.npy');
  });

  it('orders layers and runs by the order of the files given, steps numerically', async () => {
    const bundle = await openBundle('tree', droppedFolder('bundle/tree').reverse());
    expect(bundle.runs).toEqual(['runB', 'runA']);
    expect(bundle.layers).toEqual(['conv1', 'block1/conv']);
    expect(bundle.steps).toEqual([1, 10]);
  });

  it('reads step_<N>.safetensors files, one tensor per layer', async () => {
    const files = droppedFolder('bundle/st');
    expect(files.map((f) => f.path)).toEqual(['st/step_1.safetensors', 'st/step_10.safetensors', 'st/step_2.safetensors']);
    const bundle = await openBundle('st', files);
    expect(bundle.runs).toEqual([null]);
    expect(bundle.steps).toEqual([1, 2, 10]);
    expect(bundle.layers).toEqual(['encoder.layer.0', 'head']);
    expect(bundle.entries.map((e) => e.source).slice(-2)).toEqual(['st/step_10.safetensors:encoder.layer.0', 'st/step_10.safetensors:head']);
    for (const entry of bundle.entries) {
      expect(entry.dtype).toBe('F32');
      expectArray(await entry.load(), `st:step_${entry.step}/${entry.layer}`);
    }
  });

  it('takes runs from <run>/step_<N>.safetensors paths', async () => {
    const step1 = fixtureBlob('bundle/st/step_1.safetensors');
    const bundle = await openBundle('runs', [
      { path: 'a/step_1.safetensors', blob: step1 },
      { path: 'b/step_1.safetensors', blob: step1 },
    ]);
    expect(bundle.runs).toEqual(['a', 'b']);
  });

  it('keeps a shared step_<N> folder, normalises backslashes, and reads labels.npy', async () => {
    const bundle = await openBundle('step_3', [npyFile('step_3\\conv.npy'), npyFile('step_3\\fc.npy')]);
    expect(bundle.steps).toEqual([3]);
    expect(bundle.layers).toEqual(['conv', 'fc']);
    const withLabels = await openBundle('drop', [npyFile('step_3/conv.npy'), npyFile('labels.npy', [0, 1, 1])]);
    expect(Array.from(withLabels.labels!.data)).toEqual([0, 1, 1]);
    expect(withLabels.entries[0]).toMatchObject({ run: null, step: 3, layer: 'conv', source: 'step_3/conv.npy', shape: [3], dtype: '<f4' });
  });

  it('reads run names with several folders and layers with dots', async () => {
    const bundle = await openBundle('sweep', [npyFile('sweep/lr0.1/seed1/step_007/model.fc.npy')]);
    expect(bundle.entries[0]).toMatchObject({ run: 'lr0.1/seed1', step: 7, layer: 'model.fc' });
  });

  it('lists the holes of every run', async () => {
    const bundle = await openBundle('drop', [npyFile('a/step_1/x.npy'), npyFile('a/step_2/y.npy'), npyFile('b/step_2/x.npy')]);
    expect(listMissing(bundle)).toEqual([
      { run: 'a', step: 1, layer: 'y' },
      { run: 'a', step: 2, layer: 'x' },
      { run: 'b', step: 1, layer: 'x' },
      { run: 'b', step: 1, layer: 'y' },
      { run: 'b', step: 2, layer: 'y' },
    ]);
  });
});

describe('openBundle refuses', { timeout: 5000 }, () => {
  it('no files', async () => {
    await expectInputError(() => openBundle('empty', []), 'empty', /nothing to read/);
  });

  it('files that follow no convention, listing what was found', async () => {
    const files = [npyFile('drop/acts.npy'), { path: 'drop/notes.txt', blob: new Blob(['hi']) }, npyFile('drop/labels.npy')];
    await expectInputError(
      () => openBundle('drop', files),
      'drop',
      /no arrays named \[<run>\/\]step_<N>\/<layer> .* \(found: drop\/acts\.npy, drop\/notes\.txt, drop\/labels\.npy\)$/,
    );
  });

  it('a manifest that is not JSON', async () => {
    const files = [npyFile('d/step_1/x.npy'), { path: 'd/manifest.json', blob: new Blob(['{"model": ']) }];
    await expectInputError(() => openBundle('d', files), 'd/manifest.json', /is not valid JSON/);
  });

  it("one file per run, each with the Python exporter's manifest: one bundle, the manifests kept by file", async () => {
    // What export_checkpoints(..., run=seed) writes for every seed: runs/step/layer arrays and a manifest.json member.
    const seedFile = (run: string) => {
      const zip = zipSync({
        [`${run}/step_0/fc.npy`]: encodeNpy([2, 3], Float32Array.from([1, 2, 3, 4, 5, run === 'seed0' ? 6 : 7])),
        'manifest.json': new TextEncoder().encode(JSON.stringify({ runs: [run], writer: 'svcca_lens_export' })),
      });
      return { path: `${run}.npz`, blob: new Blob([zip]) };
    };
    const bundle = await openBundle('seeds', [seedFile('seed0'), seedFile('seed1')]);
    expect(bundle.runs).toEqual(['seed0', 'seed1']);
    expect(bundle.manifest).toEqual({
      'seed0.npz:manifest.json': { runs: ['seed0'], writer: 'svcca_lens_export' },
      'seed1.npz:manifest.json': { runs: ['seed1'], writer: 'svcca_lens_export' },
    });
  });

  it('the same entry twice', async () => {
    const zip = zipSync({ 'runA/step_1/conv1.npy': encodeNpy([1], new Float32Array([1])) });
    const files = [npyFile('d/runA/step_1/conv1.npy'), { path: 'd/more.npz', blob: new Blob([zip]) }];
    await expectInputError(
      () => openBundle('d', files),
      'd',
      /d\/runA\/step_1\/conv1\.npy and d\/more\.npz:runA\/step_1\/conv1 are both run runA, step 1, layer conv1/,
    );
  });

  it('two sets of labels', async () => {
    const zip = zipSync({ 'labels.npy': encodeNpy([1], new Float32Array([1])), 'step_1/x.npy': encodeNpy([1], new Float32Array([1])) });
    const files = [npyFile('d/labels.npy'), { path: 'd/b.npz', blob: new Blob([zip]) }];
    await expectInputError(() => openBundle('d', files), 'd', /two sets of labels: d\/labels\.npy and d\/b\.npz:labels/);
  });

  it('a member with an unreadable header, naming the member', async () => {
    const bad = npyWithHeader(`{'descr': '|O', 'fortran_order': False, 'shape': (2,), }`, new Uint8Array(16));
    const zip = zipSync({ 'step_1/ok.npy': encodeNpy([1], new Float32Array([1])), 'step_1/bad.npy': bad });
    await expectInputError(() => openBundle('b.npz', [{ path: 'b.npz', blob: new Blob([zip]) }]), 'b.npz:step_1/bad', /object dtype/);
  });
});
