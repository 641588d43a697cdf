// What the .npy and .safetensors readers share: decoding raw bytes of one stored dtype into
// Float32Array (f2, f4, bf16, every integer and bool) or Float64Array (f8), checking shapes and
// sizes before anything is allocated, and formatting shapes and sizes for messages.
//
// Shape convention: this module sees only a flat run of elements in the order they are stored;
// it never reorders them (Fortran re-layout happens in npy.ts, layout guessing in layout.ts).

import { printable } from './printable';
import { InputError } from './types';
import type { ReadLimits } from './types';

/** The element types the readers understand, named after numpy's kind + item size. */
export type ElementType = 'f2' | 'f4' | 'f8' | 'bf16' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8' | 'b1';

export const ITEM_SIZE: Record<ElementType, number> = {
  f2: 2,
  f4: 4,
  f8: 8,
  bf16: 2,
  i1: 1,
  i2: 2,
  i4: 4,
  i8: 8,
  u1: 1,
  u2: 2,
  u4: 4,
  u8: 8,
  b1: 1,
};

/** Typed arrays use the host's byte order; every current browser and Node platform is little-endian,
 *  but the zero-copy paths below only run when that is actually true. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes `count` elements of `type` from `bytes` (which must hold at least count·itemsize bytes).
 * f4 and f8 data already in host byte order and aligned is returned as a view on `bytes.buffer`
 * without copying (so a 2 GiB array is not held twice); every other case allocates the result.
 */
export function decodeElements(bytes: Uint8Array, type: ElementType, count: number, littleEndian: boolean): Float32Array | Float64Array {
  const size = ITEM_SIZE[type];
  if ((type === 'f4' || type === 'f8') && littleEndian === HOST_LITTLE_ENDIAN) {
    // Typed-array views need an offset that is a multiple of the item size; copy when it is not.
    const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice(0, count * size);
    return type === 'f4' ? new Float32Array(aligned.buffer, aligned.byteOffset, count) : new Float64Array(aligned.buffer, aligned.byteOffset, count);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  if (type === 'f8') {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, littleEndian);
    return out;
  }
  const out = new Float32Array(count);
  switch (type) {
    case 'f4':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, littleEndian);
      break;
    case 'f2': {
      // The float32 bit pattern of every half value (NaN and ±Inf included) from a table of all 65 536:
      // a lookup per element instead of a DataView read and a branchy conversion (~10× faster on a
      // 190 MB float16 bundle, where decoding was most of reading).
      const bits = new Uint32Array(out.buffer);
      const table = halfTable();
      if (littleEndian === HOST_LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
        const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
        for (let i = 0; i < count; i++) bits[i] = table[halves[i]];
      } else {
        for (let i = 0; i < count; i++) bits[i] = table[view.getUint16(i * 2, littleEndian)];
      }
      break;
    }
    case 'bf16': {
      // bfloat16 is the upper half of a float32.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, littleEndian) << 16;
      break;
    }
    case 'i1':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 'u1':
      out.set(bytes.subarray(0, count));
      break;
    case 'b1':
      // numpy and safetensors store bools as one byte; any non-zero byte is true.
      for (let i = 0; i < count; i++) out[i] = bytes[i] === 0 ? 0 : 1;
      break;
    case 'i2':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, littleEndian);
      break;
    case 'u2':
      for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, littleEndian);
      break;
    case 'i4':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, littleEndian);
      break;
    case 'u4':
      for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, littleEndian);
      break;
    case 'i8':
    case 'u8': {
      // high · 2³² + low is exact below 2⁵³ and rounds once above; float32 then rounds again.
      const hiOffset = littleEndian ? 4 : 0;
      const loOffset = littleEndian ? 0 : 4;
      const signed = type === 'i8';
      for (let i = 0; i < count; i++) {
        const hi = signed ? view.getInt32(i * 8 + hiOffset, littleEndian) : view.getUint32(i * 8 + hiOffset, littleEndian);
        out[i] = hi * 4294967296 + view.getUint32(i * 8 + loOffset, littleEndian);
      }
      break;
    }
  }
  return out;
}

let halfBits: Uint32Array | null = null;

/** halfToFloatBits of every 16-bit pattern (256 KB), built on first use. */
function halfTable(): Uint32Array {
  if (!halfBits) {
    halfBits = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) halfBits[h] = halfToFloatBits(h);
  }
  return halfBits;
}

/** IEEE half bits → float32 bits (sign, exponent rebias 15 → 127, mantissa 10 → 23 bits). */
function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  let exponent = (h >> 10) & 0x1f;
  let mantissa = h & 0x3ff;
  if (exponent === 0x1f) return sign | 0x7f800000 | (mantissa << 13); // ±Inf, NaN (payload kept)
  if (exponent !== 0) return sign | ((exponent + 112) << 23) | (mantissa << 13);
  if (mantissa === 0) return sign; // ±0
  // Subnormal half (mantissa · 2⁻²⁴): normalise, lowering the exponent once per shift.
  exponent = 113;
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    exponent--;
  }
  return sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
}

/** "(3, 4)", "(5,)", "()" as numpy prints shapes. */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** "512 B", "1.5 MiB", "100 GiB": sizes in messages. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${Number(value.toPrecision(3))} ${units[unit]}`;
}

/**
 * Number of elements of `shape`, after checking that every dimension is a non-negative integer and
 * that the product stays exact (≤ Number.MAX_SAFE_INTEGER). Throws InputError naming `source`.
 */
export function elementCount(shape: readonly unknown[], source: string): number {
  let count = 1;
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isInteger(dim)) {
      throw new InputError(source, `shape (${shape.map(describeValue).join(', ')}) has a dimension that is not an integer: ${describeValue(dim)}`);
    }
    if (dim < 0) throw new InputError(source, `shape ${formatShape(shape as number[])} has a negative dimension`);
    if (!Number.isSafeInteger(dim) || !Number.isSafeInteger(count * dim)) {
      throw new InputError(source, `shape ${formatShape(shape as number[])} has too many elements to count (over 2^53)`);
    }
    count *= dim;
  }
  return count;
}

/**
 * A value taken from a file, described for a message: numbers as written (a NaN or an infinity in
 * words), strings quoted and escaped, anything else by its kind — never "[object Object]",
 * "undefined" or "NaN".
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'not-a-number' : Number.isFinite(value) ? String(value) : value > 0 ? 'infinity' : '-infinity';
  if (typeof value === 'string') return `'${printable(value, 40)}'`;
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  return Array.isArray(value) ? 'a list' : 'an object';
}

/** Refuses, before anything is allocated, an array whose stored size is over limits.maxArrayBytes. */
export function checkArrayBytes(count: number, type: ElementType, shape: readonly number[], dtype: string, source: string, limits: ReadLimits): number {
  const bytes = count * ITEM_SIZE[type];
  if (bytes > limits.maxArrayBytes) {
    throw new InputError(
      source,
      `shape ${formatShape(shape)} of ${dtype} needs ${formatBytes(bytes)}, over the ${formatBytes(limits.maxArrayBytes)} limit for one array`,
    );
  }
  return bytes;
}
