// Shared helpers of the io tests: fixture access (written by scripts/make_io_fixtures.py), exact
// comparison against expected.json, InputError assertions, and byte surgery for bad cases.
//
// Shape convention: expected values are flattened in C order, as the readers return them.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { InputError } from '../../src/io/types';
import type { NdArray } from '../../src/io/types';

export const FIXTURES = fileURLToPath(new URL('../fixtures/io', import.meta.url));

export interface Expected {
  shape: number[];
  dtype: string;
  values: number[];
}

export const EXPECTED: Record<string, Expected> = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));

/** A fresh, writable copy of a fixture's bytes (tests mutate them). */
export function fixtureBytes(rel: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(join(FIXTURES, rel)));
}

export function fixtureBlob(rel: string): Blob {
  return new Blob([fixtureBytes(rel)]);
}

/** Shape, dtype, container type and every value exactly as expected.json records them. */
export function expectArray(array: NdArray, key: string): void {
  const expected = EXPECTED[key];
  expect(expected, `expected.json has no '${key}'`).toBeDefined();
  expect(array.shape).toEqual(expected.shape);
  expect(array.dtype).toBe(expected.dtype);
  const isF64 = /f8$|^F64$/.test(expected.dtype);
  expect(array.data).toBeInstanceOf(isF64 ? Float64Array : Float32Array);
  expect(Array.from(array.data)).toEqual(expected.values);
}

/** Runs `action` and checks it fails with an InputError "SOURCE: …" whose detail matches `detail`. */
export async function expectInputError(action: () => unknown, source: string, detail: RegExp): Promise<InputError> {
  let caught: unknown = null;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an InputError, nothing was thrown').toBeInstanceOf(InputError);
  const error = caught as InputError;
  expect(error.source).toBe(source);
  expect(error.message.startsWith(`${source}: `), error.message).toBe(true);
  expect(error.message).not.toContain('\n');
  expect(error.detail).toMatch(detail);
  return error;
}

/** A .npy file with an arbitrary header text (no padding), for malformed-header cases. */
export function npyWithHeader(header: string, data: Uint8Array = new Uint8Array(0), version: 1 | 2 | 3 = 1): Uint8Array {
  const text = new TextEncoder().encode(header);
  const preamble = version === 1 ? 10 : 12;
  const out = new Uint8Array(preamble + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, preamble);
  out.set(data, preamble + text.length);
  return out;
}

/** One central-directory entry of a zip, located by scanning for its signature (test-side parse). */
export interface CentralEntry {
  /** Offset of the entry's signature in the file. */
  offset: number;
  name: string;
  localHeaderOffset: number;
  /** Offset of the member's data (after its local header). */
  dataOffset: number;
}

/** Central-directory entries of a zip fixture, found by their "PK\x01\x02" signatures. */
export function centralEntries(bytes: Uint8Array): CentralEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: CentralEntry[] = [];
  for (let i = 0; i + 46 <= bytes.length; i++) {
    if (view.getUint32(i, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(i + 28, true);
    const extraLength = view.getUint16(i + 30, true);
    const name = new TextDecoder().decode(bytes.subarray(i + 46, i + 46 + nameLength));
    let localHeaderOffset = view.getUint32(i + 42, true);
    if (localHeaderOffset === 0xffffffff) {
      // zip64.npz: the extra field holds uncompressed size, compressed size, offset (u64 each).
      localHeaderOffset = Number(view.getBigUint64(i + 46 + nameLength + 4 + 16, true));
    }
    const dataOffset = localHeaderOffset + 30 + view.getUint16(localHeaderOffset + 26, true) + view.getUint16(localHeaderOffset + 28, true);
    entries.push({ offset: i, name, localHeaderOffset, dataOffset });
    i += 45 + nameLength + extraLength;
  }
  return entries;
}

export function entryNamed(bytes: Uint8Array, name: string): CentralEntry {
  const entry = centralEntries(bytes).find((e) => e.name === name);
  if (!entry) throw new Error(`no zip entry ${name}`);
  return entry;
}

/** A Blob that counts the bytes its slices hand out, to check that readers read lazily. */
export class CountingBlob extends Blob {
  readonly counter: { bytes: number };
  constructor(parts: BlobPart[], counter: { bytes: number } = { bytes: 0 }) {
    super(parts);
    this.counter = counter;
  }
  override slice(start?: number, end?: number, contentType?: string): Blob {
    const part = super.slice(start, end, contentType);
    this.counter.bytes += part.size;
    return part;
  }
}
