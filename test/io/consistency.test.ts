// Issue 12's corpus, one case per bullet: lookups keyed by file content never reach
// Object.prototype; only consistent data is accepted (safetensors buffers tiled exactly, .npy and
// .npz member data of exactly the declared length, no empty dimensions, no silent orientation
// guesses); names are kept as written (safetensors header order) and traversal-like names are read
// as data and flagged; labels are checked where they are loaded. No message holds a raw control
// character, NaN, undefined or [object Object].
//
// Shape convention: arrays as stored, datapoints first unless a case says otherwise.

import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { comparePair } from '../../src/analysis/engine';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { openArrays } from '../../src/io/arrays';
import { openBundle, readInput } from '../../src/io/bundle';
import { datapointsFromShapes } from '../../src/io/layout';
import { encodeNpy } from '../../src/io/npy';
import { openSafetensors } from '../../src/io/safetensors';
import { InputError } from '../../src/io/types';
import type { NdArray } from '../../src/io/types';
import { randn } from '../../src/math/random';
import { expectInputError, npyWithHeader } from './helpers';

const BAD_MESSAGE = /[\u0000-\u001f\u007f-\u009f]|NaN|undefined|\[object Object\]/;

/** A safetensors file from a header (object or raw JSON text) and a data section of `dataBytes` zeros. */
function safetensors(header: unknown, dataBytes = 0): Uint8Array<ArrayBuffer> {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  return out;
}

async function refusal(action: () => Promise<unknown>): Promise<InputError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).not.toMatch(BAD_MESSAGE);
    return error as InputError;
  }
  throw new Error('expected an InputError, got success');
}

const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

describe('lookups keyed by file content', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    "a safetensors dtype '%s' is an unknown dtype, not a prototype member",
    async (dtype) => {
      const bytes = safetensors(`{"t": {"dtype": "${dtype}", "shape": [1], "data_offsets": [0, 4]}}`, 4);
      const error = await refusal(() => openSafetensors(new Blob([bytes]), 'x.safetensors'));
      expect(error.message).toBe(
        `x.safetensors:t: unknown or unsupported dtype '${dtype}' (F16, BF16, F32, F64, I8, I16, I32, I64, U8, U16, U32, U64, BOOL can be read)`,
      );
    },
  );

  it('a tensor named __proto__ is an ordinary tensor', async () => {
    const file = await openSafetensors(new Blob([safetensors('{"__proto__": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', 4)]), 'x.safetensors');
    expect(file.tensors.map((t) => t.name)).toEqual(['__proto__']);
    expect(Array.from((await file.read('__proto__')).data)).toEqual([0]);
    await refusal(() => file.read('constructor'));
  });

  it.each([
    ['a dtype that is an object', { t: { dtype: {}, shape: [1], data_offsets: [0, 4] } }],
    ['a dimension that is an object', { t: { dtype: 'F32', shape: [{}], data_offsets: [0, 4] } }],
    ['a dimension that is a list', { t: { dtype: 'F32', shape: [[2]], data_offsets: [0, 4] } }],
    ['a dimension that is a string', { t: { dtype: 'F32', shape: ['2\u001b[31m'], data_offsets: [0, 4] } }],
    ['a dimension that is null', { t: { dtype: 'F32', shape: [null], data_offsets: [0, 4] } }],
    ['offsets that are strings', { t: { dtype: 'F32', shape: [1], data_offsets: ['0', '4'] } }],
    ['a shape that is an object', { t: { dtype: 'F32', shape: { 0: 1 }, data_offsets: [0, 4] } }],
    ['metadata that is a list', { __metadata__: [1], t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }],
    ['a name with terminal escapes and an unknown dtype', { 'x\u001b]0;pwned\u0007': { dtype: 'F8\u009b', shape: [1], data_offsets: [0, 4] } }],
  ])('%s: refused with a clean message', async (_, header) => {
    await refusal(() => openSafetensors(new Blob([safetensors(header, 4)]), 'x.safetensors'));
  });

  it('an npy shape holding a name or a tuple is described, not printed as an object', async () => {
    const bytes = npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': ((2,), 'a'), }");
    const error = await refusal(() => openArrays(new Blob([Uint8Array.from(bytes)]), 'x.npy'));
    expect(error.message).toMatch(/shape \(an object, 'a'\) has a dimension that is not an integer/);
  });
});

describe('safetensors: the data section is tiled exactly', () => {
  it('refuses overlapping tensors', async () => {
    const error = await refusal(() => openSafetensors(new Blob([safetensors({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12)]), 'x.safetensors'));
    expect(error.message).toBe("x.safetensors: tensors overlap: 'b' [4, 12] begins inside 'a' [0, 8] (the format forbids overlapping data)");
  });

  it('refuses two tensors sharing the same bytes', async () => {
    await expectInputError(
      () => openSafetensors(new Blob([safetensors({ a: f32([1], 0, 4), b: f32([1], 0, 4) }, 4)]), 'x.safetensors'),
      'x.safetensors',
      /tensors overlap/,
    );
  });

  it('refuses a hole between tensors', async () => {
    const error = await refusal(() => openSafetensors(new Blob([safetensors({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12)]), 'x.safetensors'));
    expect(error.message).toBe("x.safetensors: the data section has a hole: bytes [4, 8) before 'b' [8, 12] belong to no tensor (the format forbids holes)");
  });

  it('refuses a hole before the first tensor', async () => {
    await expectInputError(() => openSafetensors(new Blob([safetensors({ a: f32([1], 4, 8) }, 8)]), 'x.safetensors'), 'x.safetensors', /hole: bytes \[0, 4\)/);
  });

  it('refuses bytes after the last tensor, saying how many', async () => {
    await expectInputError(
      () => openSafetensors(new Blob([safetensors({ a: f32([1], 0, 4) }, 7)]), 'x.safetensors'),
      'x.safetensors',
      /has 3 bytes after the last tensor \(bytes \[4, 7\)/,
    );
  });

  it('accepts tensors in any header order that tile the buffer, and empty tensors anywhere', async () => {
    const file = await openSafetensors(
      new Blob([safetensors({ b: f32([1], 4, 8), e: f32([0], 8, 8), a: f32([1], 0, 4), z: f32([0, 3], 0, 0) }, 8)]),
      'x.safetensors',
    );
    expect(file.tensors.map((t) => t.name)).toEqual(['b', 'e', 'a', 'z']);
  });
});

describe('safetensors keeps the header order of names', () => {
  it('integer-like keys stay where the writer put them (JSON.parse would put them first)', async () => {
    const names = ['b', '10', '2', 'a', '1', 'step_3/fc', '0'];
    const header = `{${names.map((n, i) => `"${n}": {"dtype": "F32", "shape": [1], "data_offsets": [${4 * i}, ${4 * i + 4}]}`).join(', ')}, "__metadata__": {"k": "v"}}`;
    const file = await openSafetensors(new Blob([safetensors(header, 4 * names.length)]), 'x.safetensors');
    expect(file.tensors.map((t) => t.name)).toEqual(names);
    expect(Object.keys(JSON.parse(header)).slice(0, 4)).toEqual(['0', '1', '2', '10']); // what the old reader listed first
  });

  it('escaped keys and nested objects do not confuse the key scan', async () => {
    const header =
      '{"a\\"b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": {"y": "}, \\"z\\": ["}}, "\\u0031": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}';
    const file = await openSafetensors(new Blob([safetensors(header, 8)]), 'x.safetensors');
    expect(file.tensors.map((t) => t.name)).toEqual(['a"b', '1']);
  });

  it('refuses a name written twice (JSON.parse would keep the last silently)', async () => {
    const header = '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}';
    await expectInputError(() => openSafetensors(new Blob([safetensors(header, 4)]), 'x.safetensors'), 'x.safetensors', /header lists 'a' twice/);
  });

  it('a bundle of integer-like layer names keeps their order', async () => {
    const header = { 'step_1/10': f32([4, 2], 0, 32), 'step_1/2': f32([4, 2], 32, 64), 'step_1/1': f32([4, 2], 64, 96) };
    const bundle = await openBundle('x', [{ path: 'x.safetensors', blob: new Blob([safetensors(header, 96)]) }]);
    expect(bundle.layers).toEqual(['10', '2', '1']);
  });
});

describe('.npy data of exactly the declared length', () => {
  const npy = encodeNpy([3, 4], new Float32Array(12));
  const longer = new Uint8Array(npy.length + 5);
  longer.set(npy);
  const shorter = npy.slice(0, npy.length - 6);

  it('a loose .npy with trailing bytes', async () => {
    const opened = await openArrays(new Blob([longer]), 'x.npy');
    await expectInputError(() => opened.read('x'), 'x.npy', /\(48 bytes\) but 53 bytes follow \(5 trailing bytes\)/);
  });

  it('an .npz member with trailing bytes (stored and deflated)', async () => {
    for (const level of [0, 6] as const) {
      const opened = await openArrays(new Blob([zipSync({ 'a.npy': longer }, { level })]), 'x.npz');
      await expectInputError(() => opened.read('a'), 'x.npz:a', /5 trailing bytes/);
    }
  });

  it('an .npz member with too few bytes', async () => {
    const opened = await openArrays(new Blob([zipSync({ 'a.npy': shorter }, { level: 0 })]), 'x.npz');
    await expectInputError(() => opened.read('a'), 'x.npz:a', /but only 42 bytes follow \(6 bytes missing\)/);
  });

  it('a bundle member with trailing bytes refuses that member by name, not silently', async () => {
    const files = [{ path: 'b.npz', blob: new Blob([zipSync({ 'step_1/fc.npy': longer, 'step_2/fc.npy': npy }, { level: 0 })]) }];
    const bundle = await openBundle('b', files);
    await bundle.entries[1].load();
    await expectInputError(() => bundle.entries[0].load(), 'b.npz:step_1/fc', /5 trailing bytes/);
  });
});

describe('activations that cannot be compared are refused, not scored', () => {
  const array = (shape: number[], seed = 1): NdArray => {
    const count = shape.reduce((p, d) => p * d, 1);
    return { shape, dtype: '<f4', data: Float32Array.from(count === 0 ? [] : randn(seed, count, 1).data) };
  };

  it.each([
    [
      [0, 24],
      [0, 24],
    ],
    [
      [600, 0],
      [600, 24],
    ],
    [[0], [0]],
    [
      [10, 0, 4, 4],
      [10, 3, 4, 4],
    ],
  ])('%j against %j: an empty dimension is an error, not a similarity of 0', async (a, b) => {
    const error = await refusal(() => comparePair({ name: 'a.npy', array: array(a) }, { name: 'b.npy', array: array(b, 2) }, DEFAULT_OPTIONS));
    expect(error.message).toMatch(/has an empty dimension \(axis \d is 0\): the array holds no values/);
  });

  it('(1, 24) against (600, 24) is not read as 24 datapoints of 600 neurons: refused, naming the guess', async () => {
    const error = await refusal(() =>
      comparePair({ name: 'one.npy', array: array([1, 24]) }, { name: 'many.npy', array: array([600, 24], 2) }, DEFAULT_OPTIONS),
    );
    expect(error.message).toMatch(/^one\.npy: has 24 datapoints but many\.npy has 600/);
    expect(error.message).toMatch(/the datapoints axis was guessed from the shape alone, one\.npy: \(1, 24\): the second axis is larger.*set the layout/);
  });

  it('the same pair with the layout set by the user is compared as told, without a guess', async () => {
    // Told neurons-first: 24 datapoints each, of 1 and of 600 neurons.
    const result = await comparePair(
      { name: 'one.npy', array: array([1, 24]) },
      { name: 'many.npy', array: array([600, 24], 2) },
      { ...DEFAULT_OPTIONS, metric: 'cka', layout: 'neurons-first' },
    );
    expect(result.datapoints).toBe(24);
    expect(result.warnings.filter((w) => /guessed/.test(w))).toEqual([]);
  });

  it('warns when the datapoints axis had to be guessed from an orientation', async () => {
    const result = await comparePair(
      { name: 'a.npy', array: array([40, 40]) },
      { name: 'b.npy', array: array([40, 40], 2) },
      { ...DEFAULT_OPTIONS, metric: 'cka' },
    );
    expect(result.warnings).toContain(
      'a.npy: datapoints axis guessed from the shape alone: (40, 40): both axes match the 40 datapoints of the other arrays; assumed datapoints-first; set the layout if that is wrong',
    );
    expect(result.warnings.some((w) => w.startsWith('b.npy: datapoints axis guessed'))).toBe(true);
  });

  it('does not warn when the shapes say which axis is datapoints', async () => {
    const result = await comparePair(
      { name: 'a.npy', array: array([300, 10]) },
      { name: 'b.npy', array: array([300, 12], 2) },
      { ...DEFAULT_OPTIONS, metric: 'cka' },
    );
    expect(result.warnings.filter((w) => /guessed/.test(w))).toEqual([]);
  });

  it.each([
    [
      [
        [1, 24],
        [600, 24],
      ],
      undefined,
    ],
    [
      [
        [1, 24],
        [1, 24],
      ],
      24,
    ],
    [
      [
        [300, 10],
        [300, 12],
      ],
      300,
    ],
    [
      [
        [10, 300],
        [12, 300],
      ],
      300,
    ],
    [
      [
        [500, 30],
        [1, 30],
      ],
      undefined,
    ],
    [
      [
        [500, 30],
        [2, 30],
      ],
      30,
    ], // (2, 30) is evidence: 30 datapoints of 2 neurons
    [
      [
        [2, 30],
        [5, 30],
      ],
      30,
    ],
    [[[600], [600, 24]], 600],
    [
      [
        [8, 3, 4, 4],
        [2, 8],
      ],
      8,
    ],
  ] as [number[][], number | undefined][])('datapointsFromShapes(%j) = %s', (shapes, expected) => {
    expect(datapointsFromShapes(shapes)).toBe(expected);
  });
});

describe('traversal-like names are data, flagged', () => {
  const npy = (seed: number) => encodeNpy([6, 2], Float32Array.from(randn(seed, 6, 2).data));

  it('in an .npz: members named ../, absolute, with backslashes are read as names and listed in one warning', async () => {
    const zip = zipSync(
      { 'step_1/../../etc/passwd.npy': npy(1), 'step_2/../../etc/passwd.npy': npy(2), '/abs.npy': npy(3), 'step_1\\fc.npy': npy(4) },
      { level: 0 },
    );
    const read = await readInput('t', [{ path: 't.npz', blob: new Blob([zip]) }]);
    expect(read.bundle.layers).toEqual(['../../etc/passwd']);
    expect(read.bundle.unmatched).toEqual(['t.npz:/abs', 't.npz:step_1\\fc']);
    expect(read.warnings).toHaveLength(1);
    expect(read.warnings[0]).toBe(
      "t.npz: 4 names inside look like paths leaving the file: 'step_1/../../etc/passwd' ('..' segment), 'step_2/../../etc/passwd' ('..' segment), '/abs' (an absolute path), 'step_1\\fc' (a backslash); read as plain names, never as paths".replace(
        /\('\.\.' segment\)/g,
        "(a '..' segment)",
      ),
    );
    expect(Array.from((await read.bundle.entries[0].load()).data)).toEqual(Array.from(randn(1, 6, 2).data).map(Math.fround));
    read.close();
  });

  it('in a safetensors file, with a control character in the name too', async () => {
    const header = { '../x\u001b[2J': f32([1], 0, 4), 'C:\\w': f32([1], 4, 8), ok: f32([1], 8, 12) };
    const read = await readInput('s', [{ path: 's.safetensors', blob: new Blob([safetensors(header, 12)]) }]);
    expect(read.warnings).toEqual([
      "s.safetensors: 2 names inside look like paths leaving the file: '../x\\x1b[2J' (a '..' segment), 'C:\\w' (a drive-letter path); read as plain names, never as paths",
    ]);
    expect(read.loose.map((l) => l.source)).toEqual(['s.safetensors:../x\u001b[2J', 's.safetensors:C:\\w', 's.safetensors:ok']);
  });

  it('ordinary names raise no warning', async () => {
    const read = await readInput('s', [
      { path: 's.safetensors', blob: new Blob([safetensors({ 'step_1/a..b': f32([1], 0, 4), 'run.1/step_2/x': f32([1], 4, 8) }, 8)]) },
    ]);
    expect(read.warnings).toEqual([]);
  });
});

describe('labels are checked where they are loaded', () => {
  const layers = (n: number) => ({
    'step_1/fc.npy': encodeNpy([n, 3], Float32Array.from(randn(1, n, 3).data)),
    'step_2/fc.npy': encodeNpy([n, 3], Float32Array.from(randn(2, n, 3).data)),
  });
  const open = (labels: Uint8Array) => openBundle('b', [{ path: 'b.npz', blob: new Blob([zipSync({ ...layers(20), 'labels.npy': labels }, { level: 0 })]) }]);
  const f64 = (shape: number[], values: number[]) => encodeNpy(shape, Float64Array.from(values));
  const classes = Array.from({ length: 20 }, (_, i) => i % 4);

  it.each([
    ['one label per datapoint', f64([20], classes)],
    ['an (N, 1) column', f64([20, 1], classes)],
  ])('keeps %s', async (_, labels) => {
    const bundle = await open(labels);
    expect(Array.from(bundle.labels!.data)).toEqual(classes);
    expect(bundle.warnings).toEqual([]);
  });

  it.each([
    ['the wrong length', f64([19], classes.slice(1)), 'b.npz:labels: 19 labels for 20 datapoints; there must be one label per datapoint'],
    [
      'non-integer classes',
      f64(
        [20],
        classes.map((c, i) => (i === 3 ? 0.5 : c)),
      ),
      'b.npz:labels: label 3 is 0.5, not an integer; labels must be integer classes',
    ],
    ['a 2-D array', f64([10, 2], classes), 'b.npz:labels: labels must be 1-D (one class per datapoint) or (N, 1), not shape (10, 2)'],
    [
      'a NaN',
      f64(
        [20],
        classes.map((c, i) => (i === 7 ? Number.NaN : c)),
      ),
      'b.npz:labels: label 7 is NaN; labels must be integer classes',
    ],
    [
      'an infinity',
      f64(
        [20],
        classes.map((c, i) => (i === 0 ? -Infinity : c)),
      ),
      'b.npz:labels: label 0 is -Inf; labels must be integer classes',
    ],
    ['nothing', f64([0], []), 'b.npz:labels: labels are empty'],
  ])('leaves out labels of %s with a warning naming them; the bundle loads', async (_, labels, message) => {
    const bundle = await open(labels);
    expect(bundle.labels).toBeNull();
    expect(bundle.entries).toHaveLength(2);
    expect(bundle.warnings).toEqual([`${message}; the labels are left out (the arrays load without them)`]);
  });

  it('a labels.npy beside a folder bundle is named by its path', async () => {
    const files = Object.entries(layers(20)).map(([path, bytes]) => ({ path: `run/${path}`, blob: new Blob([bytes]) }));
    files.push({ path: 'run/labels.npy', blob: new Blob([f64([21], [...classes, 0])]) });
    const read = await readInput('run', files);
    expect(read.bundle.labels).toBeNull();
    expect(read.warnings).toEqual([
      'run/labels.npy: 21 labels for 20 datapoints; there must be one label per datapoint; the labels are left out (the arrays load without them)',
    ]);
  });
});
