// Reader of PyTorch's torch.save files (.pt, .pth, .bin): tensors, or dicts / OrderedDicts (a
// state_dict) / lists / tuples of tensors, nested any way; entries are named by their path of keys
// and indices joined with '.', like "layer1.0.conv.weight" or "0"; a bare tensor is "tensor".
//
// Two layouts:
//  - zip (torch ≥ 1.6): <prefix>/data.pkl (a pickle, protocol 2 by default), <prefix>/data/<key>
//    (one member per storage, raw elements), optional <prefix>/byteorder ("little" / "big",
//    written since torch 2.1; absent means little), <prefix>/version. Every member is CRC-checked.
//  - legacy (torch.save(..., _use_new_zipfile_serialization=False)): five pickles in a row (magic
//    number, protocol version 1001, sys_info, the object, the sorted storage keys), then each
//    storage as an 8-byte little-endian element count and its elements (little-endian).
// Tensors are rebuilt by torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, …)
// (and its relatives _rebuild_tensor, _rebuild_tensor_v3, _rebuild_parameter[_with_state],
// _rebuild_from_type_v2); storages come from persistent ids ('storage', storage_type, key,
// location, numel). The pickle is read by ./pickle's restricted unpickler: only these torch
// globals, torch storage classes and dtypes, collections.OrderedDict and numpy's array
// reconstructors are allowed; a pickled nn.Module, argparse.Namespace or anything else is refused by
// name and nothing is run.
//
// Shape convention: a tensor comes back with its own shape, data in C order: views (transposes,
// strided slices, expands, storage offsets) are materialised through their strides; nothing is
// transposed to neurons × datapoints here.
//
// Memory: opening reads the pickle only (zip: data.pkl; legacy: the pickles at the start of the
// file, at most limits.maxHeaderBytes); read() reads the tensor's whole storage (a view of a
// larger storage reads all of it, once per read) and copies out the view.

import { checkArrayBytes, decodeElements, elementCount, formatBytes, formatShape, ITEM_SIZE } from './decode';
import type { ElementType } from './decode';
import { gatherStrided, listNames, stridedExtent } from './arrayFile';
import type { ArrayFile, ArrayInfo } from './arrayFile';
import { decodeNumpyArray, NUMPY_GLOBALS, NumpyArray, refuseOtherFormats } from './numpyPickle';
import { openNpz } from './npz';
import { asInt, asIntList, asString, collectLeaves, PyDict, PyGlobal, PyList, PyObject, PyTuple, typeOf, unpickle } from './pickle';
import type { GlobalImpl, PyValue, UnpickleOptions } from './pickle';
import { printable } from './printable';
import { DEFAULT_LIMITS, InputError } from './types';
import type { NdArray, ReadLimits } from './types';

interface TorchType {
  element: ElementType;
  /** 'torch.float32', as entries report their dtype. */
  name: string;
}

/** Storage class → dtype names → element type: the dtypes activations and weights come in. */
const TYPES: [storage: string | null, dtypeNames: string[], element: ElementType][] = [
  ['FloatStorage', ['float32', 'float'], 'f4'],
  ['DoubleStorage', ['float64', 'double'], 'f8'],
  ['HalfStorage', ['float16', 'half'], 'f2'],
  ['BFloat16Storage', ['bfloat16'], 'bf16'],
  ['LongStorage', ['int64', 'long'], 'i8'],
  ['IntStorage', ['int32', 'int'], 'i4'],
  ['ShortStorage', ['int16', 'short'], 'i2'],
  ['CharStorage', ['int8'], 'i1'],
  ['ByteStorage', ['uint8'], 'u1'],
  ['BoolStorage', ['bool'], 'b1'],
  [null, ['uint16'], 'u2'],
  [null, ['uint32'], 'u4'],
  [null, ['uint64'], 'u8'],
];

/** torch.float32 and friends (a global the pickle names). */
class TorchDtype extends PyObject {
  readonly typeName = 'torch.dtype';
  constructor(readonly type: TorchType) {
    super();
  }
}

/** torch.FloatStorage… (typed: element known) or torch.UntypedStorage (bytes; the tensor gives the dtype). */
class TorchStorageType extends PyObject {
  readonly typeName = 'torch storage type';
  constructor(
    readonly qualifiedName: string,
    readonly type: TorchType | null,
  ) {
    super();
  }
}

/** One storage of the file: where its bytes are, and how many elements of which type it holds. */
export class TorchStorage extends PyObject {
  readonly typeName = 'torch storage';
  constructor(
    readonly key: string,
    /** null for an untyped storage (bytes). */
    readonly type: TorchType | null,
    /** Elements (bytes for an untyped storage). */
    readonly numel: number,
    /** Byte length in the file. */
    readonly byteLength: number,
  ) {
    super();
  }
}

/** A tensor as _rebuild_tensor_v2 describes it: a strided view of a storage. */
export class TorchTensor extends PyObject {
  readonly typeName = 'torch.Tensor';
  constructor(
    readonly storage: TorchStorage,
    readonly type: TorchType,
    /** In elements of `type`. */
    readonly offset: number,
    readonly shape: number[],
    readonly strides: number[],
  ) {
    super();
  }
  override build(): void {
    // Tensor subclasses set Python attributes by BUILD; they name no data.
  }
}

const dtypeByName = new Map<string, TorchType>();
const storageTypeByName = new Map<string, TorchType>();
for (const [storage, names, element] of TYPES) {
  const type = { element, name: `torch.${names[0]}` };
  for (const name of names) dtypeByName.set(name, type);
  if (storage) storageTypeByName.set(storage, type);
}

/** A view of `storage` (offset, shape, strides in elements), checked to lie inside it. */
function rebuildTensor(args: PyValue[], dtype: TorchType | null, fail: (why: string) => never): TorchTensor {
  const [storage, offsetValue, sizeValue, strideValue] = args;
  if (!(storage instanceof TorchStorage)) fail(`rebuilds a tensor from a ${typeOf(storage ?? null)}, not a storage`);
  const store = storage;
  const type = dtype ?? store.type;
  if (!type) fail('rebuilds a tensor from an untyped storage without saying its dtype');
  const offset = asInt(offsetValue ?? null);
  const shape = asIntList(sizeValue ?? null);
  const strides = asIntList(strideValue ?? null);
  if (offset === null || offset < 0) fail('has a storage offset that is not a non-negative integer');
  if (!shape || !strides) fail('has a size or stride that is not a tuple of integers');
  if (shape.length !== strides.length) fail(`has size ${formatShape(shape)} but ${strides.length} strides`);
  if (shape.some((d) => d < 0) || strides.some((s) => s < 0))
    fail(`has a negative size or stride (size ${formatShape(shape)}, stride ${formatShape(strides)})`);
  const elements = store.type ? store.numel : store.numel / ITEM_SIZE[type.element];
  if (!Number.isInteger(elements)) fail(`views an untyped storage of ${store.numel} bytes as ${type.name}, which is not a whole number of elements`);
  const { maxIndex, empty } = stridedExtent(shape, strides, offset);
  if (!Number.isSafeInteger(maxIndex)) fail('has a size and stride too large to address');
  if (!empty && maxIndex >= elements) {
    fail(
      `has a view (offset ${offset}, size ${formatShape(shape)}, stride ${formatShape(strides)}) that reaches element ${maxIndex} of a storage of ${elements}`,
    );
  }
  return new TorchTensor(store, type, offset, shape, strides);
}

/** The values behind the dtype and storage-class globals (filled while TORCH_GLOBALS is built). */
const dtypeGlobals = new Map<string, TorchDtype>();
const storageTypeGlobals = new Map<string, TorchStorageType>();

const TORCH_GLOBALS: ReadonlyMap<string, GlobalImpl> = (() => {
  const globals = new Map<string, GlobalImpl>(NUMPY_GLOBALS);
  for (const [name, type] of dtypeByName) {
    const dtype = new TorchDtype(type);
    globals.set(`torch.${name}`, { call: (_a, fail) => fail('a dtype cannot be called') });
    // A dtype global is a value, not a callable: resolved to the TorchDtype by persistentLoad/v3.
    dtypeGlobals.set(`torch.${name}`, dtype);
  }
  for (const [name, type] of storageTypeByName) {
    for (const module of ['torch', 'torch.cuda']) {
      const storageType = new TorchStorageType(`${module}.${name}`, type);
      globals.set(`${module}.${name}`, { call: (_a, fail) => fail('storages are only read through persistent ids') });
      storageTypeGlobals.set(`${module}.${name}`, storageType);
    }
  }
  for (const name of ['torch.UntypedStorage', 'torch.storage.UntypedStorage', 'torch.storage._UntypedStorage']) {
    globals.set(name, { call: (_a, fail) => fail('storages are only read through persistent ids') });
    storageTypeGlobals.set(name, new TorchStorageType(name, null));
  }
  const rebuildV2: GlobalImpl = {
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    call: (args, fail) => rebuildTensor(args, null, fail),
  };
  globals.set('torch._utils._rebuild_tensor', rebuildV2);
  globals.set('torch._utils._rebuild_tensor_v2', rebuildV2);
  globals.set('torch._utils._rebuild_tensor_v3', {
    // _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype[, metadata])
    call: (args, fail) => {
      const dtype = resolveDtype(args[6] ?? null);
      if (!dtype) fail(`has a dtype that is a ${typeOf(args[6] ?? null)}`);
      return rebuildTensor(args, dtype!.type, fail);
    },
  });
  const parameter: GlobalImpl = {
    // _rebuild_parameter(data, requires_grad, backward_hooks[, state]): the parameter's tensor.
    call: (args, fail) => {
      if (!(args[0] instanceof TorchTensor)) fail(`wraps a ${typeOf(args[0] ?? null)}, not a tensor`);
      return args[0];
    },
  };
  globals.set('torch._utils._rebuild_parameter', parameter);
  globals.set('torch._utils._rebuild_parameter_with_state', parameter);
  globals.set('torch._tensor._rebuild_from_type_v2', {
    // _rebuild_from_type_v2(func, new_type, args, state): func(*args) for plain Tensor / Parameter.
    call: (args, fail) => {
      const [func, newType, funcArgs] = args;
      if (!(func instanceof PyGlobal) || !(funcArgs instanceof PyTuple)) fail('has a malformed rebuild');
      if (!(newType instanceof PyGlobal) || !['torch.Tensor', 'torch.nn.parameter.Parameter'].includes(newType.qualifiedName)) {
        fail(`rebuilds a tensor subclass '${typeOf(newType ?? null)}', which is not allowed here`);
      }
      const impl = (func as PyGlobal).impl;
      if (!impl.call) fail('has a malformed rebuild');
      return impl.call!((funcArgs as PyTuple).items, fail);
    },
  });
  globals.set('torch.Tensor', { call: (_a, fail) => fail('torch.Tensor cannot be called directly') });
  globals.set('torch.nn.parameter.Parameter', { call: (_a, fail) => fail('Parameter cannot be called directly') });
  globals.set('torch.Size', {
    call: (args, fail) => {
      const dims = asIntList(args[0] ?? null);
      if (!dims) fail('is made from something other than integers');
      return new PyTuple(dims!);
    },
  });
  globals.set('torch.device', { call: () => new TorchDevice() });
  return globals;
})();

class TorchDevice extends PyObject {
  readonly typeName = 'torch.device';
}

function resolveDtype(value: PyValue): TorchDtype | null {
  if (value instanceof TorchDtype) return value;
  if (value instanceof PyGlobal) return dtypeGlobals.get(value.qualifiedName) ?? null;
  return null;
}

function resolveStorageType(value: PyValue): TorchStorageType | TorchDtype | null {
  if (value instanceof PyGlobal) return storageTypeGlobals.get(value.qualifiedName) ?? dtypeGlobals.get(value.qualifiedName) ?? null;
  return null;
}

const ALLOWED_WHAT = 'tensors and numpy arrays in dicts, OrderedDicts, lists and tuples';
const HINT = 'save model.state_dict() rather than the model, and leave other Python objects out of the file';

/** A torch.save file being opened: how to get a storage's bytes. */
interface StorageSource {
  /** The storage's raw bytes (checked: exactly storage.byteLength). */
  bytes(storage: TorchStorage): Promise<Uint8Array>;
  littleEndian: boolean;
}

/** Opens a torch.save file (zip or legacy): reads the pickle, not the storages. */
export async function openTorch(blob: Blob, source: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<ArrayFile> {
  const head = new Uint8Array(await blob.slice(0, 16).arrayBuffer());
  if (head[0] === 0x50 && head[1] === 0x4b) return openTorchZip(blob, source, limits);
  if (head[0] === 0x80 && head[2] === 0x8a && head[3] === 0x0a) return openTorchLegacy(blob, source, limits);
  refuseOtherFormats(head, source);
  if (head.length === 0) throw new InputError(source, 'file is empty');
  throw new InputError(source, 'not a torch.save file (neither a zip archive nor the legacy format)');
}

async function openTorchZip(blob: Blob, source: string, limits: ReadLimits): Promise<ArrayFile> {
  const archive = await openNpz(blob, source, limits);
  const members = new Map([...archive.members, ...archive.otherMembers].map((m) => [m.path, m]));
  const pickles = [...members.keys()].filter((path) => /^[^/]+\/data\.pkl$/.test(path));
  if (pickles.length === 0) {
    if (archive.members.length > 0) throw new InputError(source, 'is an .npz archive (numpy arrays), not a torch.save file');
    throw new InputError(source, 'is a zip archive without a data.pkl: not a torch.save file');
  }
  if (pickles.length > 1) throw new InputError(source, `holds ${pickles.length} data.pkl records; a torch.save archive has one`);
  const prefix = pickles[0].slice(0, -'data.pkl'.length);
  if (members.has(`${prefix}constants.pkl`) || [...members.keys()].some((p) => p.startsWith(`${prefix}code/`))) {
    throw new InputError(source, 'is a TorchScript archive (torch.jit.save); save the tensors with torch.save instead');
  }
  let littleEndian = true;
  if (members.has(`${prefix}byteorder`)) {
    const order = (await archive.readText(`${prefix}byteorder`)).trim();
    if (order !== 'little' && order !== 'big') throw new InputError(source, `byteorder record says '${printable(order)}', not 'little' or 'big'`);
    littleEndian = order === 'little';
  }
  const pickle = await archive.readMember(`${prefix}data.pkl`, limits.maxHeaderBytes);
  const storageSource = {
    current: {
      littleEndian,
      bytes: (storage: TorchStorage) => archive.readMember(`${prefix}data/${storage.key}`, limits.maxArrayBytes),
    },
  };
  // A storage's member must exist and hold exactly numel × item size bytes (known from the central directory).
  const memberSize = (key: string) => members.get(`${prefix}data/${key}`)?.uncompressedSize ?? null;
  return finish(source, limits, pickle, 0, storageSource, memberSize, 'zip');
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

async function openTorchLegacy(blob: Blob, source: string, limits: ReadLimits): Promise<ArrayFile> {
  const prefixLength = Math.min(blob.size, limits.maxHeaderBytes);
  const bytes = new Uint8Array(await blob.slice(0, prefixLength).arrayBuffer());
  const plain = { globals: new Map<string, GlobalImpl>(), allowedWhat: 'plain values in its header' };
  const wrap = <T>(what: string, action: () => T): T => {
    try {
      return action();
    } catch (error) {
      if (error instanceof InputError && /is truncated/.test(error.detail) && prefixLength < blob.size) {
        throw new InputError(source, `legacy torch.save file whose ${what} is over the ${formatBytes(limits.maxHeaderBytes)} limit`);
      }
      if (error instanceof InputError) throw new InputError(source, `legacy torch.save file: ${what}: ${error.detail}`);
      throw error;
    }
  };
  const magic = wrap('magic number', () => unpickle(bytes, source, plain, 0));
  if (magic.value !== LEGACY_MAGIC) throw new InputError(source, "not a torch.save file (a pickle, but without torch's magic number)");
  const protocol = wrap('protocol version', () => unpickle(bytes, source, plain, magic.end));
  if (protocol.value !== LEGACY_PROTOCOL)
    throw new InputError(
      source,
      `legacy torch.save file of protocol version ${String(typeof protocol.value === 'number' ? protocol.value : typeOf(protocol.value))} (1001 can be read)`,
    );
  const sysInfo = wrap('system information', () => unpickle(bytes, source, plain, protocol.end));
  const littleEndian = sysInfo.value instanceof PyDict ? sysInfo.value.entries.find((e) => e.key === 'little_endian')?.value : undefined;
  if (littleEndian !== true)
    throw new InputError(source, 'legacy torch.save file written on a big-endian machine (or without system information), which cannot be read');

  // The object pickle comes next; its end is where the storage key list starts.
  const storages = new Map<string, TorchStorage>();
  const objectEnd = { value: 0 };
  const storageSource: { current: StorageSource | null } = { current: null };
  const file = await finish(source, limits, bytes, sysInfo.end, storageSource, null, 'legacy', storages, objectEnd);
  const keys = wrap('storage key list', () => unpickle(bytes, source, plain, objectEnd.value));
  const keyList = keys.value instanceof PyList ? keys.value.items.map((k) => asString(k)) : null;
  if (!keyList || keyList.some((k) => k === null)) throw new InputError(source, 'legacy torch.save file: the storage key list is not a list of strings');
  // Storages follow in key-list order: 8-byte element count, then the elements.
  const where = new Map<TorchStorage, number>();
  let offset = keys.end;
  for (const key of keyList as string[]) {
    const storage = storages.get(key);
    if (!storage) throw new InputError(source, `legacy torch.save file lists storage '${printable(key)}', which no tensor uses`);
    if (where.has(storage)) throw new InputError(source, `legacy torch.save file lists storage '${printable(key)}' twice`);
    where.set(storage, offset + 8);
    offset += 8 + storage.byteLength;
  }
  for (const [key, storage] of storages) {
    if (!where.has(storage)) throw new InputError(source, `legacy torch.save file does not list storage '${printable(key)}'`);
  }
  if (offset > blob.size) throw new InputError(source, `legacy torch.save file is truncated: its storages need ${offset} bytes, the file has ${blob.size}`);
  storageSource.current = {
    littleEndian: true,
    bytes: async (storage) => {
      const start = where.get(storage)!;
      const raw = new Uint8Array(await blob.slice(start - 8, start + storage.byteLength).arrayBuffer());
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const numel = raw.length >= 8 ? view.getUint32(4, true) * 4294967296 + view.getUint32(0, true) : -1;
      if (raw.length !== 8 + storage.byteLength || numel !== storage.numel) {
        throw new InputError(
          source,
          `legacy torch.save file: storage '${printable(storage.key)}' does not hold the ${storage.numel} elements its tensors declare`,
        );
      }
      return raw.subarray(8);
    },
  };
  return file;
}

/**
 * Unpickles the object at `start` of `pickle` with torch's persistent ids, collects its tensors
 * (and numpy arrays) and returns the ArrayFile.
 */
async function finish(
  source: string,
  limits: ReadLimits,
  pickle: Uint8Array,
  start: number,
  /** Set by the caller before any read(): the legacy opener learns where storages are only after
   *  the object pickle is parsed. */
  storageSource: { current: StorageSource | null },
  memberSize: ((key: string) => number | null) | null,
  layout: 'zip' | 'legacy',
  storages = new Map<string, TorchStorage>(),
  objectEnd = { value: 0 },
): Promise<ArrayFile> {
  const options: UnpickleOptions = {
    globals: TORCH_GLOBALS,
    allowedWhat: ALLOWED_WHAT,
    hint: HINT,
    persistentLoad(pid, fail) {
      // zip: ('storage', storage_type, key, location, numel); legacy adds view_metadata.
      if (!(pid instanceof PyTuple) || asString(pid.items[0] ?? null) !== 'storage') fail(`has a persistent id that is not a storage (a ${typeOf(pid)})`);
      const items = (pid as PyTuple).items;
      if (items.length !== (layout === 'zip' ? 5 : 6)) fail(`has a storage id of ${items.length} fields`);
      const storageType = resolveStorageType(items[1]);
      if (!storageType) fail(`has a storage of type '${typeOf(items[1])}', which is not supported`);
      const key = asString(items[2]);
      if (key === null || !/^[\w.-]{1,64}$/.test(key)) fail('has a storage key that is not a short name');
      const numel = asInt(items[4]);
      if (numel === null || numel < 0) fail('has a storage size that is not a non-negative integer');
      if (layout === 'legacy' && items[5] !== null) fail('uses storage views of the legacy format, which cannot be read (save again with torch ≥ 1.6)');
      const type = storageType instanceof TorchDtype ? storageType.type : (storageType as TorchStorageType).type;
      const byteLength = numel! * (type ? ITEM_SIZE[type.element] : 1);
      const known = storages.get(key!);
      if (known) {
        if (known.numel !== numel || known.type !== type) fail(`declares storage '${printable(key!)}' twice, differently`);
        return known;
      }
      if (memberSize) {
        const size = memberSize(key!);
        if (size === null) fail(`refers to storage '${printable(key!)}', which the archive does not hold`);
        if (size !== byteLength)
          fail(`declares storage '${printable(key!)}' of ${numel} ${type ? type.name : 'bytes'} (${byteLength} bytes) but the archive holds ${size} bytes`);
      }
      const storage = new TorchStorage(key!, type, numel!, byteLength);
      storages.set(key!, storage);
      return storage;
    },
  };
  const { value, end } = unpickle(pickle, source, options, start);
  objectEnd.value = end;
  const leaves = collectLeaves(value, (v): v is TorchTensor | NumpyArray => v instanceof TorchTensor || v instanceof NumpyArray, source, {
    rootName: 'tensor',
  });

  const arrays: ArrayInfo[] = [];
  const byName = new Map<string, TorchTensor | NumpyArray>();
  for (const { name, value: leaf } of leaves) {
    const where = `${source}:${printable(name)}`;
    if (leaf instanceof NumpyArray) {
      if (!leaf.dtype || !leaf.data) throw new InputError(where, 'pickle rebuilds an ndarray but never gives it its data (BUILD missing)');
      arrays.push({ name, shape: leaf.shape, dtype: leaf.dtype.str });
    } else {
      checkArrayBytes(elementCount(leaf.shape, where), leaf.type.element, leaf.shape, leaf.type.name, where, limits);
      arrays.push({ name, shape: leaf.shape, dtype: leaf.type.name });
    }
    byName.set(name, leaf);
  }

  const file: ArrayFile = {
    arrays,
    read: async (name) => {
      const leaf = byName.get(name);
      if (!leaf) throw new InputError(source, `has no tensor '${printable(name)}' (its tensors: ${listNames(arrays, printable, name)})`);
      const where = `${source}:${printable(name)}`;
      if (leaf instanceof NumpyArray) return decodeNumpyArray(leaf, leaf.data!.bytes, where, limits);
      const from = storageSource.current!;
      return readTensor(leaf, await from.bytes(leaf.storage), from.littleEndian, where, limits);
    },
    close: () => {},
  };
  return file;
}

function readTensor(tensor: TorchTensor, bytes: Uint8Array, littleEndian: boolean, source: string, limits: ReadLimits): NdArray {
  const { storage, type, shape, strides, offset } = tensor;
  if (bytes.length !== storage.byteLength) throw new InputError(source, `storage holds ${bytes.length} bytes, ${storage.byteLength} expected`);
  const count = elementCount(shape, source);
  checkArrayBytes(count, type.element, shape, type.name, source, limits);
  const itemSize = ITEM_SIZE[type.element];
  const { contiguous } = stridedExtent(shape, strides, offset);
  if (contiguous) {
    // Decode only the elements the tensor covers.
    const data = decodeElements(bytes.subarray(offset * itemSize, (offset + count) * itemSize), type.element, count, littleEndian);
    return { shape, dtype: type.name, data };
  }
  const all = decodeElements(bytes, type.element, storage.byteLength / itemSize, littleEndian);
  return { shape, dtype: type.name, data: gatherStrided(all, shape, strides, offset) };
}
