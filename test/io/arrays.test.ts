// One reader interface (openArrays) over .npy, .npz and .safetensors, and what readInput builds on
// it: one run per file for several .npz files of the same steps and layers, loose arrays, and the
// reader's own reasons for bad files.

import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ARRAY_EXTENSIONS, arrayStem, openArrays } from '../../src/io/arrays';
import { openBundle, readInput } from '../../src/io/bundle';
import { encodeNpy } from '../../src/io/npy';
import type { InputFile } from '../../src/io/types';
import { expectInputError } from './helpers';

const npy = (values: number[], shape = [values.length]) => encodeNpy(shape, Float32Array.from(values));
/** An .npz of step_<N>/<layer> members (no run prefix), values offset by `seed`. */
function seedNpz(path: string, seed: number, steps = [0, 10], layers = ['conv1', 'fc']): InputFile {
  const members: Record<string, Uint8Array> = {};
  for (const s of steps) for (const l of layers) members[`step_${s}/${l}.npy`] = npy([seed, s, l.length]);
  return { path, blob: new Blob([zipSync(members)]) };
}

function safetensors(tensors: Record<string, number[]>): Blob {
  let offset = 0;
  const header: Record<string, unknown> = {};
  for (const [name, values] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: [values.length], data_offsets: [offset, offset + 4 * values.length] };
    offset += 4 * values.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(new Uint8Array(Float32Array.from(Object.values(tensors).flat()).buffer), 8 + json.length);
  return new Blob([out]);
}

describe('openArrays', () => {
  it('lists the arrays of each format from their headers and reads one on demand', async () => {
    const one = await openArrays(new Blob([npy([1, 2, 3, 4], [2, 2])]), 'runs/acts.npy');
    expect(one.format).toBe('npy');
    expect(one.entries).toEqual([{ name: 'acts', shape: [2, 2], dtype: '<f4' }]);
    expect(Array.from((await one.read('acts')).data)).toEqual([1, 2, 3, 4]);

    const zip = await openArrays(new Blob([zipSync({ 'a.npy': npy([1]), 'b/c.npy': npy([2, 3]), 'manifest.json': new TextEncoder().encode('{}') })]), 'x.NPZ');
    expect(zip.entries).toEqual([
      { name: 'a', shape: [1], dtype: '<f4' },
      { name: 'b/c', shape: [2], dtype: '<f4' },
    ]);
    expect(zip.others).toEqual(['manifest.json']);
    expect(await zip.readText('manifest.json')).toBe('{}');

    const st = await openArrays(safetensors({ 'h.0': [1, 2], 'h.1': [3] }), 'model.safetensors');
    expect(st.entries.map((e) => [e.name, e.shape])).toEqual([
      ['h.0', [2]],
      ['h.1', [1]],
    ]);
    expect(Array.from((await st.read('h.1')).data)).toEqual([3]);
  });

  it('gives the reader’s reason for a bad file, and refuses other extensions by name', async () => {
    await expectInputError(() => openArrays(new Blob(['my notes']), 'notes.npy'), 'notes.npy', /^not a \.npy file \(it does not start with "\\x93NUMPY"\)$/);
    await expectInputError(() => openArrays(new Blob([]), 'empty.npy'), 'empty.npy', /^file is empty$/);
    await expectInputError(() => openArrays(new Blob(['PK nope']), 'bad.npz'), 'bad.npz', /zip/);
    await expectInputError(
      () => openArrays(new Blob(['x']), 'table.csv'),
      'table.csv',
      /^not a \.npy, \.npz, \.safetensors, \.pt, \.pth, \.ckpt, \.pkl, \.pickle, \.p, \.h5, \.hdf5, \.hdf or \.he5 file$/,
    );
  });

  it('derives the accepted extensions and stems from the readers', () => {
    expect(ARRAY_EXTENSIONS).toEqual(['.npy', '.npz', '.safetensors', '.pt', '.pth', '.ckpt', '.pkl', '.pickle', '.p', '.h5', '.hdf5', '.hdf', '.he5']);
    expect(arrayStem('runs/ckpt.PTH')).toBe('ckpt');
    expect(arrayStem('acts.hdf5')).toBe('acts');
    expect(arrayStem('runs/seed1/runB_final.npz')).toBe('runB_final');
    expect(arrayStem('model.safetensors')).toBe('model');
  });
});

describe('readInput: files as researchers have them', () => {
  it('several .npz of the same steps and layers without run prefixes: one run per file, named after it', async () => {
    const labels: InputFile = { path: 'labels.npy', blob: new Blob([npy([0, 1, 1])]) };
    const { bundle, loose } = await readInput('pick', [seedNpz('runA.npz', 1), seedNpz('runB_final.npz', 2), labels]);
    expect(bundle.runs).toEqual(['runA', 'runB_final']);
    expect(bundle.steps).toEqual([0, 10]);
    expect(bundle.layers).toEqual(['conv1', 'fc']);
    expect(bundle.entries).toHaveLength(8);
    expect(bundle.entries.find((e) => e.run === 'runB_final' && e.step === 10 && e.layer === 'fc')!.source).toBe('runB_final.npz:step_10/fc');
    expect(Array.from((await bundle.entries.find((e) => e.run === 'runB_final')!.load()).data)[0]).toBe(2);
    expect(Array.from(bundle.labels!.data)).toEqual([0, 1, 1]);
    expect(loose).toEqual([]);
  });

  it('two files with the same stem in different folders: the runs keep their folders', async () => {
    const { bundle } = await readInput('pick', [seedNpz('pick/seed1/acts.npz', 1), seedNpz('pick/seed2/acts.npz', 2)]);
    expect(bundle.runs).toEqual(['seed1/acts', 'seed2/acts']);
  });

  it('a seed file without run prefixes beside a file of several runs is a run named after it, not a run without a name', async () => {
    // Two seeds the exporter wrote together, a third saved on its own (the researcher pass of 2026-12-06:
    // the app listed its run as "null" and `dynamics --run seed2` found no such run).
    const members: Record<string, Uint8Array> = {};
    for (const run of ['seed0', 'seed1'])
      for (const s of [0, 10]) for (const l of ['conv1', 'fc']) members[`${run}/step_${s}/${l}.npy`] = npy([Number(run.at(-1)), s, l.length]);
    const together: InputFile = { path: 'two-seeds.npz', blob: new Blob([zipSync(members)]) };
    const { bundle } = await readInput('pick', [together, seedNpz('seed2.npz', 2)]);
    expect(bundle.runs).toEqual(['seed0', 'seed1', 'seed2']);
    expect(bundle.entries).toHaveLength(12);
    expect(bundle.entries.find((e) => e.run === 'seed2' && e.step === 10 && e.layer === 'fc')!.source).toBe('seed2.npz:step_10/fc');
    expect(bundle.entries.find((e) => e.run === 'seed1' && e.step === 0 && e.layer === 'conv1')!.source).toBe('two-seeds.npz:seed1/step_0/conv1');
    // A lone file named like one of the runs is that run twice: refused, naming both arrays.
    await expectInputError(
      () => readInput('pick', [together, seedNpz('seed1.npz', 2)]),
      'pick',
      /two-seeds\.npz:seed1\/step_0\/conv1 and seed1\.npz:step_0\/conv1 are both run seed1, step 0, layer conv1/,
    );
  });

  it('files with disjoint checkpoints are parts of one run', async () => {
    const { bundle } = await readInput('parts', [seedNpz('early.npz', 1, [0, 10]), seedNpz('late.npz', 1, [20, 30])]);
    expect(bundle.runs).toEqual([null]);
    expect(bundle.steps).toEqual([0, 10, 20, 30]);
  });

  it('a real conflict (the same run, step and layer twice) says what to do', async () => {
    const member = { 'a/step_1/x.npy': npy([1]) };
    const files = [
      { path: 'one.npz', blob: new Blob([zipSync(member)]) },
      { path: 'two.npz', blob: new Blob([zipSync(member)]) },
    ];
    await expectInputError(
      () => readInput('pick', files),
      'pick',
      /one\.npz:a\/step_1\/x and two\.npz:a\/step_1\/x are both run a, step 1, layer x: each array must appear once; open the files one at a time, or name their members <run>\/step_<N>\/<layer>/,
    );
  });

  it('the same labels in every file are one set; different ones are refused', async () => {
    const withLabels = (path: string, values: number[]) => ({ path, blob: new Blob([zipSync({ 'step_0/x.npy': npy([5, 6]), 'labels.npy': npy(values) })]) });
    const { bundle } = await readInput('pick', [withLabels('a.npz', [0, 1]), withLabels('b.npz', [0, 1])]);
    expect(bundle.runs).toEqual(['a', 'b']);
    expect(Array.from(bundle.labels!.data)).toEqual([0, 1]);
    await expectInputError(
      () => readInput('pick', [withLabels('a.npz', [0, 1]), withLabels('b.npz', [1, 0])]),
      'pick',
      /two sets of labels: a\.npz:labels and b\.npz:labels, with different values/,
    );
  });

  it('a lone .npy or .safetensors is loose arrays (a bundle with no entries); openBundle still refuses it', async () => {
    const { bundle, loose } = await readInput('acts.npy', [{ path: 'acts.npy', blob: new Blob([npy([1, 2], [1, 2])]) }]);
    expect(bundle.entries).toEqual([]);
    expect(loose.map((l) => [l.source, l.file, l.shape])).toEqual([['acts.npy', 'acts.npy', [1, 2]]]);
    const st = await readInput('m', [{ path: 'model.safetensors', blob: safetensors({ 'h.0': [1, 2] }) }]);
    expect(st.loose.map((l) => l.source)).toEqual(['model.safetensors:h.0']);
    await expectInputError(() => openBundle('acts.npy', [{ path: 'acts.npy', blob: new Blob([npy([1])]) }]), 'acts.npy', /no arrays named/);
  });

  it('a file that cannot be read stops the read with the reader’s reason, naming it', async () => {
    await expectInputError(
      () => readInput('pick', [seedNpz('runA.npz', 1), { path: 'notes.npy', blob: new Blob(['hello']) }]),
      'notes.npy',
      /not a \.npy file/,
    );
  });

  it('stops between files when cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(readInput('pick', [seedNpz('runA.npz', 1)], undefined, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('readInput: members outside the bundle', () => {
  it('a member of a dtype we do not read (class names as strings) is listed, never a reason to refuse the file', async () => {
    const { npyWithHeader } = await import('./helpers');
    const names = npyWithHeader(`{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }`, new Uint8Array(40));
    const zip = zipSync({ 'step_0/x.npy': npy([1, 2]), 'class_names.npy': names });
    const { bundle, loose } = await readInput('b.npz', [{ path: 'b.npz', blob: new Blob([zip]) }]);
    expect(bundle.entries.map((e) => e.layer)).toEqual(['x']);
    expect(bundle.unmatched).toContain('b.npz:class_names');
    expect(loose.map((l) => l.source)).not.toContain('b.npz:class_names');
  });
});
