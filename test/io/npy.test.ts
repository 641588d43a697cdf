// .npy reader and writer against numpy-written fixtures, and every malformed-file case we refuse.
// Shape convention: arrays come back as stored, C order (Fortran files re-laid).

import { describe, expect, it } from 'vitest';
import { encodeNpy, openNpy, parseNpy, readNpyHeader } from '../../src/io/npy';
import { DEFAULT_LIMITS } from '../../src/io/types';
import { EXPECTED, expectArray, expectInputError, fixtureBlob, fixtureBytes, npyWithHeader } from './helpers';

const NPY_FIXTURES = Object.keys(EXPECTED).filter((key) => key.startsWith('npy/'));

describe('parseNpy on numpy-written files', () => {
  it('covers every dtype and byte order', () => {
    const dtypes = new Set(NPY_FIXTURES.map((key) => EXPECTED[key].dtype));
    for (const dtype of ['<f2', '>f2', '<f4', '>f4', '<f8', '>f8', '|i1', '<i2', '>i2', '<i4', '>i4', '<i8', '>i8', '|u1', '<u2', '<u4', '<u8', '|b1']) {
      expect(dtypes).toContain(dtype);
    }
  });

  it.each(NPY_FIXTURES)('%s', (key) => {
    expectArray(parseNpy(fixtureBytes(key), key), key);
  });

  it('re-lays Fortran order into C order with the logical shape', () => {
    const header = readNpyHeader(fixtureBytes('npy/f4_fortran.npy'), 'f4_fortran.npy');
    expect(header.fortranOrder).toBe(true);
    expect(header.shape).toEqual([2, 3, 4]);
    const array = parseNpy(fixtureBytes('npy/f4_fortran.npy'), 'f4_fortran.npy');
    // C order: element [1, 2, 3] is the last, element [0, 1, 0] is the fifth.
    expect(array.data[23]).toBe(EXPECTED['npy/f4_fortran.npy'].values[23]);
    expect(array.data[4]).toBe(-1 + 4 * 0.5);
  });

  it('reads the header alone, with the data offset', () => {
    expect(readNpyHeader(fixtureBytes('npy/f8_be.npy'), 'f8_be.npy')).toEqual({
      shape: [3, 4],
      dtype: '>f8',
      fortranOrder: false,
      dataOffset: 128,
    });
    expect(readNpyHeader(fixtureBytes('npy/v2.npy'), 'v2.npy').dataOffset % 64).toBe(0);
    expect(readNpyHeader(fixtureBytes('npy/scalar.npy'), 'scalar.npy').shape).toEqual([]);
  });

  it('refuses trailing bytes after the data, saying how many (issue 12: the shape does not describe the data)', async () => {
    const bytes = fixtureBytes('npy/f4_le.npy');
    const longer = new Uint8Array(bytes.length + 7);
    longer.set(bytes);
    const detail = /data does not match its shape: the header declares shape \(3, 4\) of <f4 \(48 bytes\) but 55 bytes follow \(7 trailing bytes\)/;
    await expectInputError(() => parseNpy(longer, 'f4_le.npy'), 'f4_le.npy', detail);
    // Through openNpy (what bundles and the CLI use): refused on read, without reading the extra bytes.
    const npy = await openNpy(new Blob([longer]), 'f4_le.npy');
    await expectInputError(() => npy.read(), 'f4_le.npy', detail);
  });

  it('reads data that does not start on an aligned offset', () => {
    const bytes = fixtureBytes('npy/f8_le.npy');
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expectArray(parseNpy(shifted.subarray(1), 'f8_le.npy'), 'npy/f8_le.npy');
  });

  it('opens a Blob reading the header first, then only header + data', async () => {
    const npy = await openNpy(fixtureBlob('npy/i2_be_fortran.npy'), 'i2_be_fortran.npy');
    expect(npy.header).toMatchObject({ shape: [3, 4], dtype: '>i2', fortranOrder: true });
    expectArray(await npy.read(), 'npy/i2_be_fortran.npy');
  });

  it('accepts the literal forms numpy and Python 2 wrote', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const forms = [
      `{"descr": "<f4", "fortran_order": False, "shape": (3,)}`,
      `{ 'shape' : ( 3 , ) , 'fortran_order' : False , 'descr' : '<f4' , }\n`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }`,
      `{'descr': '=f4', 'fortran_order': True, 'shape': (3,), }`,
    ];
    for (const header of forms) {
      expect(Array.from(parseNpy(npyWithHeader(header, data), 'forms.npy').data)).toEqual([1, 2, 3]);
    }
    expect(parseNpy(npyWithHeader(`{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }`, data, 3), 'v3.npy').shape).toEqual([1, 3]);
  });
});

describe('encodeNpy', () => {
  it('writes exactly what numpy writes for <f4 and <f8', () => {
    for (const [key, Type] of [
      ['npy/f4_le.npy', Float32Array],
      ['npy/f8_le.npy', Float64Array],
    ] as const) {
      const { shape, values } = EXPECTED[key];
      expect(encodeNpy(shape, Type.from(values))).toEqual(fixtureBytes(key));
    }
  });

  it('round-trips scalars, vectors and empty arrays', () => {
    const cases: [number[], Float32Array | Float64Array][] = [
      [[], new Float64Array([2.5])],
      [[5], new Float32Array([1, 2, 3, 4, 5])],
      [[0, 4], new Float32Array(0)],
      [[2, 1, 3], new Float64Array([1, -2, 3, -4, 5, -6])],
    ];
    for (const [shape, data] of cases) {
      const bytes = encodeNpy(shape, data);
      expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).toBe(0);
      const array = parseNpy(bytes, 'round.npy');
      expect(array.shape).toEqual(shape);
      expect(array.data).toEqual(data);
    }
  });

  it('refuses data that does not fill the shape', () => {
    expect(() => encodeNpy([2, 2], new Float32Array(3))).toThrow(RangeError);
  });
});

describe('parseNpy refuses bad files', { timeout: 5000 }, () => {
  const header = (dict: string) => npyWithHeader(dict, new Uint8Array(64));
  const good = fixtureBytes('npy/f4_le.npy');
  const withMagic = (bytes: number[]) => {
    const copy = good.slice();
    copy.set(bytes);
    return copy;
  };
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['an empty file', () => new Uint8Array(0), /^file is empty$/],
    ['a file cut inside the preamble', () => good.slice(0, 5), /truncated header: the file has only 5 bytes/],
    ['a file cut inside the header', () => good.slice(0, 50), /truncated header: it declares 128 bytes but the file has only 50/],
    ['a wrong magic', () => withMagic([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x5a]), /not a \.npy file/],
    ['a zip archive', () => withMagic([0x50, 0x4b, 0x03, 0x04]), /is a zip archive \(an \.npz\?\), not a \.npy file/],
    ['an unsupported version', () => withMagic([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 4, 0]), /unsupported \.npy format version 4\.0/],
    ['a function call', () => header(`__import__('os').system('echo hacked')`), /not a plain Python literal: unexpected name '__import__'/],
    ['a call inside the dict', () => header(`{'descr': eval('1'), 'fortran_order': False, 'shape': (3,), }`), /unexpected name 'eval'/],
    ['code after the dict', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } + x`), /unexpected text after the literal/],
    ['an operator in the shape', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (3*4,), }`), /expected ',' or '\)'/],
    ['an unterminated string', () => header(`{'descr': '<f4`), /unterminated string/],
    ['absurd nesting', () => header(`${'('.repeat(5000)}${')'.repeat(5000)}`), /nesting too deep/],
    ['a list instead of a dict', () => header(`[1, 2]`), /header is not a dict literal/],
    ['a missing key', () => header(`{'descr': '<f4', 'fortran_order': False}`), /header has no 'shape' key/],
    ['fortran_order not a bool', () => header(`{'descr': '<f4', 'fortran_order': 'no', 'shape': (3,)}`), /'fortran_order' is not True or False/],
    ['a shape that is a list', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': [3]}`), /'shape' is not a tuple/],
    ['a parenthesised int as shape', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (3)}`), /'shape' is not a tuple/],
    [
      'an object dtype',
      () => header(`{'descr': '|O', 'fortran_order': False, 'shape': (3,), }`),
      /object dtype '\|O' \(pickled Python objects\) cannot be read/,
    ],
    ['a complex64 dtype', () => header(`{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }`), /complex dtype '<c8' is not supported/],
    ['a complex128 dtype', () => header(`{'descr': '<c16', 'fortran_order': False, 'shape': (3,), }`), /complex dtype '<c16'/],
    ['a structured dtype', () => header(`{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (3,), }`), /structured dtype/],
    ['a unicode dtype', () => header(`{'descr': '<U8', 'fortran_order': False, 'shape': (3,), }`), /string dtype '<U8'/],
    ['a bytes dtype', () => header(`{'descr': '|S4', 'fortran_order': False, 'shape': (3,), }`), /string dtype '\|S4'/],
    ['a datetime dtype', () => header(`{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (3,), }`), /unsupported dtype '<M8\[ns\]'/],
    ['a long double', () => header(`{'descr': '<f16', 'fortran_order': False, 'shape': (3,), }`), /float dtype '<f16' is not supported/],
    ['a 16-byte int', () => header(`{'descr': '<i16', 'fortran_order': False, 'shape': (3,), }`), /unsupported dtype '<i16'/],
    ['a negative dimension', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }`), /shape \(-1, 4\) has a negative dimension/],
    ['a non-integer dimension', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (3.5, 4), }`), /not an integer/],
    ['a float-typed integral dimension', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (3.0, 4), }`), /not an integer/],
    ['a string dimension', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': ('3', 4), }`), /not an integer/],
    [
      'an overflowing element count',
      () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }`),
      /too many elements to count/,
    ],
    [
      'a huge shape',
      () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }`),
      /needs 3\.55 PiB, over the 2 GiB limit for one array/,
    ],
    [
      'data shorter than declared',
      () => good.slice(0, 128 + 20),
      /data is truncated: the header declares shape \(3, 4\) of <f4 \(48 bytes\) but only 20 bytes follow \(28 bytes missing\)/,
    ],
  ];

  it.each(cases)('%s', async (_, bytes, detail) => {
    await expectInputError(() => parseNpy(bytes(), 'bad.npy'), 'bad.npy', detail);
  });

  it('checks the header length against the limit before reading it', async () => {
    const bytes = npyWithHeader(`{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`, new Uint8Array(12), 2);
    new DataView(bytes.buffer).setUint32(8, 0xfffffff0, true);
    await expectInputError(() => parseNpy(bytes, 'big-header.npy'), 'big-header.npy', /header of 4294967280 bytes is over the 16777216-byte limit/);
  });

  it('applies caller limits', async () => {
    const limits = { ...DEFAULT_LIMITS, maxArrayBytes: 40 };
    await expectInputError(() => parseNpy(good, 'small.npy', limits), 'small.npy', /needs 48 B, over the 40 B limit/);
  });

  it('reports a truncated file through openNpy too', async () => {
    const blob = new Blob([good.slice(0, 140)]);
    const npy = await openNpy(blob, 'cut.npy');
    await expectInputError(() => npy.read(), 'cut.npy', /data is truncated/);
  });
});
