// Reader of HDF5 files (.h5, .hdf5: Keras/h5py activations and weights) through h5wasm, the HDF5 C
// library compiled to WebAssembly. h5wasm (about 4 MB of JavaScript with the wasm inlined) is
// imported dynamically the first time an HDF5 file is opened, so a session that never opens one
// never downloads it (Vite makes it a separate chunk).
//
// Every numeric dataset (integer or float, any byte order) anywhere in the file's group tree is an
// entry, named by its path without the leading '/' ("model/conv1"); shape and dtype come from the
// metadata, and read() reads that one dataset. Datasets of other types (strings, compound records,
// enums, variable-length data, references) are listed in `skipped` with the reason, and so are
// soft links (their target is listed under its own name) and external links (never followed).
//
// Shape convention: a dataset comes back with its own shape, data in C order (HDF5 stores
// row-major); nothing is transposed to neurons × datapoints here.
//
// How the file reaches HDF5: h5wasm reads files from Emscripten's virtual file system.
//  - In a Web Worker (the app), the Blob is mounted with WORKERFS: HDF5 reads the byte ranges it
//    needs through FileReaderSync, nothing is copied up front.
//  - Elsewhere (Node: the CLI and tests; a page's main thread), FileReaderSync does not exist, so
//    the whole file is copied into the in-memory file system (MEMFS): the file's size in memory
//    until close() (limited to limits.maxArrayBytes + limits.maxHeaderBytes).
// Reading a dataset additionally holds its bytes twice for a moment (in the wasm heap, then the
// decoded array).

import { checkArrayBytes, decodeElements, elementCount, formatBytes } from './decode';
import type { ElementType } from './decode';
import { listNames } from './arrayFile';
import type { ArrayFile, ArrayInfo } from './arrayFile';
import { printable } from './printable';
import { DEFAULT_LIMITS, InputError } from './types';
import type { NdArray, ReadLimits } from './types';

/** The 8-byte HDF5 superblock signature; it sits at 0, or at 512, 1024, 2048, … after a user block. */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const SIGNATURE_OFFSETS = [0, 512, 1024, 2048, 4096, 8192];
/** More objects than this in one file is not a file of activations. */
const MAX_OBJECTS = 100_000;

/** H5T_class_t values h5wasm reports in metadata.type. */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const TYPE_CLASS_NAMES: Record<number, string> = {
  2: 'time',
  3: 'string',
  4: 'bitfield',
  5: 'opaque',
  6: 'compound',
  7: 'reference',
  8: 'enum',
  9: 'variable-length',
  10: 'array',
};

export interface Hdf5File extends ArrayFile {
  /** Datasets that are not numeric arrays, with why (listed to the user, never silently dropped). */
  skipped: { name: string; reason: string }[];
}

/** True when `head` (the first bytes of a file) starts with the HDF5 signature at offset 0. */
export function looksLikeHdf5(head: Uint8Array): boolean {
  return SIGNATURE.every((b, i) => head[i] === b);
}

type H5wasm = typeof import('h5wasm');
let loading: Promise<H5wasm> | null = null;

/** Imports and starts h5wasm once; HDF5 errors then throw (with their error stack as the message)
 *  instead of being printed to the console. A failed start (the chunk could not be fetched, or a
 *  Content-Security-Policy without 'wasm-unsafe-eval' forbids compiling WebAssembly) is an
 *  InputError naming the file, and the next HDF5 file tries again. */
function loadH5wasm(source: string): Promise<H5wasm> {
  loading ??= (async () => {
    const h5 = await import('h5wasm');
    const module = await h5.ready;
    module.activate_throwing_error_handler();
    return h5;
  })();
  return loading.catch((error: unknown) => {
    loading = null;
    const text = error instanceof Error ? error.message : String(error);
    const csp = /Content Security Policy|unsafe-eval/i.test(text) ? " (the page's Content-Security-Policy must allow 'wasm-unsafe-eval')" : '';
    throw new InputError(source, `HDF5 support could not start${csp}: ${printable(text.split('\n')[0], 200)}`);
  });
}

let mountCount = 0;

/** Opens an HDF5 Blob: lists its datasets from metadata; data is read by read(). */
export async function openHdf5(blob: Blob, source: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<Hdf5File> {
  if (blob.size === 0) throw new InputError(source, 'file is empty');
  const head = new Uint8Array(await blob.slice(0, SIGNATURE_OFFSETS[SIGNATURE_OFFSETS.length - 1] + 8).arrayBuffer());
  if (!SIGNATURE_OFFSETS.some((at) => SIGNATURE.every((b, i) => head[at + i] === b))) {
    throw new InputError(source, 'not an HDF5 file (no "\\x89HDF\\r\\n\\x1a\\n" signature)');
  }
  const h5 = await loadH5wasm(source);
  const { Module } = h5;
  const FS = h5.FS!; // set once h5.ready has resolved (loadH5wasm waits for it)
  const fail = (error: unknown): never => {
    if (error instanceof InputError) throw error;
    throw new InputError(source, hdf5Message(error));
  };

  // Put the file where HDF5 can open it (see the header comment for what each way costs).
  const id = ++mountCount;
  let path: string;
  let release: () => void;
  const useWorkerFs = typeof (globalThis as { FileReaderSync?: unknown }).FileReaderSync === 'function';
  if (useWorkerFs) {
    const dir = `/svcca-lens-${id}`;
    FS.mkdir(dir);
    (FS as unknown as { mount(type: unknown, opts: unknown, dir: string): void }).mount(
      (FS as unknown as { filesystems: { WORKERFS: unknown } }).filesystems.WORKERFS,
      { blobs: [{ name: 'file.h5', data: blob }] },
      dir,
    );
    path = `${dir}/file.h5`;
    release = () => {
      (FS as unknown as { unmount(dir: string): void }).unmount(dir);
      FS.rmdir(dir);
    };
  } else {
    const maxBytes = limits.maxArrayBytes + limits.maxHeaderBytes;
    if (blob.size > maxBytes) {
      throw new InputError(
        source,
        `HDF5 file of ${formatBytes(blob.size)} is over the ${formatBytes(maxBytes)} that can be copied into memory here (in the app, files are read in place)`,
      );
    }
    path = `/svcca-lens-${id}.h5`;
    FS.writeFile(path, new Uint8Array(await blob.arrayBuffer()));
    release = () => FS.unlink(path);
  }

  let file: InstanceType<H5wasm['File']>;
  try {
    file = new h5.File(path, 'r');
    if (!(Number(file.file_id) >= 0)) throw new InputError(source, 'HDF5 could not open the file (corrupt or truncated?)');
  } catch (error) {
    release();
    return fail(error);
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      file.close();
    } catch {
      // The file is being dropped either way.
    }
    release();
  };

  const arrays: ArrayInfo[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const datasets = new Map<string, { type: ElementType; littleEndian: boolean; shape: number[]; dtype: string }>();
  try {
    const names: string[] = Module.get_names(file.file_id, '/', true);
    if (names.length > MAX_OBJECTS) throw new InputError(source, `holds more than ${MAX_OBJECTS} objects`);
    for (const name of names) {
      const fullPath = `/${name}`;
      // Soft links would list a dataset twice (or point nowhere); external links name other files,
      // which are never opened. Both are listed as skipped, with their target.
      const softTarget: unknown = Module.get_symbolic_link(file.file_id, fullPath);
      if (typeof softTarget === 'string') {
        skipped.push({ name, reason: `a soft link to ${printable(softTarget)}` });
        continue;
      }
      const kind = Module.get_type(file.file_id, fullPath);
      if (kind === Module.H5G_UDLINK) {
        const { filename, obj_path: objectPath } = Module.get_external_link(file.file_id, fullPath) as { filename?: string; obj_path?: string };
        skipped.push({ name, reason: `an external link to ${printable(`${filename ?? '?'}:${objectPath ?? '?'}`)} (other files are not opened)` });
        continue;
      }
      if (kind !== Module.H5G_DATASET) continue;
      const metadata = Module.get_dataset_metadata(file.file_id, fullPath) as DatasetMetadata;
      const described = describe(metadata);
      if ('reason' in described) {
        skipped.push({ name, reason: described.reason });
        continue;
      }
      const where = `${source}:${printable(name)}`;
      checkArrayBytes(elementCount(described.shape, where), described.type, described.shape, described.dtype, where, limits);
      arrays.push({ name, shape: described.shape, dtype: described.dtype });
      datasets.set(name, described);
    }
  } catch (error) {
    close();
    return fail(error);
  }

  return {
    arrays,
    skipped,
    close,
    read: async (name): Promise<NdArray> => {
      const dataset = datasets.get(name);
      if (!dataset) throw new InputError(source, `has no dataset '${printable(name)}' (its numeric datasets: ${listNames(arrays, printable, name)})`);
      if (closed) throw new InputError(source, 'was closed');
      const where = `${source}:${printable(name)}`;
      const count = elementCount(dataset.shape, where);
      const bytes = checkArrayBytes(count, dataset.type, dataset.shape, dataset.dtype, where, limits);
      if (count === 0) return { shape: dataset.shape, dtype: dataset.dtype, data: decodeElements(new Uint8Array(0), dataset.type, 0, true) };
      const pointer: number = Module._malloc(bytes);
      if (!pointer) throw new InputError(where, `not enough memory to read ${formatBytes(bytes)}`);
      try {
        Module.get_dataset_data(file.file_id, `/${name}`, null, null, null, BigInt(pointer));
        // h5wasm reads into a little-endian copy of the file's type, whatever the file's byte order.
        const raw = Module.HEAPU8.slice(pointer, pointer + bytes);
        return { shape: dataset.shape, dtype: dataset.dtype, data: decodeElements(raw, dataset.type, count, true) };
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw new InputError(where, hdf5Message(error));
      } finally {
        Module._free(pointer);
      }
    },
  };
}

interface DatasetMetadata {
  type: number;
  size: number;
  signed: boolean;
  littleEndian: boolean;
  vlen: boolean;
  shape: number[] | null;
}

/** The element type, shape and numpy-style dtype ('<f4', '>i2', '|u1') of a numeric dataset, or why it is skipped. */
function describe(metadata: DatasetMetadata): { type: ElementType; littleEndian: boolean; shape: number[]; dtype: string } | { reason: string } {
  const { type, size, signed, littleEndian, vlen, shape } = metadata;
  if (vlen) return { reason: 'variable-length data' };
  if (type !== H5T_INTEGER && type !== H5T_FLOAT) return { reason: `${TYPE_CLASS_NAMES[type] ?? `type class ${type}`} data, not numbers` };
  if (!Array.isArray(shape)) return { reason: 'no data (a null dataspace)' };
  let element: ElementType | null = null;
  if (type === H5T_FLOAT && (size === 2 || size === 4 || size === 8)) element = `f${size}` as ElementType;
  if (type === H5T_INTEGER && (size === 1 || size === 2 || size === 4 || size === 8)) element = `${signed ? 'i' : 'u'}${size}` as ElementType;
  if (!element) return { reason: `${size}-byte ${type === H5T_FLOAT ? 'floats' : 'integers'}, which are not supported` };
  const order = size === 1 ? '|' : littleEndian ? '<' : '>';
  return { type: element, littleEndian, shape: shape.map(Number), dtype: `${order}${element}` };
}

/** The most specific line of an HDF5 error stack ("truncated file: eof = 3000, …"), escaped. */
function hdf5Message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const details = [...text.matchAll(/#\d+: .*? in [\w]+\(\): (.*)$/gm)].map((m) => m[1].trim());
  const detail = details.length > 0 ? details[details.length - 1] : text.split('\n')[0].trim();
  // A filter HDF5 does not have built in (LZF, Blosc, …) is looked for as a plugin in a directory
  // of h5wasm's build machine; say what that means instead.
  if (/plugin|required filter .* is not registered/i.test(detail)) {
    return "HDF5 cannot read it: the dataset is compressed with a filter this HDF5 build does not include (h5py's lzf, Blosc, …); gzip-compressed datasets can be read";
  }
  return `HDF5 cannot read it: ${printable(detail || 'unknown error', 200)}`;
}
