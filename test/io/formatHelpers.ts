// Helpers of the PyTorch / pickle / HDF5 reader tests: fixtures written by
// scripts/make_format_fixtures.py (real torch, numpy and h5py), exact comparison against its
// expected.json, and a seeded byte-level fuzzer shared by the three readers.
//
// Shape convention: expected values are flattened in C order, as the readers return them.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { ArrayFile } from '../../src/io/arrayFile';
import { InputError } from '../../src/io/types';
import type { NdArray } from '../../src/io/types';

export const FORMAT_FIXTURES = fileURLToPath(new URL('../fixtures/formats', import.meta.url));

interface Expected {
  shape: number[];
  dtype: string;
  values: number[];
}

const EXPECTED: Record<string, unknown> = JSON.parse(readFileSync(join(FORMAT_FIXTURES, 'expected.json'), 'utf8'));

/** Entry names the generator recorded for a fixture file, in order. */
export function expectedNames(rel: string): string[] {
  const names = EXPECTED[rel];
  if (!Array.isArray(names)) throw new Error(`expected.json has no name list for ${rel}`);
  return names as string[];
}

export function formatBytes(rel: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(join(FORMAT_FIXTURES, rel)));
}

export function formatBlob(rel: string): Blob {
  return new Blob([formatBytes(rel)]);
}

/** Shape, dtype, container type (Float64Array for float64 only) and every value exactly as recorded. */
export function expectRecorded(array: NdArray, key: string): void {
  const expected = EXPECTED[key] as Expected | undefined;
  expect(expected, `expected.json has no '${key}'`).toBeDefined();
  expect(array.shape, key).toEqual(expected!.shape);
  expect(array.dtype, key).toBe(expected!.dtype);
  const isF64 = /f8$|float64$/.test(expected!.dtype);
  expect(array.data, key).toBeInstanceOf(isF64 ? Float64Array : Float32Array);
  expect(Array.from(array.data), key).toEqual(expected!.values);
}

/** Every array of `file` read and compared with expected.json under "<rel>:<name>". */
export async function expectWholeFile(file: ArrayFile, rel: string): Promise<void> {
  expect(file.arrays.map((a) => a.name)).toEqual(expectedNames(rel));
  for (const info of file.arrays) {
    const array = await file.read(info.name);
    expect(array.shape).toEqual(info.shape);
    expect(array.dtype).toBe(info.dtype);
    expectRecorded(array, `${rel}:${info.name}`);
  }
}

/** Runs `action` and checks it fails with an InputError whose source and detail match. */
export async function expectRefused(action: () => unknown, source: string | RegExp, detail: RegExp): Promise<InputError> {
  let caught: unknown = null;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an InputError, nothing was thrown').toBeInstanceOf(InputError);
  const error = caught as InputError;
  if (typeof source === 'string') expect(error.source).toBe(source);
  else expect(error.source).toMatch(source);
  expect(error.message).not.toContain('\n');
  expect(error.detail).toMatch(detail);
  return error;
}

/** mulberry32: a small seeded PRNG, so a fuzz failure reproduces from its seed and case number. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzOutcome {
  cases: number;
  refused: number;
  /** Messages seen, for spot checks. */
  messages: string[];
}

/** What a message must never contain: raw controls (C0, DEL, C1), NaN, undefined, [object Object]. */
const BAD_MESSAGE = /[\u0000-\u001f\u007f-\u009f]|NaN|undefined|\[object Object\]/;

/**
 * Mutates `original` `cases` times (byte flips, overwrites with 0x00/0xff/0x80, cut-outs,
 * insertions, duplicated ranges, truncations), opens each result and reads every array it lists.
 * Checks: nothing but InputError is ever thrown; messages are one clean line; a truncated file
 * never reads whole (open, or at least one read, must fail).
 */
export async function fuzzReader(original: Uint8Array, open: (blob: Blob) => Promise<ArrayFile>, seed: number, cases: number): Promise<FuzzOutcome> {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const outcome: FuzzOutcome = { cases, refused: 0, messages: [] };
  for (let c = 0; c < cases; c++) {
    const bytes = Uint8Array.from(original);
    let mutated: Uint8Array<ArrayBuffer> = bytes;
    let truncated = false;
    const kind = int(6);
    if (kind === 0) {
      for (let k = 1 + int(4); k > 0; k--) bytes[int(bytes.length)] ^= 1 << int(8);
    } else if (kind === 1) {
      const at = int(bytes.length);
      bytes.fill([0x00, 0xff, 0x80, 0x7f][int(4)], at, at + 1 + int(8));
    } else if (kind === 2) {
      truncated = true;
      mutated = bytes.subarray(0, int(bytes.length));
    } else if (kind === 3) {
      const at = int(bytes.length);
      const length = 1 + int(16);
      mutated = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + length)]);
    } else if (kind === 4) {
      const at = int(bytes.length);
      const junk = Array.from({ length: 1 + int(16) }, () => int(256));
      mutated = Uint8Array.from([...bytes.subarray(0, at), ...junk, ...bytes.subarray(at)]);
    } else {
      const from = int(bytes.length);
      const to = int(bytes.length);
      const length = 1 + int(32);
      bytes.copyWithin(to, from, from + length);
    }
    let readWhole = false;
    try {
      const file = await open(new Blob([mutated]));
      try {
        for (const info of file.arrays) await file.read(info.name);
      } finally {
        file.close();
      }
      readWhole = true;
    } catch (error) {
      if (!(error instanceof InputError)) {
        throw new Error(`fuzz seed ${seed} case ${c} (mutation ${kind}): ${String(error)}${error instanceof Error ? `\n${error.stack}` : ''}`);
      }
      outcome.refused++;
      if (outcome.messages.length < 50) outcome.messages.push(error.message);
      if (BAD_MESSAGE.test(error.message)) throw new Error(`fuzz seed ${seed} case ${c}: message ${JSON.stringify(error.message)}`);
    }
    if (truncated && readWhole) throw new Error(`fuzz seed ${seed} case ${c}: a file cut to ${mutated.length} of ${original.length} bytes was read whole`);
  }
  return outcome;
}
