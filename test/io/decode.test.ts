// decodeElements on float16: every one of the 65 536 half bit patterns, in each of the three ways
// the bytes can arrive (little-endian on an even offset: the table read through a Uint16Array view;
// an odd offset; big-endian), against the IEEE 754 binary16 definition computed here independently.

import { describe, expect, it } from 'vitest';
import { decodeElements } from '../../src/io/decode';

/** The value of half bit pattern h by definition: (−1)^s · 2^(e−15) · (1 + f/1024), subnormals 2^−14 · f/1024. */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** All 65 536 patterns as bytes in the given order, starting `offset` bytes into a buffer. */
function allHalves(littleEndian: boolean, offset: number): Uint8Array {
  const bytes = new Uint8Array(offset + 2 * 65536);
  const view = new DataView(bytes.buffer);
  for (let h = 0; h < 65536; h++) view.setUint16(offset + 2 * h, h, littleEndian);
  return bytes.subarray(offset);
}

describe('decodeElements: float16', () => {
  it.each([
    ['little-endian, even offset', true, 0],
    ['little-endian, odd offset', true, 1],
    ['big-endian', false, 0],
  ] as const)('%s: every bit pattern decodes to its exact value, signed zeros, infinities and NaN payloads included', (_, littleEndian, offset) => {
    const out = decodeElements(allHalves(littleEndian, offset), 'f2', 65536, littleEndian);
    expect(out).toBeInstanceOf(Float32Array);
    const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const expected = halfValue(h);
      if (Number.isNaN(expected)) {
        // A NaN keeps its sign and payload: the half's fraction, shifted into the float32's.
        const nanBits = ((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13);
        if (bits[h] !== nanBits >>> 0) wrong.push(`0x${h.toString(16)}: bits 0x${bits[h].toString(16)}`);
      } else if (!Object.is(out[h], expected)) wrong.push(`0x${h.toString(16)}: ${out[h]} instead of ${expected}`);
    }
    expect(wrong).toEqual([]);
  });
});
