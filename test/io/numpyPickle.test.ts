// Pickles of numpy arrays (.pkl): every protocol numpy/pickle write, numpy 2 names, Fortran and
// big-endian arrays, and refusals (object arrays, forbidden globals) without running anything.
// Fixtures: scripts/make_format_fixtures.py (numpy 1.24, Python 3.11 pickle).
// Shape convention: arrays come back as stored, C order.

import { existsSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openNumpyPickle } from '../../src/io/numpyPickle';
import { unpickle } from '../../src/io/pickle';
import { NUMPY_GLOBALS } from '../../src/io/numpyPickle';
import { DEFAULT_LIMITS } from '../../src/io/types';
import { expectRefused, expectWholeFile, formatBlob, formatBytes, fuzzReader } from './formatHelpers';

const PWNED = '/tmp/svcca-lens-pwned';

describe('openNumpyPickle on files pickle.dump wrote', () => {
  it.each([
    'pickle/p0.pkl',
    'pickle/p2.pkl',
    'pickle/py2-p0.pkl',
    'pickle/py2-p2.pkl',
    'pickle/p4.pkl',
    'pickle/p5.pkl',
    'pickle/numpy2-names.pkl',
    'pickle/array.pkl',
    'pickle/list.pkl',
  ])('%s: lists and reads every array exactly', async (rel) => {
    await expectWholeFile(await openNumpyPickle(formatBlob(rel), rel), rel);
  });

  it('skips non-array values (an int, a str) and names dict entries by key, list entries by index', async () => {
    const file = await openNumpyPickle(formatBlob('pickle/p4.pkl'), 'p4.pkl');
    expect(file.arrays.map((a) => a.name)).not.toContain('step');
    expect(file.arrays[0]).toEqual({ name: 'conv1', shape: [2, 3, 2, 2], dtype: '<f4' });
    const list = await openNumpyPickle(formatBlob('pickle/list.pkl'), 'list.pkl');
    expect(list.arrays.map((a) => `${a.name}:${a.dtype}`)).toEqual(['0:<f4', '1:>f8', '2:>i2']);
  });

  it('reads array data lazily from the file (protocol 4 keeps it in place)', async () => {
    const bytes = formatBytes('pickle/p4.pkl');
    let sliced = 0;
    class Counting extends Blob {
      override slice(start?: number, end?: number): Blob {
        const part = super.slice(start, end);
        sliced += part.size;
        return part;
      }
    }
    const file = await openNumpyPickle(new Counting([bytes]), 'p4.pkl');
    await file.read('fc');
    expect(sliced).toBe(3 * 4 * 8);
  });

  it('names a missing array and lists the others', async () => {
    const file = await openNumpyPickle(formatBlob('pickle/p2.pkl'), 'p2.pkl');
    await expectRefused(() => file.read('nope'), 'p2.pkl', /has no array 'nope' \(its arrays: conv1, fc, half, ints, u8, flags, i64\)/);
  });
});

describe('openNumpyPickle refuses, running nothing', () => {
  it('a pickle that calls os.system, naming the global', async () => {
    if (existsSync(PWNED)) rmSync(PWNED);
    await expectRefused(
      () => openNumpyPickle(formatBlob('pickle/evil.pkl'), 'evil.pkl'),
      'evil.pkl',
      /^pickle asks for the Python object 'posix\.system', which is not allowed here \(only numpy arrays in dicts, lists and tuples can be read; nothing was run\) \(at byte \d+\)$/,
    );
    expect(existsSync(PWNED)).toBe(false);
  });

  it('an object array', async () => {
    await expectRefused(() => openNumpyPickle(formatBlob('pickle/object.pkl'), 'object.pkl'), 'object.pkl', /holds an object array \(dtype '\|O8'/);
  });

  const pickle = (...parts: (string | number[])[]) =>
    new Blob([Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)))]);
  const cases: [string, Blob, RegExp][] = [
    ['eval by STACK_GLOBAL', pickle([0x80, 4], [0x8c, 8], 'builtins', [0x8c, 4], 'eval', [0x93], 'N.'), /asks for the Python object 'builtins\.eval'/],
    ['a global name with control characters, escaped', pickle('c', 'os\x1b[31m\n', 'system\n', 'N.'), /asks for the Python object 'os\\x1b\[31m\.system'/],
    ['an extension code', pickle([0x80, 2, 0x82, 1], '.'), /copyreg extension registry/],
    ['an out-of-band buffer', pickle([0x80, 5, 0x97], '.'), /out-of-band buffers/],
    ['a persistent id', pickle([0x80, 2], 'N', [0x51], '.'), /persistent id/],
    ['an empty file', pickle(), /pickle is empty/],
    ['text that is not a pickle', pickle('hello'), /refers to memo entry 101, which was never stored \(at byte 0\)/],
    ['a zip archive', pickle('PK', [3, 4, 0, 0]), /is a zip archive \(a torch\.save file or an \.npz\?\), not a pickle/],
    ['an HDF5 file', pickle([0x89], 'HDF\r\n', [0x1a, 0x0a]), /is an HDF5 file, not a pickle/],
    ['a truncated BINUNICODE', pickle([0x80, 2, 0x58, 100, 0, 0, 0], 'ab'), /is truncated: 100 more bytes needed, 2 left/],
    ['an unknown protocol', pickle([0x80, 9], 'N.'), /protocol 9/],
    ['a memo reference never stored', pickle([0x80, 2, 0x68, 7], '.'), /memo entry 7, which was never stored/],
    ['no STOP', pickle([0x80, 2], 'N'), /is truncated/],
    ['two values left at STOP', pickle([0x80, 2], 'NN.'), /ends with 2 values on the stack/],
    ['a self-containing list', pickle([0x80, 2, 0x5d, 0x71, 0, 0x68, 0, 0x61], '.'), /contains itself/],
  ];
  it.each(cases)('%s', async (_, blob, detail) => {
    await expectRefused(() => openNumpyPickle(blob, 'x.pkl'), 'x.pkl', detail);
  });

  it('an array whose data is shorter than its shape needs', async () => {
    // p2.pkl with the first array's shape (2, 3, 2, 2) changed to (2, 3, 2, 3): BININT1 2 → 3 at the last dim.
    const bytes = formatBytes('pickle/p2.pkl');
    const at = findBytes(bytes, [0x4b, 2, 0x4b, 3, 0x4b, 2, 0x4b, 2]);
    bytes[at + 7] = 3;
    await expectRefused(
      () => openNumpyPickle(new Blob([bytes]), 'x.pkl'),
      'x.pkl',
      /ndarray of shape \(2, 3, 2, 3\) and dtype '<f4' needs 144 bytes of data but holds 96/,
    );
  });

  it('an array over the size limit, before reading it', async () => {
    await expectRefused(
      () => openNumpyPickle(formatBlob('pickle/p4.pkl'), 'p4.pkl', { ...DEFAULT_LIMITS, maxArrayBytes: 64 }),
      'p4.pkl:conv1',
      /shape \(2, 3, 2, 2\) of <f4 needs 96 B, over the 64 B limit/,
    );
  });

  it('a 2^n-way shared structure without walking it 2^n times', async () => {
    // L0 = [array]; L_{k+1} = [L_k, L_k] (memo references), 40 levels: 2^40 paths.
    const base = formatBytes('pickle/array.pkl');
    const body = base.subarray(0, base.length - 1); // without STOP; protocol 3, the array is on the stack
    const parts: number[] = [...body, 0x85]; // TUPLE1 → (array,)
    for (let k = 0; k < 40; k++) parts.push(0x32, 0x86); // DUP, TUPLE2 → (t, t)
    parts.push(0x2e);
    await expectRefused(() => openNumpyPickle(new Blob([Uint8Array.from(parts)]), 'x.pkl'), 'x.pkl', /holds more than 200000 nested objects/);
  });
});

describe('unpickle', () => {
  it('reads the Python values of protocol 0 text opcodes', () => {
    const text = "(dp0\nS'a\\x00\\n'\np1\nI42\nsV\\u00e9\\u20ac\np2\nF1.5\nsL12345678901234567890L\nI01\ns.";
    const { value } = unpickle(Uint8Array.from([...text].map((c) => c.charCodeAt(0))), 'x', { globals: NUMPY_GLOBALS, allowedWhat: '' });
    expect(value).toMatchObject({ typeName: 'dict' });
    const entries = (value as unknown as { entries: { key: unknown; value: unknown }[] }).entries;
    expect((entries[0].key as { bytes: Uint8Array }).bytes).toEqual(Uint8Array.from([0x61, 0, 10]));
    expect(entries[0].value).toBe(42);
    expect(entries[1]).toEqual({ key: 'é€', value: { value: 1.5 } });
    expect(entries[2]).toEqual({ key: 12345678901234567890n, value: true });
  });
});

describe('unpickle of OrderedDicts as Python 2 pickled them: OrderedDict([[key, value], …])', () => {
  // Written by CPython 2.7.18's pickle (pyenv on the development machine):
  //   pickle.dump(collections.OrderedDict([('b', [1, 2]), ('a', {'x': 1.5})]), f, protocol)
  const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
  it.each([
    [
      'protocol 2',
      '800263636f6c6c656374696f6e730a4f726465726564446963740a71005d7101285d71022855016271035d7104284b014b0265655d71052855016171067d71075501787108473ff800000000000073656585710952710a2e',
    ],
    [
      'protocol 0',
      '63636f6c6c656374696f6e730a4f726465726564446963740a70300a28286c70310a286c70320a532762270a70330a61286c70340a49310a6149320a616161286c70350a532761270a70360a61286470370a532778270a70380a46312e350a7361617470390a527031300a2e',
    ],
  ])('%s', (_, bytes) => {
    const { value } = unpickle(hex(bytes), 'x', { globals: NUMPY_GLOBALS, allowedWhat: '' });
    const entries = (value as unknown as { typeName: string; entries: { key: { latin1(): string }; value: unknown }[] }).entries;
    expect((value as unknown as { typeName: string }).typeName).toBe('OrderedDict');
    expect(entries.map((e) => e.key.latin1())).toEqual(['b', 'a']);
    expect(entries[0].value).toMatchObject({ items: [1, 2] });
  });
});

describe('unpickle of long strings (how protocols 0-2 hold array bytes)', () => {
  // _codecs.encode(<str of 70 000 chars, every latin-1 value>, 'latin1'): the str stays UTF-8 bytes
  // (over 64 KiB) and is converted straight to the latin-1 bytes.
  const encodePickle = (text: Uint8Array) => {
    const head = [0x80, 2, ...[...'c_codecs\nencode\n'].map((c) => c.charCodeAt(0)), 0x58, ...new Uint8Array(new Uint32Array([text.length]).buffer)];
    const tail = [0x8c, 6, ...[...'latin1'].map((c) => c.charCodeAt(0)), 0x86, 0x52, 0x2e];
    return Uint8Array.from([...head, ...text, ...tail]);
  };
  const values = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256);
  const utf8 = new TextEncoder().encode(String.fromCharCode(...values.subarray(0, 35_000)) + String.fromCharCode(...values.subarray(35_000)));

  it('gives exactly the latin-1 bytes', () => {
    const { value } = unpickle(encodePickle(utf8), 'x', { globals: NUMPY_GLOBALS, allowedWhat: '' });
    expect((value as unknown as { bytes: Uint8Array }).bytes).toEqual(values);
  });

  it('refuses a character beyond U+00FF', async () => {
    const bad = new TextEncoder().encode('a'.repeat(70_000) + '€');
    await expectRefused(
      () => unpickle(encodePickle(bad), 'x', { globals: NUMPY_GLOBALS, allowedWhat: '' }),
      'x',
      /_codecs\.encode: has bytes written as latin-1 text with a character beyond U\+00FF/,
    );
  });
});

describe('openNumpyPickle fuzzed', () => {
  it.each([
    ['pickle/p2.pkl', 1],
    ['pickle/p4.pkl', 2],
    ['pickle/p0.pkl', 3],
    ['pickle/py2-p0.pkl', 4],
  ] as const)('%s: 150 mutations, only clean InputErrors', async (rel, seed) => {
    const outcome = await fuzzReader(formatBytes(rel), (blob) => openNumpyPickle(blob, 'fuzz.pkl'), seed, 150);
    expect(outcome.refused).toBeGreaterThan(0);
  });
});

function findBytes(haystack: Uint8Array, needle: number[]): number {
  for (let i = 0; i + needle.length <= haystack.length; i++) if (needle.every((b, k) => haystack[i + k] === b)) return i;
  throw new Error('not found');
}
