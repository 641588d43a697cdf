// Zip structure as real writers leave it (fixtures by scripts/make_zip_fixtures.py, Python's
// zipfile, checked there with np.load): ZIP64 records as Python writes them for archives over
// 4 GiB, and member names in the encoding their writer used (UTF-8 flag, CP437, the Info-ZIP
// Unicode Path extra field, unflagged UTF-8).
// Shape convention: members come back as stored, C order; every array is 2 × 3 float32,
// arange(6) + 10·k for the k-th member.

import { describe, expect, it } from 'vitest';
import { openNpz } from '../../src/io/npz';
import { centralEntries, fixtureBlob, fixtureBytes } from './helpers';

const memberValues = (k: number) => Array.from({ length: 6 }, (_, i) => i + 10 * k);

async function expectMembers(rel: string, names: string[]): Promise<void> {
  const npz = await openNpz(fixtureBlob(`zip/${rel}`), rel);
  expect(npz.members.map((m) => m.name)).toEqual(names);
  for (const [k, name] of names.entries()) {
    const array = await npz.read(name);
    expect(array.shape).toEqual([2, 3]);
    expect(Array.from(array.data)).toEqual(memberValues(k));
  }
}

describe('ZIP64 as Python writes it', () => {
  it('reads an archive with ZIP64 local headers, central-directory fields and end records', async () => {
    const bytes = fixtureBytes('zip/zip64-python.npz');
    const text = new TextDecoder('latin1').decode(bytes);
    // What the fixture holds: the ZIP64 end record and its locator, and central entries whose
    // 32-bit sizes are 0xFFFFFFFF placeholders for the ZIP64 extra field's values.
    expect(text).toContain('PK\x06\x06');
    expect(text).toContain('PK\x06\x07');
    const view = new DataView(bytes.buffer);
    for (const entry of centralEntries(bytes)) {
      expect(view.getUint32(entry.offset + 20, true)).toBe(0xffffffff);
      expect(view.getUint32(entry.offset + 24, true)).toBe(0xffffffff);
    }
    await expectMembers('zip64-python.npz', ['a', 'b', 'c']);
    const npz = await openNpz(fixtureBlob('zip/zip64-python.npz'), 'zip64-python.npz');
    expect(await npz.header('c')).toEqual({ shape: [2, 3], dtype: '<f4', fortranOrder: false });
    // Sizes came from the ZIP64 extra fields (the 32-bit fields hold 0xFFFFFFFF).
    for (const member of npz.members) expect(member.uncompressedSize).toBe(128 + 24);
  });
});

describe('member names as their writers wrote them', () => {
  const names = ['café', 'ñandú/σ', 'plain'];

  it('UTF-8 with the UTF-8 flag (np.savez with non-ASCII keys)', async () => {
    await expectMembers('names-utf8.npz', names);
  });

  it('CP437 without the flag, as np.load reads them', async () => {
    await expectMembers('names-cp437.npz', names);
  });

  it('the Info-ZIP Unicode Path extra field when its CRC matches the stored name, CP437 when stale', async () => {
    // Stored names: 'cafe.npy' (ASCII) with a Unicode path 'café.npy'; 'ñandú/σ.npy' (CP437) with
    // a Unicode path whose CRC is of another name, so the stored name stands.
    await expectMembers('names-unicode-extra.npz', names);
  });

  it('UTF-8 bytes without the flag (Info-ZIP zip on Linux) read as UTF-8, not as CP437 mojibake', async () => {
    await expectMembers('names-raw-utf8.npz', names);
  });
});
