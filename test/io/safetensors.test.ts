// .safetensors reader: every dtype against a hand-written fixture, lazy reads, and bad headers.
// Shape convention: tensors come back as stored, C order.

import { describe, expect, it } from 'vitest';
import { openSafetensors } from '../../src/io/safetensors';
import { DEFAULT_LIMITS } from '../../src/io/types';
import { CountingBlob, expectArray, expectInputError, fixtureBlob, fixtureBytes } from './helpers';

/** A safetensors file from a header (object or raw text) and a data section. */
function safetensors(header: unknown, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): Uint8Array<ArrayBuffer> {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

describe('openSafetensors', () => {
  it('lists tensors in header order with their metadata', async () => {
    const file = await openSafetensors(fixtureBlob('safetensors/dtypes.safetensors'), 'dtypes.safetensors');
    expect(file.tensors.map((t) => `${t.name}:${t.dtype}`)).toEqual([
      'f32:F32',
      'f16:F16',
      'bf16:BF16',
      'f64:F64',
      'i8:I8',
      'i32:I32',
      'i64:I64',
      'u8:U8',
      'bool:BOOL',
    ]);
    expect(file.tensors[0]).toEqual({ name: 'f32', dtype: 'F32', shape: [3, 4], begin: 0, end: 48 });
    expect(file.metadata).toEqual({ format: 'pt', source: 'make_io_fixtures.py' });
  });

  it.each(['f32', 'f16', 'bf16', 'f64', 'i8', 'i32', 'i64', 'u8', 'bool'])('reads %s', async (name) => {
    const file = await openSafetensors(fixtureBlob('safetensors/dtypes.safetensors'), 'dtypes.safetensors');
    expectArray(await file.read(name), `dtypes.safetensors:${name}`);
  });

  it('reads only the header when opening, and only the tensor when reading', async () => {
    const bytes = fixtureBytes('safetensors/dtypes.safetensors');
    const counter = { bytes: 0 };
    const file = await openSafetensors(new CountingBlob([bytes], counter), 'dtypes.safetensors');
    const headerBytes = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(counter.bytes).toBe(headerBytes);
    await file.read('f64');
    expect(counter.bytes).toBe(headerBytes + 48);
  });

  it('accepts a file without metadata and with an empty tensor', async () => {
    const file = await openSafetensors(new Blob([safetensors({ e: { dtype: 'F32', shape: [0, 3], data_offsets: [0, 0] } })]), 'e.safetensors');
    expect(file.metadata).toBeNull();
    expect((await file.read('e')).shape).toEqual([0, 3]);
  });
});

describe('openSafetensors refuses bad files', { timeout: 5000 }, () => {
  const f32 = (shape: number[], offsets: number[]) => ({ t: { dtype: 'F32', shape, data_offsets: offsets } });
  const cases: [string, () => Uint8Array<ArrayBuffer>, string, RegExp][] = [
    ['a file shorter than 8 bytes', () => new Uint8Array(5), 'x.safetensors', /5 bytes is too short for the 8-byte header length/],
    [
      'a header length beyond the file',
      () => safetensors({}, new Uint8Array(0), 1000n),
      'x.safetensors',
      /header length 1000 runs past the end of the 10-byte file/,
    ],
    [
      'a header length over the limit',
      () => safetensors({}, new Uint8Array(0), 1n << 40n),
      'x.safetensors',
      /header length 1099511627776 is over the 16 MiB limit/,
    ],
    ['a header that is not JSON', () => safetensors('{"t": {"dtype": '), 'x.safetensors', /header is not valid JSON/],
    ['a header that is not UTF-8', () => safetensors('{}').map((b, i) => (i === 8 ? 0xff : b)), 'x.safetensors', /header is not valid JSON/],
    ['a header that is a list', () => safetensors([1, 2]), 'x.safetensors', /header is not a JSON object/],
    ['an entry that is not an object', () => safetensors({ t: 3 }), 'x.safetensors:t', /header entry is not an object/],
    [
      'an unknown dtype',
      () => safetensors({ t: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      'x.safetensors:t',
      /unknown or unsupported dtype 'F8_E4M3'/,
    ],
    ['a missing shape', () => safetensors({ t: { dtype: 'F32', data_offsets: [0, 4] } }, new Uint8Array(4)), 'x.safetensors:t', /no shape list/],
    ['a negative dimension', () => safetensors(f32([-1], [0, 4]), new Uint8Array(4)), 'x.safetensors:t', /negative dimension/],
    ['a fractional dimension', () => safetensors(f32([1.5], [0, 4]), new Uint8Array(4)), 'x.safetensors:t', /not an integer/],
    ['bad offsets', () => safetensors(f32([1], [0]), new Uint8Array(4)), 'x.safetensors:t', /data_offsets is not a pair of non-negative integers/],
    [
      'offsets beyond the data section',
      () => safetensors(f32([3], [0, 12]), new Uint8Array(8)),
      'x.safetensors:t',
      /data_offsets \[0, 12\] run past the 8-byte data section/,
    ],
    ['end before begin', () => safetensors(f32([0], [8, 4]), new Uint8Array(8)), 'x.safetensors:t', /data_offsets \[8, 4\] end before they begin/],
    [
      'a byte length that does not match the shape',
      () => safetensors(f32([3], [0, 8]), new Uint8Array(8)),
      'x.safetensors:t',
      /hold 8 bytes but shape \(3,\) of F32 needs 12/,
    ],
    ['metadata that is not strings', () => safetensors({ __metadata__: { epoch: 3 } }), 'x.safetensors', /"__metadata__" is not an object of strings/],
  ];

  it.each(cases)('%s', async (_, bytes, source, detail) => {
    await expectInputError(() => openSafetensors(new Blob([bytes()]), 'x.safetensors'), source, detail);
  });

  it('a tensor name that is not there', async () => {
    const file = await openSafetensors(fixtureBlob('safetensors/dtypes.safetensors'), 'x.safetensors');
    await expectInputError(() => file.read('nope'), 'x.safetensors', /has no tensor 'nope' \(its tensors: f32, f16, bf16/);
  });

  it('a tensor over the array limit, refused before reading', async () => {
    const limits = { ...DEFAULT_LIMITS, maxArrayBytes: 40 };
    const file = await openSafetensors(fixtureBlob('safetensors/dtypes.safetensors'), 'x.safetensors', limits);
    await expectInputError(() => file.read('f32'), 'x.safetensors:f32', /shape \(3, 4\) of F32 needs 48 B, over the 40 B limit/);
  });
});
