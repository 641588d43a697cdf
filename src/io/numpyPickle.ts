// Reader of Python pickles of numpy arrays (.pkl, .pickle, .p): a bare array, or dicts/lists/tuples
// of them, as pickle.dump writes them with any protocol 0–5 (google/svcca's tutorials ship their
// activations this way). Read with the restricted unpickler of ./pickle: the only globals allowed
// are numpy's array and dtype reconstructors (numpy 1's `numpy.core.*` and numpy 2's
// `numpy._core.*` names), collections.OrderedDict and _codecs.encode (how protocols 0–2 store
// bytes); anything else is refused by name and nothing is run.
//
// Shape convention: arrays come back as stored (the pickled shape), data in C order (a Fortran-
// ordered array is re-laid); nothing is transposed to neurons × datapoints here.
//
// Memory: the data of a pickled array lies inside the pickle stream, so opening reads the whole
// file once to parse it (the file's size in memory, briefly); afterwards only the byte ranges of
// the arrays are remembered and read() slices the Blob again. Arrays whose bytes had to be
// converted (protocols 0–2 write bytes as latin-1 text) are kept as converted bytes instead.

import { checkArrayBytes, decodeElements, elementCount, formatBytes, formatShape, ITEM_SIZE } from './decode';
import type { ElementType } from './decode';
import { contiguousStrides, gatherStrided, listNames } from './arrayFile';
import type { ArrayFile, ArrayInfo } from './arrayFile';
import { asIntList, asString, collectLeaves, PyBytes, PyDict, PyGlobal, PyList, PyObject, PyText, PyTuple, typeOf, unpickle } from './pickle';
import type { GlobalImpl, PyValue } from './pickle';
import { printable } from './printable';
import { DEFAULT_LIMITS, InputError } from './types';
import type { NdArray, ReadLimits } from './types';

/** A numpy dtype made by numpy.dtype(typestr, align, copy) and completed by BUILD (byte order). */
export class NumpyDtype extends PyObject {
  readonly typeName = 'numpy.dtype';
  /** '<', '>' or '|' (not byte-ordered); numpy writes '|' for 1-byte types. */
  byteOrder = '=';
  structured = false;
  constructor(
    /** As numpy.dtype got it: 'f8', 'i4', 'b1', 'O8', 'U5', 'V16', … */
    readonly typestr: string,
  ) {
    super();
  }
  /** numpy's dtype.str: '<f4', '|u1', '>i2'. */
  get str(): string {
    const order = this.byteOrder === '=' ? (ITEM_SIZE_OF(this.typestr) === 1 ? '|' : '<') : this.byteOrder;
    return `${order}${this.typestr}`;
  }
  override build(state: PyValue, fail: (why: string) => never): void {
    // (version, endian, subarray, names, fields, elsize, alignment, flags[, metadata])
    if (!(state instanceof PyTuple) || state.items.length < 8) fail('dtype state is not the tuple numpy writes');
    const items = state.items;
    const endian = asString(items[1]);
    if (endian === null || !['<', '>', '|', '='].includes(endian)) fail('dtype state has no byte order');
    this.byteOrder = endian;
    if (items[2] !== null) this.structured = true; // a subarray dtype
    if (items[3] !== null || items[4] !== null) this.structured = true; // named fields
  }
}

function ITEM_SIZE_OF(typestr: string): number {
  const match = /^[a-zA-Z?](\d+)$/.exec(typestr);
  return match ? Number(match[1]) : 0;
}

/** An ndarray being rebuilt: made by _reconstruct, filled by BUILD; or made whole by _frombuffer. */
export class NumpyArray extends PyObject {
  readonly typeName = 'numpy.ndarray';
  shape: number[] = [];
  dtype: NumpyDtype | null = null;
  fortran = false;
  data: PyBytes | null = null;
  override build(state: PyValue, fail: (why: string) => never): void {
    // (version, shape, dtype, is_fortran, rawdata), or without the version in old pickles.
    if (!(state instanceof PyTuple) || (state.items.length !== 5 && state.items.length !== 4)) fail('ndarray state is not the tuple numpy writes');
    const items = state.items;
    const [shape, dtype, fortran, raw] = items.length === 5 ? items.slice(1) : items;
    this.fill(shape, dtype, fortran === true || fortran === 1, raw, fail);
  }
  fill(shape: PyValue, dtype: PyValue, fortran: boolean, raw: PyValue, fail: (why: string) => never): void {
    const dims = asIntList(shape);
    if (!dims) fail(`ndarray shape is a ${typeOf(shape)} of something other than integers`);
    if (!(dtype instanceof NumpyDtype)) fail(`ndarray dtype is a ${typeOf(dtype)}, not a numpy dtype`);
    const type = elementTypeOf(dtype, fail);
    const count = countOrFail(dims, fail);
    if (raw instanceof PyObject || raw instanceof PyTuple)
      fail(`holds an ndarray of dtype '${printable(dtype.str)}' whose data is a ${typeOf(raw)} (an object array?)`);
    let bytes: PyBytes;
    if (raw instanceof PyBytes) bytes = raw;
    else if (typeof raw === 'string')
      bytes = new PyBytes(latin1Bytes(raw, fail)); // Python 2 str unpickled as text
    else if (raw instanceof PyText) bytes = new PyBytes(utf8ToLatin1(raw.utf8, fail));
    else return fail(`ndarray data is a ${typeOf(raw)}, not bytes`);
    const needed = count * ITEM_SIZE[type];
    if (bytes.bytes.length !== needed) {
      fail(`ndarray of shape ${formatShape(dims)} and dtype '${printable(dtype.str)}' needs ${needed} bytes of data but holds ${bytes.bytes.length}`);
    }
    this.shape = dims!;
    this.dtype = dtype;
    this.fortran = fortran;
    this.data = bytes;
  }
}

/** A numpy scalar (np.float64(3.0) in a dict of results): allowed, never an array entry. */
class NumpyScalar extends PyObject {
  readonly typeName = 'numpy scalar';
}

function elementTypeOf(dtype: NumpyDtype, fail: (why: string) => never): ElementType {
  const shown = printable(dtype.str);
  if (dtype.structured) fail(`holds a structured dtype '${shown}' (named fields), which is not supported: save each field as its own array`);
  const match = /^([a-zA-Z?])(\d*)$/.exec(dtype.typestr);
  const kind = match?.[1];
  const size = Number(match?.[2] ?? 0);
  switch (kind ?? '') {
    case 'f':
      if (size === 2 || size === 4 || size === 8) return `f${size}` as ElementType;
      return fail(`holds a float dtype '${shown}', which is not supported (float16, float32 and float64 are)`);
    case 'i':
    case 'u':
      if (size === 1 || size === 2 || size === 4 || size === 8) return `${kind}${size}` as ElementType;
      break;
    case 'b':
    case '?':
      if (size === 1) return 'b1';
      break;
    case 'O':
      return fail(`holds an object array (dtype '${shown}', pickled Python objects), which cannot be read: save a numeric array`);
    case 'c':
      return fail(`holds a complex dtype '${shown}', which is not supported: save the real and imaginary parts as separate arrays`);
    case 'S':
    case 'a':
    case 'U':
      return fail(`holds a string dtype '${shown}', which is not supported: activations must be numbers`);
    case 'M':
    case 'm':
      return fail(`holds a datetime dtype '${shown}', which is not supported: activations must be numbers`);
  }
  return fail(`holds an unsupported dtype '${shown}'`);
}

/** elementCount, with its complaint reported through `fail` (which knows the source and position). */
export function countOrFail(shape: number[], fail: (why: string) => never): number {
  try {
    return elementCount(shape, '');
  } catch (error) {
    return fail(error instanceof InputError ? error.detail : String(error));
  }
}

function latin1Bytes(text: string, fail: (why: string) => never): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) fail('has bytes written as latin-1 text with a character beyond U+00FF');
    out[i] = code;
  }
  return out;
}

/** UTF-8 of text whose characters are all ≤ U+00FF → those characters as bytes, without a JS string. */
function utf8ToLatin1(utf8: Uint8Array, fail: (why: string) => never): Uint8Array {
  const out = new Uint8Array(utf8.length);
  let n = 0;
  for (let i = 0; i < utf8.length; i++) {
    const b = utf8[i];
    if (b < 0x80) {
      out[n++] = b;
    } else if ((b === 0xc2 || b === 0xc3) && i + 1 < utf8.length && (utf8[i + 1] & 0xc0) === 0x80) {
      out[n++] = ((b & 0x03) << 6) | (utf8[++i] & 0x3f);
    } else {
      fail('has bytes written as latin-1 text with a character beyond U+00FF, or invalid UTF-8');
    }
  }
  return out.slice(0, n);
}

const ndarrayClass: GlobalImpl = {
  call: (_args, fail) => fail('ndarray cannot be called directly'),
};

const reconstruct: GlobalImpl = {
  // numpy.core.multiarray._reconstruct(ndarray, (0,), b'b'): an empty array that BUILD fills.
  call(args, fail) {
    const cls = args[0];
    if (!(cls instanceof PyGlobal) || !/^numpy\.ndarray$/.test(cls.qualifiedName)) {
      fail(`rebuilds a ${typeOf(cls)} (only plain numpy.ndarray can be read)`);
    }
    return new NumpyArray();
  },
};

const fromBuffer: GlobalImpl = {
  // numpy.core.numeric._frombuffer(buffer, dtype, shape, order): protocol 5's form.
  call(args, fail) {
    if (args.length !== 4) fail(`takes 4 arguments, got ${args.length}`);
    const [buffer, dtype, shape, order] = args;
    const orderText = asString(order);
    if (orderText !== 'C' && orderText !== 'F') fail("has an order that is not 'C' or 'F'");
    const array = new NumpyArray();
    array.fill(shape, dtype, orderText === 'F', buffer, fail);
    return array;
  },
};

const dtypeClass: GlobalImpl = {
  // numpy.dtype('f8', False, True)
  call(args, fail) {
    const typestr = asString(args[0] ?? null);
    if (typestr === null || !/^[a-zA-Z?]\d*$/.test(typestr)) fail('dtype is made from something other than a type string');
    return new NumpyDtype(typestr!);
  },
};

const scalar: GlobalImpl = {
  call: () => new NumpyScalar(),
};

const orderedDict: GlobalImpl = {
  // OrderedDict() (Python 3 pickles; items follow by SETITEMS), or OrderedDict([[key, value], …])
  // as Python 2 pickled it, or OrderedDict(a_dict).
  call: (args, fail) => {
    const dict = new PyDict('OrderedDict');
    if (args.length === 0) return dict;
    const [items] = args;
    if (args.length > 1) fail(`OrderedDict is built from ${args.length} arguments`);
    if (items instanceof PyDict && items.typeName === 'dict') {
      for (const { key, value } of items.entries) dict.set(key, value);
      return dict;
    }
    const pairs = items instanceof PyList || items instanceof PyTuple ? items.items : null;
    if (!pairs) fail(`OrderedDict is built from a ${typeOf(items)}, not a list of pairs`);
    for (const pair of pairs!) {
      const kv = pair instanceof PyList || pair instanceof PyTuple ? pair.items : null;
      if (!kv || kv.length !== 2) fail('OrderedDict is built from a list whose items are not (key, value) pairs');
      dict.set(kv![0], kv![1]);
    }
    return dict;
  },
};

const codecsEncode: GlobalImpl = {
  // _codecs.encode(text, 'latin1'): how protocols 0–2 store Python 3 bytes.
  call(args, fail) {
    const [text, encoding] = args;
    if ((typeof text !== 'string' && !(text instanceof PyText)) || (encoding !== 'latin1' && encoding !== 'latin-1'))
      fail("is only allowed as encode(text, 'latin1')");
    return new PyBytes(text instanceof PyText ? utf8ToLatin1(text.utf8, fail) : latin1Bytes(text as string, fail));
  },
};

const emptyBytes: GlobalImpl = {
  // bytes() / bytes(b''): protocols 0–2 write empty bytes this way.
  call(args, fail) {
    if (args.length > 0) fail('bytes() is only allowed without arguments');
    return new PyBytes(new Uint8Array(0));
  },
};

/** The globals a pickle of numpy arrays may name, for any reader that accepts numpy arrays. */
export const NUMPY_GLOBALS: ReadonlyMap<string, GlobalImpl> = new Map<string, GlobalImpl>([
  ...['numpy.core', 'numpy._core'].flatMap((core): [string, GlobalImpl][] => [
    [`${core}.multiarray._reconstruct`, reconstruct],
    [`${core}.multiarray.scalar`, scalar],
    [`${core}.numeric._frombuffer`, fromBuffer],
  ]),
  ['numpy.ndarray', ndarrayClass],
  ['numpy.dtype', dtypeClass],
  ['collections.OrderedDict', orderedDict],
  ['_codecs.encode', codecsEncode],
  ['builtins.bytes', emptyBytes],
  ['__builtin__.bytes', emptyBytes],
]);

export function isNumpyArray(value: PyValue): value is NumpyArray {
  return value instanceof NumpyArray;
}

/** Decodes a filled NumpyArray's bytes (C or Fortran order) into C order. */
export function decodeNumpyArray(array: NumpyArray, bytes: Uint8Array, source: string, limits: ReadLimits): NdArray {
  const dtype = array.dtype!;
  const type = elementTypeOf(dtype, (why) => {
    throw new InputError(source, why);
  });
  const count = elementCount(array.shape, source);
  checkArrayBytes(count, type, array.shape, dtype.str, source, limits);
  let data = decodeElements(bytes, type, count, dtype.str[0] !== '>');
  if (array.fortran && array.shape.length > 1) {
    // Fortran order: the first axis varies fastest, i.e. C strides of the reversed shape, reversed.
    const strides = contiguousStrides([...array.shape].reverse()).reverse();
    data = gatherStrided(data, array.shape, strides, 0);
  }
  return { shape: array.shape, dtype: dtype.str, data };
}

/** A clearer message than "unknown opcode" for the files most often given a wrong extension. */
export function refuseOtherFormats(bytes: Uint8Array, source: string): void {
  const startsWith = (text: string) => [...text].every((c, i) => bytes[i] === c.charCodeAt(0));
  if (startsWith('PK\x03\x04') || startsWith('PK\x05\x06')) throw new InputError(source, 'is a zip archive (a torch.save file or an .npz?), not a pickle');
  if (startsWith('\x93NUMPY')) throw new InputError(source, 'is a .npy file, not a pickle');
  if (startsWith('\x89HDF\r\n\x1a\n')) throw new InputError(source, 'is an HDF5 file, not a pickle');
}

/** Opens a pickle of numpy arrays: parses it whole, remembers where each array's bytes are. */
export async function openNumpyPickle(blob: Blob, source: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<ArrayFile> {
  const maxBytes = limits.maxArrayBytes + limits.maxHeaderBytes;
  if (blob.size > maxBytes) {
    throw new InputError(source, `pickle of ${formatBytes(blob.size)} is over the ${formatBytes(maxBytes)} limit (a pickle is read whole to be parsed)`);
  }
  const bytes = new Uint8Array(await blob.arrayBuffer());
  refuseOtherFormats(bytes, source);
  const { value } = unpickle(bytes, source, {
    globals: NUMPY_GLOBALS,
    allowedWhat: 'numpy arrays in dicts, lists and tuples',
  });
  const leaves = collectLeaves(value, isNumpyArray, source, { rootName: 'array' });
  const arrays: ArrayInfo[] = [];
  // Where each array's bytes are: a range of the file (read again with Blob.slice), or converted bytes.
  const places = new Map<string, { array: NumpyArray; range: [number, number] | null; copy: Uint8Array | null }>();
  for (const { name, value: array } of leaves) {
    const where = `${source}:${printable(name)}`;
    if (!array.dtype || !array.data) throw new InputError(where, 'pickle rebuilds an ndarray but never gives it its data (BUILD missing)');
    checkArrayBytes(
      elementCount(array.shape, where),
      elementTypeOf(array.dtype, (why) => {
        throw new InputError(where, why);
      }),
      array.shape,
      array.dtype.str,
      where,
      limits,
    );
    arrays.push({ name, shape: array.shape, dtype: array.dtype.str });
    const raw = array.data.bytes;
    const inFile = raw.buffer === bytes.buffer;
    places.set(name, {
      array,
      range: inFile ? [raw.byteOffset - bytes.byteOffset, raw.byteOffset - bytes.byteOffset + raw.length] : null,
      copy: inFile ? null : raw,
    });
  }
  return {
    arrays,
    read: async (name) => {
      const place = places.get(name);
      if (!place) throw new InputError(source, `has no array '${printable(name)}' (its arrays: ${listNames(arrays, printable, name)})`);
      const where = `${source}:${printable(name)}`;
      const raw = place.range ? new Uint8Array(await blob.slice(place.range[0], place.range[1]).arrayBuffer()) : place.copy!.slice();
      const expected = place.range ? place.range[1] - place.range[0] : raw.length;
      if (raw.length !== expected) throw new InputError(where, 'the file changed or was cut since it was opened');
      return decodeNumpyArray(place.array, raw, where, limits);
    },
    close: () => {},
  };
}
