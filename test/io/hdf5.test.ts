// HDF5 (.h5) through h5wasm: datasets in groups, every numeric dtype h5py writes (big-endian and
// gzip-chunked included), scalar and empty datasets, non-numeric datasets skipped with a reason,
// and refusals of broken files. Fixture: scripts/make_format_fixtures.py (h5py 3.7).
// Shape convention: datasets come back with their own shape, C order.

import { describe, expect, it } from 'vitest';
import { openHdf5 } from '../../src/io/hdf5';
import { DEFAULT_LIMITS } from '../../src/io/types';
import { expectRefused, expectWholeFile, formatBlob, formatBytes, fuzzReader } from './formatHelpers';

const REL = 'hdf5/datasets.h5';

describe('openHdf5 on a file h5py wrote', () => {
  it('lists every numeric dataset by path and reads each exactly', async () => {
    const file = await openHdf5(formatBlob(REL), REL);
    try {
      await expectWholeFile(file, REL);
    } finally {
      file.close();
    }
  });

  it('gives shape and numpy-style dtype from metadata, and skips non-numeric datasets with the reason', async () => {
    const file = await openHdf5(formatBlob(REL), 'd.h5');
    try {
      expect(file.arrays.find((a) => a.name === 'model/conv1')).toEqual({ name: 'model/conv1', shape: [2, 3, 2, 2], dtype: '<f4' });
      expect(file.arrays.find((a) => a.name === 'big_endian')?.dtype).toBe('>f4');
      expect(file.arrays.find((a) => a.name === 'scalar')?.shape).toEqual([]);
      expect(file.skipped).toEqual([
        { name: 'alias', reason: 'a soft link to /top' },
        { name: 'model/elsewhere', reason: 'an external link to other.h5:/x (other files are not opened)' },
        { name: 'records', reason: 'compound data, not numbers' },
        { name: 'text', reason: 'string data, not numbers' },
      ]);
    } finally {
      file.close();
    }
  });

  it('opens many files one after another (each closed frees its copy)', async () => {
    for (let i = 0; i < 5; i++) {
      const file = await openHdf5(formatBlob(REL), `d${i}.h5`);
      expect((await file.read('top')).shape).toEqual([3, 4]);
      file.close();
      await expectRefused(() => file.read('top'), `d${i}.h5`, /was closed/);
    }
  });
});

describe('openHdf5 refuses', () => {
  it('a file without the HDF5 signature, before loading h5wasm', async () => {
    await expectRefused(() => openHdf5(new Blob(['not hdf5 at all']), 'x.h5'), 'x.h5', /not an HDF5 file/);
    await expectRefused(() => openHdf5(new Blob([]), 'x.h5'), 'x.h5', /file is empty/);
  });

  it("a truncated file, with HDF5's own reason", async () => {
    await expectRefused(
      () => openHdf5(new Blob([formatBytes(REL).subarray(0, 3000)]), 'x.h5'),
      'x.h5',
      /^HDF5 cannot read it: truncated file: eof = 3000, sblock->base_addr = 0, stored_eof = \d+$/,
    );
  });

  it('a dataset over the size limit, before reading it', async () => {
    await expectRefused(
      () => openHdf5(formatBlob(REL), 'x.h5', { ...DEFAULT_LIMITS, maxArrayBytes: 1000 }),
      'x.h5:compressed',
      /shape \(40, 30\) of <f4 needs 4.69 KiB, over the 1000 B limit/,
    );
  });

  it("a dataset compressed with a filter HDF5 does not build in (h5py's LZF), naming the cause", async () => {
    const file = await openHdf5(formatBlob('hdf5/lzf.h5'), 'lzf.h5');
    try {
      expect(file.arrays).toEqual([{ name: 'x', shape: [10, 10], dtype: '<f4' }]);
      await expectRefused(() => file.read('x'), 'lzf.h5:x', /compressed with a filter this HDF5 build does not include \(h5py's lzf, Blosc, …\)/);
    } finally {
      file.close();
    }
  });

  it('a dataset that is not there', async () => {
    const file = await openHdf5(formatBlob(REL), 'x.h5');
    try {
      await expectRefused(() => file.read('text'), 'x.h5', /has no dataset 'text' \(its numeric datasets: big_endian, bytes, compressed/);
    } finally {
      file.close();
    }
  });
});

describe('openHdf5 fuzzed', () => {
  it('250 mutations, only clean InputErrors', async () => {
    const outcome = await fuzzReader(formatBytes(REL), (blob) => openHdf5(blob, 'fuzz.h5'), 21, 250);
    expect(outcome.refused).toBeGreaterThan(0);
  });
});
