// Seeded byte-level fuzzing of every reader through the one interface the app and the CLI use
// (openArrays): a few hundred mutations of a committed fixture per format (bit flips, overwrites,
// cut-outs, insertions, copied ranges, truncations; see fuzzReader). Each must end in an array read
// or an InputError whose message is one clean line (no raw control character, no NaN, undefined or
// [object Object]); a file cut short never reads whole. Separately: a zip member whose bytes no
// longer match its CRC is never read as data (npz and torch.save archives).
//
// Reproducing a failure: the error names the seed, the case and the mutation kind.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArrayFile } from '../../src/io/arrayFile';
import { openArrays } from '../../src/io/arrays';
import type { ArrayFormat } from '../../src/io/arrays';
import { InputError } from '../../src/io/types';
import { FORMAT_FIXTURES, fuzzReader } from './formatHelpers';
import { centralEntries, FIXTURES } from './helpers';

/** openArrays behind the ArrayFile shape fuzzReader drives (entries → arrays). */
function viaOpenArrays(name: string, format: ArrayFormat) {
  return async (blob: Blob): Promise<ArrayFile> => {
    const opened = await openArrays(blob, name, undefined, format);
    // A member listed as unreadable is refused with an InputError of its own: check it is clean too.
    for (const { error } of opened.unreadable) expect(error).toBeInstanceOf(InputError);
    return { arrays: opened.entries, read: (entry) => opened.read(entry), close: () => opened.close() };
  };
}

const CASES: [string, string, string, ArrayFormat, number, number][] = [
  // [label, fixture folder, file, format, seed, mutations]
  ['npy (C order)', FIXTURES, 'npy/f4_le.npy', 'npy', 101, 300],
  ['npy (Fortran order, big-endian ints)', FIXTURES, 'npy/i2_be_fortran.npy', 'npy', 102, 300],
  ['npz (deflated members)', FIXTURES, 'npz/compressed.npz', 'npz', 103, 200],
  ['npz (stored members)', FIXTURES, 'npz/stored.npz', 'npz', 104, 300],
  ['npz (ZIP64)', FIXTURES, 'npz/zip64.npz', 'npz', 105, 200],
  ['safetensors (every dtype)', FIXTURES, 'safetensors/dtypes.safetensors', 'safetensors', 106, 300],
  ['torch.save (nested dict)', FORMAT_FIXTURES, 'torch/nested.pt', 'torch', 107, 200],
  ['pickle (protocol 4)', FORMAT_FIXTURES, 'pickle/p4.pkl', 'pickle', 108, 300],
  ['pickle (protocol 0, Python 2)', FORMAT_FIXTURES, 'pickle/py2-p0.pkl', 'pickle', 109, 200],
  ['hdf5', FORMAT_FIXTURES, 'hdf5/datasets.h5', 'hdf5', 110, 80],
];

describe('every reader fuzzed through openArrays', { timeout: 20_000 }, () => {
  it.each(CASES)('%s: only arrays or clean InputErrors, never a cut file read whole', async (_, folder, rel, format, seed, cases) => {
    const original = new Uint8Array(readFileSync(join(folder, rel)));
    const outcome = await fuzzReader(original, viaOpenArrays(`fuzz${rel.slice(rel.lastIndexOf('.'))}`, format), seed, cases);
    // The mutations must actually reach the checks (a fuzz test that refuses nothing proves nothing).
    expect(outcome.refused).toBeGreaterThan(cases / 10);
    for (const message of outcome.messages) expect(message.startsWith('fuzz.')).toBe(true);
  });
});

describe('a zip member whose bytes do not match its CRC is never read', () => {
  let originalValues = '';
  /** Opens `bytes` and reads every array listed: 'read' when all succeed and `member` was among them. */
  async function readAll(
    bytes: Uint8Array<ArrayBuffer>,
    name: string,
    format: ArrayFormat,
    member: string,
  ): Promise<'read' | 'same data' | 'listed as unreadable' | InputError> {
    try {
      const opened = await openArrays(new Blob([bytes]), name, undefined, format);
      const values = [];
      for (const entry of opened.entries) values.push(Array.from((await opened.read(entry.name)).data));
      opened.close();
      // A flipped padding bit after a deflate stream's last block changes no byte of the member.
      if (JSON.stringify(values) === originalValues) return 'same data';
      // An .npz member whose header no longer parses is not an array: listed with its reason, never read.
      return opened.unreadable.some((u) => `${u.name}.npy` === member) ? 'listed as unreadable' : 'read';
    } catch (error) {
      if (error instanceof InputError) return error;
      throw error;
    }
  }

  it.each([
    ['npz/stored.npz', FIXTURES, 'npz'],
    ['npz/compressed.npz', FIXTURES, 'npz'],
    ['torch/nested.pt', FORMAT_FIXTURES, 'torch'],
  ] as const)("%s: a bit flipped anywhere in any member's data is refused", async (rel, folder, format) => {
    const original = new Uint8Array(readFileSync(join(folder, rel)));
    const opened = await openArrays(new Blob([original]), `crc.${format === 'torch' ? 'pt' : 'npz'}`, undefined, format);
    const values = [];
    for (const entry of opened.entries) values.push(Array.from((await opened.read(entry.name)).data));
    originalValues = JSON.stringify(values);
    let flips = 0;
    const view = new DataView(original.buffer);
    // The members a reader needs (torch.save's version record is not read, so not checked).
    for (const entry of centralEntries(original).filter((e) => !e.name.endsWith('/version'))) {
      const compressedSize = view.getUint32(entry.offset + 20, true);
      // Every 7th byte of the member's data, and its last, one bit each (CRC-32 catches every one).
      const offsets = [...Array.from({ length: Math.ceil(compressedSize / 7) }, (_, k) => k * 7), compressedSize - 1];
      for (const offset of new Set(offsets.filter((o) => o >= 0))) {
        const bytes = Uint8Array.from(original);
        bytes[entry.dataOffset + offset] ^= 1 << (offset % 8);
        const outcome = await readAll(bytes, `crc.${format === 'torch' ? 'pt' : 'npz'}`, format, entry.name);
        expect(outcome, `${entry.name} byte ${offset}`).not.toBe('read');
        flips++;
      }
    }
    expect(flips).toBeGreaterThan(10);
  });
});
