// The CLI's file Blob (src/io/node.ts): positioned reads of exactly the slice asked for, with
// Blob.slice semantics, and a clear refusal when the file changes between opening and reading.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPathAsBlob } from '../../src/io/node';
import { expectInputError } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'svcca-fileblob-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Byte equality without vitest's element-by-element diff (slow on millions of elements). */
const expectSameBytes = (got: ArrayBuffer | Uint8Array, expected: ArrayBuffer | Uint8Array) =>
  expect(Buffer.from(got as ArrayBuffer).equals(Buffer.from(expected as ArrayBuffer))).toBe(true);

// 3 MB: slices up to 1 MiB are read synchronously, larger ones asynchronously; both are covered.
const bytes = Uint8Array.from({ length: 3_000_000 }, (_, i) => (i * 31 + 7) & 0xff);

describe('openPathAsBlob', () => {
  it('reads slices, nested slices, negative positions, text and streams as a Blob over the same bytes does', async () => {
    const path = join(dir, 'data.bin');
    writeFileSync(path, bytes);
    const file = await openPathAsBlob(path);
    const reference = new Blob([bytes]);
    expect(file.size).toBe(bytes.length);
    const ranges: [number | undefined, number | undefined][] = [
      [0, 10],
      [1000, 250_000],
      [1000, 2_500_000],
      [-100, undefined],
      [5, 3],
      [2_999_990, 4_000_000],
      [undefined, undefined],
      [-4_000_000, 20],
    ];
    for (const [start, end] of ranges) {
      const got = await file.slice(start, end).arrayBuffer();
      expect(got.byteLength).toBe(reference.slice(start, end).size);
      expectSameBytes(got, await reference.slice(start, end).arrayBuffer());
    }
    const nested = file.slice(100, 2_000_000).slice(50, -50).slice(-10);
    expectSameBytes(await nested.arrayBuffer(), await reference.slice(100, 2_000_000).slice(50, -50).slice(-10).arrayBuffer());
    expect(await file.slice(0, 64).text()).toBe(await reference.slice(0, 64).text());
    expectSameBytes(await new Response(file.stream()).arrayBuffer(), bytes);
  });

  it('refuses to read a file that changed after it was opened', async () => {
    const path = join(dir, 'changing.bin');
    writeFileSync(path, bytes);
    const file = await openPathAsBlob(path);
    writeFileSync(path, bytes.subarray(0, 1000));
    await expectInputError(() => file.slice(0, 10).arrayBuffer(), path, /changed on disk while it was being read/);
    await expectInputError(() => file.slice(0, 2_000_000).arrayBuffer(), path, /changed on disk while it was being read/);
    writeFileSync(path, bytes);
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    await expectInputError(() => file.arrayBuffer(), path, /changed on disk/);
  });

  it('names a missing file and a folder', async () => {
    await expectInputError(() => openPathAsBlob(join(dir, 'nope.npy')), join(dir, 'nope.npy'), /^no such file$/);
    await expectInputError(() => openPathAsBlob(dir), dir, /is a folder, not a file/);
  });
});
