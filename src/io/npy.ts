// Reader and writer of numpy's .npy format (versions 1.0, 2.0, 3.0).
//
// Shape convention: arrays are returned as stored — `shape` is the file's shape, `data` is in
// C (row-major) order. Fortran-ordered files are re-laid into C order so that shape and data agree;
// no transposition to neurons × datapoints happens here (layout.ts only guesses, callers decide).
//
// File layout: "\x93NUMPY", major, minor, header length (u16 LE in 1.0, u32 LE in 2.0/3.0), then
// a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with
// spaces and '\n' (latin-1 in 1.0/2.0, utf-8 in 3.0), then the raw element data.

import { checkArrayBytes, decodeElements, describeValue, elementCount, formatShape, ITEM_SIZE } from './decode';
import type { ElementType } from './decode';
import { gatherStrided } from './arrayFile';
import { printable } from './printable';
import { DEFAULT_LIMITS, InputError } from './types';
import type { NdArray, ReadLimits } from './types';

export interface NpyHeader {
  /** Logical shape (C order), as declared. */
  shape: number[];
  /** The descr string as written ('<f4', '>i2', '|b1', …). */
  dtype: string;
  fortranOrder: boolean;
  /** Byte offset where the element data starts (= the whole header's length). */
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** Enough bytes to know the header length in every version: magic, version, u32 length. */
export const NPY_PREAMBLE_BYTES = 12;

/**
 * Reads the fixed preamble and returns the data offset (preamble + header length), checking magic,
 * version and header size first. `preamble` may be shorter than 12 bytes for a short file.
 */
export function npyDataOffset(preamble: Uint8Array, source: string, limits: ReadLimits = DEFAULT_LIMITS): number {
  if (preamble.length === 0) throw new InputError(source, 'file is empty');
  const zipMagic = [0x50, 0x4b, 0x03, 0x04];
  if (preamble.length >= 4 && zipMagic.every((b, i) => preamble[i] === b)) {
    throw new InputError(source, 'is a zip archive (an .npz?), not a .npy file');
  }
  for (let i = 0; i < Math.min(MAGIC.length, preamble.length); i++) {
    if (preamble[i] !== MAGIC[i]) throw new InputError(source, 'not a .npy file (it does not start with "\\x93NUMPY")');
  }
  if (preamble.length < 8) throw new InputError(source, `truncated header: the file has only ${preamble.length} bytes`);
  const major = preamble[6];
  const minor = preamble[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    throw new InputError(source, `unsupported .npy format version ${major}.${minor} (1.0, 2.0 and 3.0 can be read)`);
  }
  const lengthBytes = major === 1 ? 2 : 4;
  if (preamble.length < 8 + lengthBytes) {
    throw new InputError(source, `truncated header: the file has only ${preamble.length} bytes`);
  }
  const view = new DataView(preamble.buffer, preamble.byteOffset + 8, lengthBytes);
  const headerLength = major === 1 ? view.getUint16(0, true) : view.getUint32(0, true);
  if (headerLength > limits.maxHeaderBytes) {
    throw new InputError(source, `header of ${headerLength} bytes is over the ${limits.maxHeaderBytes}-byte limit`);
  }
  return 8 + lengthBytes + headerLength;
}

/** Parses and validates the header (dtype supported, shape valid, size within limits) without touching the data. */
export function readNpyHeader(bytes: Uint8Array, source: string, limits: ReadLimits = DEFAULT_LIMITS): NpyHeader {
  const dataOffset = npyDataOffset(bytes.subarray(0, NPY_PREAMBLE_BYTES), source, limits);
  if (bytes.length < dataOffset) {
    throw new InputError(source, `truncated header: it declares ${dataOffset} bytes but the file has only ${bytes.length}`);
  }
  const major = bytes[6];
  const start = major === 1 ? 10 : 12;
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(bytes.subarray(start, dataOffset));
  } catch {
    throw new InputError(source, 'header is not valid utf-8');
  }
  const dict = parsePyLiteral(text, source);
  if (!(dict instanceof Map)) throw new InputError(source, 'header is not a dict literal');
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!dict.has(key)) throw new InputError(source, `header has no '${key}' key`);
  }
  const descr = dict.get('descr');
  const { type } = parseDescr(descr, source);
  const fortranOrder = dict.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') throw new InputError(source, "header's 'fortran_order' is not True or False");
  const shapeValue = dict.get('shape');
  if (!(shapeValue instanceof PyTuple)) throw new InputError(source, "header's 'shape' is not a tuple");
  const shapeItems = shapeValue.items.map((d) => (d instanceof PyFloat ? d.value : d));
  if (shapeValue.items.some((d) => typeof d !== 'number')) {
    throw new InputError(source, `shape (${shapeItems.map(describeValue).join(', ')}) has a dimension that is not an integer`);
  }
  const shape = shapeItems as number[];
  const count = elementCount(shape, source);
  checkArrayBytes(count, type, shape, descr as string, source, limits);
  return { shape, dtype: descr as string, fortranOrder, dataOffset };
}

/** Decodes a whole .npy file. The result's data may be a view on `bytes.buffer` (f4/f8 in native order). */
export function parseNpy(bytes: Uint8Array, source: string, limits: ReadLimits = DEFAULT_LIMITS): NdArray {
  const header = readNpyHeader(bytes, source, limits);
  const { type, littleEndian } = parseDescr(header.dtype, source);
  const count = elementCount(header.shape, source);
  const byteLength = count * ITEM_SIZE[type];
  checkDataLength(header, byteLength, bytes.length - header.dataOffset, source);
  let data = decodeElements(bytes.subarray(header.dataOffset, header.dataOffset + byteLength), type, count, littleEndian);
  if (header.fortranOrder && header.shape.length > 1) data = fortranToC(data, header.shape);
  return { shape: header.shape, dtype: header.dtype, data };
}

/**
 * Refuses data whose length is not what the header's shape × item size says: too few bytes (a cut
 * file) or more (trailing bytes: a shape that does not describe the data, or two arrays glued
 * together), saying by how many bytes. numpy itself refuses the first and ignores the second; both
 * mean the array is not what the file claims.
 */
function checkDataLength(header: NpyHeader, byteLength: number, available: number, source: string): void {
  if (available === byteLength) return;
  const declared = `the header declares shape ${formatShape(header.shape)} of ${printable(header.dtype)} (${byteLength} bytes)`;
  if (available < byteLength) {
    throw new InputError(source, `data is truncated: ${declared} but only ${available} bytes follow (${byteLength - available} bytes missing)`);
  }
  throw new InputError(
    source,
    `data does not match its shape: ${declared} but ${available} bytes follow (${available - byteLength} trailing bytes); the shape or the file is wrong`,
  );
}

/**
 * Reads the header from a source that hands out prefixes: `readPrefix(n)` returns the first n bytes
 * (fewer when the content is shorter). Lets archives list shapes without reading any data.
 */
export async function readNpyHeaderFrom(
  readPrefix: (length: number) => Promise<Uint8Array>,
  source: string,
  limits: ReadLimits = DEFAULT_LIMITS,
): Promise<NpyHeader> {
  const dataOffset = npyDataOffset(await readPrefix(NPY_PREAMBLE_BYTES), source, limits);
  return readNpyHeader(await readPrefix(dataOffset), source, limits);
}

export interface NpyFile {
  header: NpyHeader;
  /** Reads the header and data bytes and decodes them; refuses a file whose data is longer or
   *  shorter than its shape says (trailing bytes are refused without being read). */
  read(): Promise<NdArray>;
}

/** Opens a .npy Blob reading only its header; the data is read by `read()`. */
export async function openNpy(blob: Blob, source: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<NpyFile> {
  const readPrefix = async (length: number) => new Uint8Array(await blob.slice(0, length).arrayBuffer());
  const header = await readNpyHeaderFrom(readPrefix, source, limits);
  const { type } = parseDescr(header.dtype, source);
  const byteLength = elementCount(header.shape, source) * ITEM_SIZE[type];
  const end = header.dataOffset + byteLength;
  return {
    header,
    read: async () => {
      // Trailing bytes are refused without reading them; a short file is found by parseNpy.
      if (blob.size > end) checkDataLength(header, byteLength, blob.size - header.dataOffset, source);
      return parseNpy(await readPrefix(end), source, limits);
    },
  };
}

/**
 * Writes a .npy (format 1.0, little-endian '<f4' or '<f8', C order). `data` holds the elements of
 * `shape` in C order.
 */
export function encodeNpy(shape: readonly number[], data: Float32Array | Float64Array): Uint8Array<ArrayBuffer> {
  const count = shape.reduce((p, d) => p * d, 1);
  if (count !== data.length) throw new RangeError(`encodeNpy: shape ${formatShape(shape)} needs ${count} values, got ${data.length}`);
  const descr = data instanceof Float64Array ? '<f8' : '<f4';
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${formatShape(shape)}, }`;
  // numpy pads with spaces so the data starts on a 64-byte boundary, and ends the header with '\n'.
  const unpadded = 10 + dict.length + 1;
  const headerText = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (headerText.length > 0xffff) throw new RangeError('encodeNpy: shape too long for a version 1.0 header');
  const out = new Uint8Array(10 + headerText.length + data.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerText.length, true);
  for (let i = 0; i < headerText.length; i++) out[10 + i] = headerText.charCodeAt(i);
  const body = new DataView(out.buffer, 10 + headerText.length);
  const size = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < data.length; i++) {
    if (size === 8) body.setFloat64(i * 8, data[i], true);
    else body.setFloat32(i * 4, data[i], true);
  }
  return out;
}

/** Maps a descr string to an element type, refusing everything the app cannot use as activations. */
function parseDescr(descr: PyValue | undefined, source: string): { type: ElementType; littleEndian: boolean } {
  if (Array.isArray(descr)) {
    throw new InputError(source, 'structured dtype (a list of named fields) is not supported: save each field as its own array');
  }
  if (typeof descr !== 'string') throw new InputError(source, "header's 'descr' is not a dtype string");
  const match = /^([<>=|]?)([a-zA-Z?])(\d*)$/.exec(descr);
  if (!match) throw new InputError(source, `unsupported dtype '${printable(descr)}'`);
  const [, order, kind, sizeText] = match;
  const size = Number(sizeText);
  const littleEndian = order !== '>';
  const typed = (type: ElementType) => ({ type, littleEndian });
  switch (kind) {
    case 'f':
      if (size === 2 || size === 4 || size === 8) return typed(`f${size}` as ElementType);
      throw new InputError(source, `float dtype '${printable(descr)}' is not supported (float16, float32 and float64 are)`);
    case 'i':
    case 'u':
      if (size === 1 || size === 2 || size === 4 || size === 8) return typed(`${kind}${size}` as ElementType);
      break;
    case 'b':
    case '?':
      if (size === 1 || sizeText === '') return typed('b1');
      break;
    case 'c':
      throw new InputError(source, `complex dtype '${printable(descr)}' is not supported: save the real and imaginary parts as separate arrays`);
    case 'O':
      throw new InputError(source, `object dtype '${printable(descr)}' (pickled Python objects) cannot be read: save a numeric array`);
    case 'S':
    case 'a':
    case 'U':
      throw new InputError(source, `string dtype '${printable(descr)}' is not supported: activations must be numbers`);
    case 'V':
      throw new InputError(source, `void/structured dtype '${printable(descr)}' is not supported`);
    case 'M':
    case 'm':
      throw new InputError(source, `datetime dtype '${printable(descr)}' is not supported: activations must be numbers`);
  }
  throw new InputError(source, `unsupported dtype '${printable(descr)}'`);
}

/** Re-lays Fortran-order data (first axis fastest) into C order (last axis fastest) for the same
 *  shape: a strided gather whose stride on axis k is the product of the dimensions before it. */
function fortranToC<T extends Float32Array | Float64Array>(source: T, shape: readonly number[]): T {
  const strides: number[] = [];
  let stride = 1;
  for (const dim of shape) {
    strides.push(stride);
    stride *= dim;
  }
  return gatherStrided(source, shape, strides, 0);
}

// ---------------------------------------------------------------------------------------------
// A safe parser for the Python literals numpy writes in headers (never eval): dicts with string
// keys, tuples, lists, strings, integers, floats, True/False/None. Anything else — a name, a call,
// an operator — is refused.

/** A Python tuple (distinct from a list, which is a plain array). */
class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
/** A Python float, kept apart from ints so that a shape like (3.0, 4) is refused. */
class PyFloat {
  constructor(readonly value: number) {}
}
type PyValue = string | number | boolean | null | PyFloat | PyTuple | PyValue[] | Map<string, PyValue>;

/** Deeper nesting than this is not something numpy writes; the cap keeps recursion bounded. */
const MAX_DEPTH = 32;

function parsePyLiteral(text: string, source: string): PyValue {
  let pos = 0;
  const fail = (what: string): never => {
    const near = text.slice(pos, pos + 20).replace(/\s+/g, ' ');
    throw new InputError(source, `header is not a plain Python literal: ${what} at character ${pos} ("${printable(near, 40)}")`);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const expect = (char: string) => {
    skipSpace();
    if (text[pos] !== char) fail(`expected '${char}'`);
    pos++;
  };

  /** Items up to `close`, comma-separated, trailing comma allowed; reports whether a comma was seen. */
  const items = (close: string, depth: number): { values: PyValue[]; comma: boolean } => {
    const values: PyValue[] = [];
    let comma = false;
    skipSpace();
    while (text[pos] !== close) {
      values.push(value(depth + 1));
      skipSpace();
      if (text[pos] === ',') {
        comma = true;
        pos++;
        skipSpace();
      } else if (text[pos] !== close) {
        fail(`expected ',' or '${close}'`);
      }
    }
    pos++;
    return { values, comma };
  };

  const string = (): string => {
    const quote = text[pos++];
    let out = '';
    while (pos < text.length && text[pos] !== quote) {
      if (text[pos] === '\\') {
        const escaped = text[pos + 1];
        if (escaped !== '\\' && escaped !== "'" && escaped !== '"') fail('unsupported escape in a string');
        out += escaped;
        pos += 2;
      } else {
        out += text[pos++];
      }
    }
    if (pos >= text.length) fail('unterminated string');
    pos++;
    return out;
  };

  const number = (): number | PyFloat => {
    const match = /^[-+]?(\d+)(\.\d*)?([eE][-+]?\d+)?(L?)/.exec(text.slice(pos, pos + 400));
    if (!match || (match[4] && (match[2] || match[3]))) fail('malformed number');
    const [whole, , fraction, exponent, long] = match as RegExpExecArray;
    pos += whole.length;
    // Python 2 numpy wrote dimensions as longs ("3L"); Python's ast reads them as ints.
    const digits = long ? whole.slice(0, -1) : whole;
    return fraction !== undefined || exponent !== undefined ? new PyFloat(Number(digits)) : Number(digits);
  };

  const value = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    skipSpace();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const dict = new Map<string, PyValue>();
      skipSpace();
      while (text[pos] !== '}') {
        skipSpace();
        if (text[pos] !== "'" && text[pos] !== '"') fail('dict keys must be strings');
        const key = string();
        expect(':');
        dict.set(key, value(depth + 1));
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          skipSpace();
        } else if (text[pos] !== '}') {
          fail("expected ',' or '}'");
        }
      }
      pos++;
      return dict;
    }
    if (c === '(') {
      pos++;
      const { values, comma } = items(')', depth);
      // "(3)" is just 3 in Python; only a comma (or nothing at all) makes a tuple.
      return values.length === 1 && !comma ? values[0] : new PyTuple(values);
    }
    if (c === '[') {
      pos++;
      return items(']', depth).values;
    }
    if (c === "'" || c === '"') return string();
    if (c !== undefined && /[-+\d]/.test(c)) return number();
    const name = /^[A-Za-z_]\w*/.exec(text.slice(pos, pos + 100));
    if (name) {
      if (name[0] === 'True' || name[0] === 'False' || name[0] === 'None') {
        pos += name[0].length;
        return name[0] === 'None' ? null : name[0] === 'True';
      }
      fail(`unexpected name '${printable(name[0], 40)}'`);
    }
    return fail(c === undefined ? 'unexpected end' : `unexpected '${printable(c)}'`);
  };

  const result = value(0);
  skipSpace();
  if (pos < text.length) fail('unexpected text after the literal');
  return result;
}
