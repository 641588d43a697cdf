// The content hash's arrays hashed as read (analysis/provenance.ts): with an incremental SHA-256
// registered (the CLI registers Node's), an array over HASH_AS_READ_MAX_BYTES is hashed as the job
// reads it too, so the export's inputHash reads no array again; the digests are WebCrypto's, bit for
// bit. Arrays are stored as the readers return them (float32, any shape); sizes just over the bound.

import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { HASH_AS_READ_MAX_BYTES, inputHash, registerIncrementalSha256, rememberEntryDigest } from '../../src/analysis/provenance';
import type { BundleEntry, NdArray } from '../../src/io/types';

/** Entries over arrays of `values` float32 values each, counting how often each is read. */
function countedEntries(count: number, values: number): { entries: BundleEntry[]; reads: number[] } {
  const reads = new Array<number>(count).fill(0);
  const entries = Array.from({ length: count }, (_, k): BundleEntry => {
    const data = new Float32Array(values);
    for (let i = 0; i < values; i += 4099) data[i] = Math.sin(i + k);
    const array: NdArray = { shape: [values / 8, 8], dtype: '<f4', data };
    return {
      run: null,
      step: k,
      layer: 'fc',
      source: `bundle.npz:step_${k}/fc`,
      shape: array.shape,
      dtype: array.dtype,
      load: () => {
        reads[k]++;
        return Promise.resolve(array);
      },
    };
  });
  return { entries, reads };
}

/** What a job does: reads each array once, hashing it as read. */
async function readAsAJob(entries: BundleEntry[]): Promise<void> {
  for (const entry of entries) await rememberEntryDigest(entry, await entry.load());
}

const LARGE = HASH_AS_READ_MAX_BYTES / 4 + 8; // float32 values: just over the bound

afterEach(() => registerIncrementalSha256(null));

describe('arrays hashed as read', () => {
  it('without an incremental hash, an array over the bound is read again for the hash', async () => {
    const { entries, reads } = countedEntries(2, LARGE);
    await readAsAJob(entries);
    await inputHash(entries);
    expect(reads).toEqual([2, 2]);
  });

  it('with one, every array is hashed as read: inputHash reads none again, and the hash is the same', async () => {
    const webCrypto = countedEntries(2, LARGE);
    const expected = await inputHash(webCrypto.entries);

    registerIncrementalSha256(() => createHash('sha256'));
    const { entries, reads } = countedEntries(2, LARGE);
    await readAsAJob(entries);
    expect(reads).toEqual([1, 1]);
    const hash = await inputHash(entries);
    expect(reads).toEqual([1, 1]);
    expect(hash).toBe(expected);
    expect(hash).toMatch(/^[0-9a-f]{12}$/);
  });
});
