// The torch.save, pickle and HDF5 readers registered in openArrays (by extension, else by their
// first bytes), and what readInput builds on them: bundles from a dict-of-dicts checkpoint, from
// flat "<run>/step_<N>/<layer>" keys, from HDF5 step groups and from step_<N>.pt files; loose
// arrays; closing what was opened. Fixtures: scripts/make_format_fixtures.py (real torch, numpy, h5py).
//
// Shape convention: arrays as stored (datapoints first in these fixtures), C order.

import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { openArrays, sniffFormat } from '../../src/io/arrays';
import { readInput } from '../../src/io/bundle';
import { encodeNpy } from '../../src/io/npy';
import { expectedNames, expectRecorded, expectRefused, formatBlob } from './formatHelpers';

/** Every fixture of the formats, with the format openArrays must choose. */
const FIXTURES: [string, string][] = [
  ['torch/state_dict.pt', 'torch'],
  ['torch/nested.pt', 'torch'],
  ['torch/legacy.pt', 'torch'],
  ['torch/views.pt', 'torch'],
  ['torch/dtypes.pt', 'torch'],
  ['torch/checkpoint.pt', 'torch'],
  ['torch/tensor.pt', 'torch'],
  ['torch/parameters.pt', 'torch'],
  ['pickle/p0.pkl', 'pickle'],
  ['pickle/p2.pkl', 'pickle'],
  ['pickle/p4.pkl', 'pickle'],
  ['pickle/p5.pkl', 'pickle'],
  ['pickle/py2-p0.pkl', 'pickle'],
  ['pickle/py2-p2.pkl', 'pickle'],
  ['pickle/array.pkl', 'pickle'],
  ['pickle/list.pkl', 'pickle'],
  ['pickle/numpy2-names.pkl', 'pickle'],
  ['hdf5/datasets.h5', 'hdf5'],
];

describe('openArrays on the torch, pickle and HDF5 fixtures', () => {
  it.each(FIXTURES)('%s opens as %s, lists its arrays in order and reads each exactly', async (rel, format) => {
    const opened = await openArrays(formatBlob(rel), rel);
    try {
      expect(opened.format).toBe(format);
      expect(opened.entries.map((e) => e.name)).toEqual(expectedNames(rel));
      for (const entry of opened.entries) {
        const array = await opened.read(entry.name);
        expect([array.shape, array.dtype]).toEqual([entry.shape, entry.dtype]);
        expectRecorded(array, `${rel}:${entry.name}`);
      }
    } finally {
      opened.close();
    }
  });

  it.each([
    ['torch/nested.pt', 'torch'],
    ['torch/legacy.pt', 'torch'],
    ['pickle/p2.pkl', 'pickle'],
    ['hdf5/datasets.h5', 'hdf5'],
  ])('%s without its extension is recognised by its bytes as %s', async (rel, format) => {
    expect(await sniffFormat(formatBlob(rel), 'x')).toBe(format);
    const opened = await openArrays(formatBlob(rel), 'download');
    expect(opened.format).toBe(format);
    expect(opened.entries.map((e) => e.name)).toEqual(expectedNames(rel));
    opened.close();
  });

  it('a zip is torch.save when it holds <prefix>/data.pkl, else an .npz', async () => {
    expect(await sniffFormat(formatBlob('torch/state_dict.pt'), 'x')).toBe('torch');
    const npz = new Blob([zipSync({ 'a.npy': encodeNpy([2], Float32Array.from([1, 2])) })]);
    expect(await sniffFormat(npz, 'x')).toBe('npz');
    expect((await openArrays(npz, 'archive')).format).toBe('npz');
    expect(await sniffFormat(new Blob(['a,b\n1,2\n']), 'x')).toBeNull();
    await expectRefused(() => openArrays(new Blob(['a,b\n1,2\n']), 'table'), 'table', /^not a \.npy, .* or \.he5 file$/);
  });

  it('gives each reader’s refusal through openArrays, naming the file', async () => {
    await expectRefused(() => openArrays(formatBlob('torch/module.pt'), 'module.pt'), /^module\.pt/, /torch\.nn\.modules/);
    await expectRefused(() => openArrays(formatBlob('pickle/evil.pkl'), 'evil.pkl'), /^evil\.pkl/, /posix\.system|os\.system/);
    await expectRefused(() => openArrays(formatBlob('pickle/p2.pkl'), 'acts.h5'), 'acts.h5', /not an HDF5 file/);
  });

  it('HDF5 datasets that are not numbers are listed with the reason; close() frees the file and later reads say so', async () => {
    const opened = await openArrays(formatBlob('hdf5/datasets.h5'), 'd.h5');
    const listed = Object.fromEntries(opened.unreadable.map((u) => [u.name, [u.listOnly, u.error.message]]));
    expect(listed.text).toEqual([true, 'd.h5:text: not read: string data, not numbers']);
    expect(listed.alias?.[1]).toMatch(/soft link to \/top/);
    opened.close();
    opened.close(); // idempotent
    await expectRefused(() => opened.read('top'), 'd.h5:top', /closed/);
  });
});

describe('readInput on torch, pickle and HDF5 bundles', () => {
  const layers = ['conv1', 'layer1.0.fc'];

  it.each(['bundles/steps.pt', 'bundles/steps.pkl'])('%s: a dict of step_<N> dicts is a bundle; nested keys name the layer with dots', async (rel) => {
    const input = await readInput(rel, [{ path: rel, blob: formatBlob(rel) }]);
    const { bundle } = input;
    expect([bundle.runs, bundle.steps, bundle.layers]).toEqual([[null], [0, 10, 20], layers]);
    expect(bundle.entries[1].source).toBe(`${rel}:step_0.layer1.0.fc`);
    expect(bundle.unmatched).toEqual([`${rel}:note`]);
    expect(input.loose.map((l) => l.source)).toEqual([`${rel}:note`]);
    expect(Array.from(bundle.labels!.data)).toEqual(Array.from({ length: 48 }, (_, i) => i % 4));
    const fc10 = bundle.entries.find((e) => e.step === 10 && e.layer === 'layer1.0.fc')!;
    expect(fc10.shape).toEqual([48, 6]);
    const array = await fc10.load();
    expectRecorded({ ...array, dtype: 'torch.float32' }, 'bundles/steps.pt:step_10.layer1.0.fc');
    input.close();
  });

  it('an HDF5 file with groups /step_<N>/<layer> is a bundle; a string dataset is listed, not refused', async () => {
    const input = await readInput('steps.h5', [{ path: 'steps.h5', blob: formatBlob('bundles/steps.h5') }]);
    const { bundle } = input;
    expect([bundle.runs, bundle.steps]).toEqual([[null], [0, 10, 20]]);
    expect([...bundle.layers].sort()).toEqual(layers);
    expect(bundle.unmatched).toEqual(['steps.h5:notes']);
    expect(input.unreadable).toEqual(['steps.h5:notes: not read: string data, not numbers']);
    expect(bundle.labels!.data.length).toBe(48);
    const conv = bundle.entries.find((e) => e.step === 20 && e.layer === 'conv1')!;
    expect(conv.source).toBe('steps.h5:step_20/conv1');
    expectRecorded({ ...(await conv.load()), dtype: 'torch.float32' }, 'bundles/steps.pt:step_20.conv1');
    input.close();
    await expectRefused(() => conv.load(), 'steps.h5:step_20/conv1', /closed/);
  });

  it('flat "<run>/step_<N>/<layer>" keys give runs; a step_<N>.pt file holds the layers of that step', async () => {
    const runs = await readInput('runs.pt', [{ path: 'runs.pt', blob: formatBlob('bundles/runs.pt') }]);
    expect([runs.bundle.runs, runs.bundle.steps, runs.bundle.layers]).toEqual([['seedA', 'seedB'], [0, 5], ['fc']]);
    const folder = await readInput('ckpts', [
      { path: 'ckpts/step_30.pt', blob: formatBlob('bundles/step_30.pt') },
      { path: 'ckpts/step_40.pt', blob: formatBlob('bundles/step_30.pt') },
    ]);
    expect([folder.bundle.steps, folder.bundle.layers]).toEqual([
      [30, 40],
      ['conv1', 'fc'],
    ]);
    expect(folder.bundle.entries[0].source).toBe('ckpts/step_30.pt:conv1');
  });

  it('two .pt files of the same steps and layers are one run each, named after the file', async () => {
    const { bundle } = await readInput('pick', [
      { path: 'seed1.pt', blob: formatBlob('bundles/steps.pt') },
      { path: 'seed2.pth', blob: formatBlob('bundles/steps.pt') },
    ]);
    expect([bundle.runs, bundle.steps, bundle.layers]).toEqual([['seed1', 'seed2'], [0, 10, 20], layers]);
  });

  it('a torch state_dict without step keys is loose arrays', async () => {
    const { bundle, loose } = await readInput('sd.pt', [{ path: 'sd.pt', blob: formatBlob('torch/state_dict.pt') }]);
    expect(bundle.entries).toEqual([]);
    expect(loose.map((l) => l.source)).toEqual(expectedNames('torch/state_dict.pt').map((n) => `sd.pt:${n}`));
  });

  it('a file refused among others closes what was opened before it; close() releases the rest', async () => {
    // In Node the HDF5 reader copies the file into h5wasm's in-memory file system as /svcca-lens-<n>.h5
    // until close(): what is left there is what was not released.
    const h5wasm = await import('h5wasm');
    await h5wasm.ready;
    const held = () => h5wasm.FS!.readdir('/').filter((name: string) => name.startsWith('svcca-lens-'));
    const before = held().length;
    const h5 = formatBlob('bundles/steps.h5');
    await expectRefused(
      () =>
        readInput('pick', [
          { path: 'a.h5', blob: h5 },
          { path: 'b.pt', blob: formatBlob('torch/module.pt') },
        ]),
      /^b\.pt/,
      /torch\.nn\.modules/,
    );
    expect(held().length).toBe(before);
    const input = await readInput('pick', [
      { path: 'a.h5', blob: h5 },
      { path: 'b.h5', blob: h5 },
    ]);
    expect(held().length).toBe(before + 2);
    input.close();
    expect(held().length).toBe(before);
  });
});

describe('readInput: files named otherwise', () => {
  it('a file without an array extension is read by its bytes; one that only looks like a format is listed, not refused', async () => {
    const bytes = formatBlob('bundles/step_30.pt');
    const fake = new Blob([Uint8Array.from([0x80, 0x04, 0x95, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]);
    const input = await readInput('drop', [
      { path: 'drop/step_30.ckpt', blob: bytes },
      { path: 'drop/step_40', blob: bytes },
      { path: 'drop/cache.bin', blob: fake },
      { path: 'drop/notes.txt', blob: new Blob(['hello']) },
    ]);
    expect([input.bundle.steps, input.bundle.layers]).toEqual([
      [30, 40],
      ['conv1', 'fc'],
    ]);
    expect(input.bundle.unmatched).toEqual(['drop/cache.bin', 'drop/notes.txt']);
    expect(input.unreadable).toHaveLength(1);
    expect(input.unreadable[0]).toMatch(/^drop\/cache\.bin: /);
  });
});
