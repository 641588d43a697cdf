// The content hash's arrays hashed as read (analysis/provenance.ts): fed to an incremental SHA-256 in
// two parts (the header line, then the array's bytes where they lie), an array of any size is hashed
// as the job reads it, so the export's inputHash reads no array again. The digests are WebCrypto's
// over the concatenation, bit for bit, with the JavaScript hash (the browser's) and with Node's
// (registered by the CLI) alike. Arrays are float32, as the readers return them; 20 MiB each.

import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { inputHash, registerIncrementalSha256, rememberEntryDigest } from '../../src/analysis/provenance';
import type { BundleEntry, NdArray } from '../../src/io/types';

/** Entries over arrays of `values` float32 values each, counting how often each is read. */
function countedEntries(count: number, values: number): { entries: BundleEntry[]; arrays: NdArray[]; reads: number[] } {
  const reads = new Array<number>(count).fill(0);
  const arrays = Array.from({ length: count }, (_, k): NdArray => {
    const data = new Float32Array(values);
    for (let i = 0; i < values; i += 4099) data[i] = Math.sin(i + k);
    return { shape: [values / 8, 8], dtype: '<f4', data };
  });
  const entries = arrays.map((array, k): BundleEntry => ({
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
  }));
  return { entries, arrays, reads };
}

/** What a job does: reads each array once, hashing it as read. */
async function readAsAJob(entries: BundleEntry[]): Promise<void> {
  for (const entry of entries) await rememberEntryDigest(entry, await entry.load());
}

const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

/** The definition, computed independently: WebCrypto over "run/step/layer sha256(dtype|shape|bytes)" lines. */
async function expectedHash(entries: BundleEntry[], arrays: NdArray[]): Promise<string> {
  const lines: string[] = [];
  for (const [k, array] of arrays.entries()) {
    const head = new TextEncoder().encode(`${array.dtype}|${array.shape.join(',')}|`);
    const all = new Uint8Array(head.length + array.data.byteLength);
    all.set(head);
    all.set(new Uint8Array(array.data.buffer), head.length);
    lines.push(`/${entries[k].step}/${entries[k].layer} ${hex(await crypto.subtle.digest('SHA-256', all))}`);
  }
  return hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(lines.join('\n')))).slice(0, 12);
}

const VALUES = 5 * 2 ** 20; // 20 MiB of float32 each

afterEach(() => registerIncrementalSha256(null));

describe('arrays hashed as read', () => {
  it.each([
    ['the JavaScript SHA-256 (the browser’s)', null],
    ['Node’s (the CLI’s)', () => createHash('sha256')],
  ] as const)('%s: inputHash reads no array again, and the hash is the definition', { timeout: 30_000 }, async (_, factory) => {
    registerIncrementalSha256(factory);
    const { entries, arrays, reads } = countedEntries(2, VALUES);
    await readAsAJob(entries);
    expect(reads).toEqual([1, 1]);
    const hash = await inputHash(entries);
    expect(reads).toEqual([1, 1]);
    expect(hash).toBe(await expectedHash(entries, arrays));
  });

  it('an array not hashed as read is read once for the hash, with the same digest', async () => {
    const { entries, arrays, reads } = countedEntries(2, 1000);
    expect(await inputHash(entries)).toBe(await expectedHash(entries, arrays));
    expect(reads).toEqual([1, 1]);
  });
});
