// The registry description of the PyTorch / pickle / HDF5 readers: extensions, magic bytes, openers.
// Shape convention: not applicable (only which reader claims which file).

import { describe, expect, it } from 'vitest';
import { EXTRA_FORMATS } from '../../src/io/extraFormats';
import { formatBlob, formatBytes } from './formatHelpers';

const byName = (name: string) => EXTRA_FORMATS.find((f) => f.name.startsWith(name))!;

describe('EXTRA_FORMATS', () => {
  it.each([
    ['torch/legacy.pt', 'PyTorch'],
    ['pickle/p2.pkl', 'Python pickle'],
    ['pickle/p5.pkl', 'Python pickle'],
    ['hdf5/datasets.h5', 'HDF5'],
  ])('%s is recognised by its first bytes as %s, and by no other format', (rel, name) => {
    const head = formatBytes(rel).subarray(0, 16);
    expect(EXTRA_FORMATS.filter((f) => f.matches(head)).map((f) => f.name)).toEqual([byName(name).name]);
  });

  it('a zip (torch.save, .npz) and a protocol 0 pickle are left to their extension', () => {
    for (const rel of ['torch/nested.pt', 'pickle/p0.pkl']) {
      expect(EXTRA_FORMATS.filter((f) => f.matches(formatBytes(rel).subarray(0, 16)))).toEqual([]);
    }
    expect(byName('PyTorch').extensions).toContain('.pt');
    expect(byName('Python pickle').extensions).toContain('.pkl');
  });

  it.each([
    ['torch/nested.pt', 'PyTorch'],
    ['pickle/p0.pkl', 'Python pickle'],
    ['hdf5/datasets.h5', 'HDF5'],
  ])('%s opens through its %s opener', async (rel, name) => {
    const file = await byName(name).open(formatBlob(rel), rel);
    expect(file.arrays.length).toBeGreaterThan(0);
    expect((await file.read(file.arrays[0].name)).shape).toEqual(file.arrays[0].shape);
    file.close();
  });
});
