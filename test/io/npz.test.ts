// .npz reader: numpy-written archives (stored, deflated, zip64), lazy reading, and bad archives.
// Shape convention: members come back as stored, C order.

import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/io/npy';
import { openNpz } from '../../src/io/npz';
import { DEFAULT_LIMITS } from '../../src/io/types';
import { CountingBlob, entryNamed, expectArray, expectInputError, fixtureBlob, fixtureBytes, npyWithHeader } from './helpers';

const ARCHIVES = ['npz/stored.npz', 'npz/compressed.npz', 'npz/zip64.npz'];

describe('openNpz on numpy-written archives', () => {
  it.each(ARCHIVES)('%s: lists, reads and describes every member', async (rel) => {
    const npz = await openNpz(fixtureBlob(rel), rel);
    expect(npz.members.map((m) => m.name)).toEqual(['a', 'b', 'c']);
    expect(npz.members.map((m) => m.path)).toEqual(['a.npy', 'b.npy', 'c.npy']);
    expect(npz.otherMembers).toEqual([]);
    const method = rel.includes('compressed') ? 'deflated' : 'stored';
    for (const member of npz.members) {
      expect(member.method).toBe(method);
      if (method === 'stored') expect(member.compressedSize).toBe(member.uncompressedSize);
      else expect(member.compressedSize).toBeLessThan(member.uncompressedSize);
      expectArray(await npz.read(member.name), `npz:${member.name}`);
    }
    expect(await npz.header('b')).toEqual({ shape: [2, 3, 4], dtype: '<f8', fortranOrder: true });
    expect(await npz.header('c')).toEqual({ shape: [2, 3], dtype: '>i2', fortranOrder: false });
  });

  it('hands out the raw .npy bytes of a member', async () => {
    const npz = await openNpz(fixtureBlob('npz/compressed.npz'), 'compressed.npz');
    const bytes = await npz.readBytes('a');
    expect(bytes.length).toBe(npz.members[0].uncompressedSize);
    expectArray(parseNpy(bytes, 'a.npy'), 'npz:a');
  });

  it('reads a single-array archive', async () => {
    const npz = await openNpz(fixtureBlob('npz/single.npz'), 'single.npz');
    expect(npz.members.map((m) => m.name)).toEqual(['only']);
    expectArray(await npz.read('only'), 'npz:only');
  });

  it('keeps non-.npy members apart and reads them as text', async () => {
    const npz = await openNpz(fixtureBlob('bundle/steps.npz'), 'steps.npz');
    expect(npz.otherMembers.map((m) => m.path)).toEqual(['manifest.json']);
    expect(npz.members.map((m) => m.name)).toContain('step_10/fc.out');
    expect(JSON.parse(await npz.readText('manifest.json'))).toMatchObject({ model: 'toy', datapoints: 6 });
  });

  it('reads a member named with a folder and a dot', async () => {
    const npz = await openNpz(fixtureBlob('bundle/steps.npz'), 'steps.npz');
    expectArray(await npz.read('step_0/block1/conv'), 'steps.npz:step_0/block1/conv');
  });
});

describe('openNpz reads lazily', () => {
  // A 1 MB member of poorly compressible values: a header listing must not touch its data.
  const value = (i: number) => Math.fround(((i * 2654435761) % 4294967296) / 4294967296);
  const big = encodeNpy(
    [500, 500],
    Float32Array.from({ length: 250_000 }, (_, i) => value(i)),
  );
  const small = encodeNpy([2], new Float32Array([1, 2]));

  it.each([
    ['stored', 0],
    ['deflated', 1],
  ] as const)('%s: opening and reading headers reads only the directory and member starts', async (_, level) => {
    const zip = zipSync({ 'big.npy': [big, { level }], 'small.npy': [small, { level }] });
    const counter = { bytes: 0 };
    const npz = await openNpz(new CountingBlob([zip], counter), 'big.npz');
    expect(await npz.header('big')).toEqual({ shape: [500, 500], dtype: '<f4', fortranOrder: false });
    expect(await npz.header('small')).toEqual({ shape: [2], dtype: '<f4', fortranOrder: false });
    expect(counter.bytes).toBeLessThan(64 * 1024 + 22 + 2 * 16 * 1024 + 1024);
    expect(counter.bytes).toBeLessThan(zip.length / 10);
    const array = await npz.read('big');
    expect(array.data[249_999]).toBe(value(249_999));
  });
});

describe('openNpz refuses bad archives', { timeout: 5000 }, () => {
  const setU16 = (bytes: Uint8Array, at: number, value: number) => new DataView(bytes.buffer).setUint16(at, value, true);
  const setU32 = (bytes: Uint8Array, at: number, value: number) => new DataView(bytes.buffer).setUint32(at, value, true);
  const open = (bytes: Uint8Array<ArrayBuffer>, limits = DEFAULT_LIMITS) => openNpz(new Blob([bytes]), 'x.npz', limits);

  it('an empty file', async () => {
    await expectInputError(() => open(new Uint8Array(0)), 'x.npz', /^file is empty$/);
  });

  it('a file that is not a zip', async () => {
    await expectInputError(() => open(new TextEncoder().encode('hello, not a zip at all')), 'x.npz', /not a zip archive/);
  });

  it('a .npy file given as .npz', async () => {
    await expectInputError(() => open(fixtureBytes('npy/f4_le.npy')), 'x.npz', /is a \.npy file, not an \.npz archive/);
  });

  it('a truncated archive', async () => {
    const bytes = fixtureBytes('npz/stored.npz');
    await expectInputError(() => open(bytes.slice(0, bytes.length - 30)), 'x.npz', /truncated or corrupt zip archive/);
    await expectInputError(() => open(bytes.slice(0, 400)), 'x.npz', /truncated or corrupt zip archive/);
  });

  it('a corrupt central directory', async () => {
    const bytes = fixtureBytes('npz/stored.npz');
    bytes[entryNamed(bytes, 'b.npy').offset] = 0;
    await expectInputError(() => open(bytes), 'x.npz', /corrupt zip central directory: entry 2 of 3 is missing/);
  });

  it('a central directory placed outside the file', async () => {
    const bytes = fixtureBytes('npz/stored.npz');
    setU32(bytes, bytes.length - 22 + 16, bytes.length);
    await expectInputError(() => open(bytes), 'x.npz', /central directory lies outside the file/);
  });

  it('an encrypted member', async () => {
    const bytes = fixtureBytes('npz/stored.npz');
    setU16(bytes, entryNamed(bytes, 'a.npy').offset + 8, 1);
    await expectInputError(() => open(bytes), 'x.npz:a', /member is encrypted/);
  });

  it('an unsupported compression method', async () => {
    const bytes = fixtureBytes('npz/compressed.npz');
    setU16(bytes, entryNamed(bytes, 'c.npy').offset + 10, 12);
    await expectInputError(() => open(bytes), 'x.npz:c', /compressed with method 12 \(bzip2\); only stored and deflated/);
  });

  it('a deflated member claiming 4 GiB', async () => {
    const bytes = fixtureBytes('npz/compressed.npz');
    setU32(bytes, entryNamed(bytes, 'a.npy').offset + 24, 0xfffffffe);
    const npz = await open(bytes);
    await expectInputError(() => npz.read('a'), 'x.npz:a', /member of 4 GiB is over the 2\.02 GiB limit for one array/);
  });

  it('a zip64 member claiming 100 GB', async () => {
    const bytes = fixtureBytes('npz/zip64.npz');
    const entry = entryNamed(bytes, 'b.npy');
    const view = new DataView(bytes.buffer);
    const extra = entry.offset + 46 + 'b.npy'.length + 4;
    view.setBigUint64(extra, 100_000_000_000n, true); // uncompressed size
    view.setBigUint64(extra + 8, 100_000_000_000n, true); // compressed size
    const npz = await open(bytes);
    expect(npz.members[1].uncompressedSize).toBe(100_000_000_000);
    await expectInputError(() => npz.read('b'), 'x.npz:b', /member of 93\.1 GiB is over the 2\.02 GiB limit/);
  });

  it('a member over a caller limit', async () => {
    const npz = await open(fixtureBytes('npz/stored.npz'), { maxArrayBytes: 64, maxHeaderBytes: 200 });
    await expectInputError(() => npz.read('b'), 'x.npz:b', /member of 320 B is over the 264 B limit for one array/);
  });

  it('a corrupt deflate stream, on read and on header', async () => {
    const bytes = fixtureBytes('npz/compressed.npz');
    bytes[entryNamed(bytes, 'a.npy').dataOffset] = 0xff; // BFINAL=1, BTYPE=3: an invalid block type
    const npz = await open(bytes);
    await expectInputError(() => npz.read('a'), 'x.npz:a', /cannot inflate the member \(corrupt data\): invalid block type/);
    await expectInputError(() => npz.header('a'), 'x.npz:a', /cannot inflate the member/);
  });

  it('a deflated member that inflates to another size than declared', async () => {
    const bytes = fixtureBytes('npz/compressed.npz');
    const sizeAt = entryNamed(bytes, 'a.npy').offset + 24;
    setU32(bytes, sizeAt, 100);
    await expectInputError(async () => (await open(bytes)).read('a'), 'x.npz:a', /inflates to more than 100 bytes but the archive declares 100/);
    setU32(bytes, sizeAt, 200);
    await expectInputError(async () => (await open(bytes)).read('a'), 'x.npz:a', /inflates to 176 bytes but the archive declares 200/);
  });

  it('a CRC mismatch', async () => {
    const bytes = fixtureBytes('npz/stored.npz');
    bytes[entryNamed(bytes, 'a.npy').dataOffset + 150] ^= 0x40;
    await expectInputError(async () => (await open(bytes)).read('a'), 'x.npz:a', /CRC mismatch/);
  });

  it('a member whose data runs past the end', async () => {
    const bytes = fixtureBytes('npz/stored.npz');
    const entry = entryNamed(bytes, 'c.npy');
    setU32(bytes, entry.offset + 20, 1 << 20);
    setU32(bytes, entry.offset + 24, 1 << 20);
    await expectInputError(async () => (await open(bytes)).read('c'), 'x.npz:c', /runs past the end of the file/);
  });

  it('a corrupt local header', async () => {
    const bytes = fixtureBytes('npz/stored.npz');
    bytes[entryNamed(bytes, 'b.npy').localHeaderOffset] = 0;
    await expectInputError(async () => (await open(bytes)).header('b'), 'x.npz:b', /no local file header/);
  });

  it('a member that is not a valid .npy', async () => {
    const bad = npyWithHeader(`{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }`, new Uint8Array(16));
    const npz = await open(zipSync({ 'z.npy': [bad, { level: 6 }] }));
    await expectInputError(() => npz.header('z'), 'x.npz:z', /complex dtype '<c8'/);
    await expectInputError(() => npz.read('z'), 'x.npz:z', /complex dtype '<c8'/);
  });

  it('a member name that is not there', async () => {
    const npz = await open(fixtureBytes('npz/stored.npz'));
    await expectInputError(() => npz.read('zz'), 'x.npz', /has no array 'zz' \(its arrays: a, b, c\)/);
    await expectInputError(() => npz.readText('zz.json'), 'x.npz', /has no member 'zz\.json'/);
  });

  it('a missing name in a big bundle: 20 names, how many more, and the arrays whose path ends with it', async () => {
    const one = encodeNpy([1], Float32Array.of(0));
    const members: Record<string, Uint8Array> = {};
    for (const run of ['seed0', 'seed1']) for (let step = 0; step < 15; step++) members[`${run}/step_${step}/fc.npy`] = one;
    const npz = await open(zipSync(members));
    await expectInputError(
      () => npz.read('step_3/fc'),
      'x.npz',
      /^has no array 'step_3\/fc' \(its arrays: seed0\/step_0\/fc, .* and 10 more; did you mean seed0\/step_3\/fc or seed1\/step_3\/fc\?\)$/,
    );
  });
});
