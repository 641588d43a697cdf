// One reader interface over every array container we read (.npy, .npz, .safetensors, torch.save
// files, pickles of numpy arrays, HDF5): open a file, list the arrays inside from their headers,
// read one when asked, close it when done. Bundles and loose arrays are both built on it, and the
// extensions the app accepts are derived from its registry (./formats).
//
// Which reader: the file's extension when it has one we read, else its first bytes (a .npy's
// "\x93NUMPY", a zip — torch.save's when it has a <prefix>/data.pkl member, else an .npz —, HDF5's
// signature, torch's legacy magic number, a pickle's PROTO 2–5, a safetensors JSON header).
//
// Shape convention: entries report shapes as stored; read() returns the array as stored (C order).

import { EXTRA_FORMATS } from './extraFormats';
import type { ArrayFile } from './arrayFile';
import { ALL_EXTENSIONS_TEXT, arrayStem, formatOfName } from './formats';
import type { ArrayFormat } from './formats';
import { openNpy } from './npy';
import { openNpz } from './npz';
import { printable } from './printable';
import { openSafetensors } from './safetensors';
import { DEFAULT_LIMITS, InputError } from './types';
import type { NdArray, ReadLimits } from './types';

export { ARRAY_EXTENSIONS, arrayExtension, arrayStem } from './formats';
export type { ArrayFormat } from './formats';

/** One array inside a file, known from its header alone. */
export interface ArrayEntry {
  /** The .npz member's name (np.load's key), the safetensors tensor's name, the .npy file's stem,
   *  a torch/pickle entry's key path joined with '.' ("layer1.0.conv"), an HDF5 dataset's path
   *  without the leading '/' ("model/conv1"). */
  name: string;
  shape: number[];
  dtype: string;
}

/** A file opened for its arrays: what it holds, and how to read each. */
export interface OpenedArrays {
  /** 'npy' holds exactly one entry; the others any number (possibly none). */
  format: ArrayFormat;
  entries: ArrayEntry[];
  /** Reads and decodes the entry called `name` (only now is its data touched). */
  read(name: string): Promise<NdArray>;
  /** Non-array members (an .npz's manifest.json), by path; empty for other formats. */
  others: string[];
  /** Members that are not arrays we can read, with the reason: .npz members whose header cannot be
   *  read (a string or object dtype…), HDF5 datasets of strings or records, links. `listOnly` marks
   *  those that are not arrays by design (an HDF5 string dataset, a soft link): they are listed,
   *  and never refuse a bundle even where their name is a bundle entry's. */
  unreadable: { name: string; error: InputError; listOnly?: boolean }[];
  /** A non-array member decoded as UTF-8 (limited to limits.maxHeaderBytes). */
  readText(path: string): Promise<string>;
  /** Whether entry names are nested keys joined with '.' (torch.save, pickle): a bundle then reads
   *  '.' as well as '/' as a separator around a step_<N> key (see ./bundle). */
  dottedNames: boolean;
  /** Frees what the reader holds (the HDF5 reader's file); read() fails afterwards. Idempotent. */
  close(): void;
}

type Opener = (blob: Blob, source: string, stem: string, limits: ReadLimits) => Promise<OpenedArrays>;

const noText =
  (source: string) =>
  async (path: string): Promise<string> => {
    throw new InputError(`${source}:${path}`, 'no such member');
  };

const READERS: Record<ArrayFormat, Opener> = {
  npy: async (blob, source, stem, limits) => {
    const npy = await openNpy(blob, source, limits);
    return {
      format: 'npy',
      entries: [{ name: stem, shape: npy.header.shape, dtype: npy.header.dtype }],
      read: () => npy.read(),
      others: [],
      unreadable: [],
      readText: noText(source),
      dottedNames: false,
      close: () => {},
    };
  },
  npz: async (blob, source, _stem, limits) => {
    const npz = await openNpz(blob, source, limits);
    const headers = await Promise.all(
      npz.members.map(async (m): Promise<ArrayEntry | { name: string; error: InputError }> => {
        try {
          const header = await npz.header(m.name);
          return { name: m.name, shape: header.shape, dtype: header.dtype };
        } catch (error) {
          if (error instanceof InputError) return { name: m.name, error };
          throw error;
        }
      }),
    );
    const entries: ArrayEntry[] = [];
    const unreadable: OpenedArrays['unreadable'] = [];
    for (const h of headers) {
      if ('error' in h) unreadable.push(h);
      else entries.push(h);
    }
    return {
      format: 'npz',
      entries,
      read: (name) => npz.read(name),
      others: npz.otherMembers.map((m) => m.path),
      unreadable,
      readText: (path) => npz.readText(path),
      dottedNames: false,
      close: () => {},
    };
  },
  safetensors: async (blob, source, _stem, limits) => {
    const file = await openSafetensors(blob, source, limits);
    return {
      format: 'safetensors',
      entries: file.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype })),
      read: (name) => file.read(name),
      others: [],
      unreadable: [],
      readText: noText(source),
      dottedNames: false,
      close: () => {},
    };
  },
  torch: (blob, source, _stem, limits) => fromArrayFile('torch', blob, source, limits),
  pickle: (blob, source, _stem, limits) => fromArrayFile('pickle', blob, source, limits),
  hdf5: (blob, source, _stem, limits) => fromArrayFile('hdf5', blob, source, limits),
};

/** An ArrayFile reader (torch, pickle, HDF5) behind the OpenedArrays interface. */
async function fromArrayFile(format: 'torch' | 'pickle' | 'hdf5', blob: Blob, source: string, limits: ReadLimits): Promise<OpenedArrays> {
  const reader = EXTRA_FORMATS.find((f) => f.format === format)!;
  const file: ArrayFile & { skipped?: { name: string; reason: string }[] } = await reader.open(blob, source, limits);
  let closed = false;
  return {
    format,
    entries: file.arrays.map((a) => ({ name: a.name, shape: a.shape, dtype: a.dtype })),
    read: (name) => {
      if (closed) return Promise.reject(new InputError(`${source}:${name}`, 'its file was closed (it was removed); open it again'));
      return file.read(name);
    },
    others: [],
    unreadable: (file.skipped ?? []).map(({ name, reason }) => ({ name, error: new InputError(`${source}:${name}`, `not read: ${reason}`), listOnly: true })),
    readText: noText(source),
    dottedNames: format !== 'hdf5',
    close: () => {
      if (closed) return;
      closed = true;
      file.close();
    },
  };
}

const startsWith = (head: Uint8Array, text: string) => [...text].every((c, i) => head[i] === c.charCodeAt(0));

/**
 * The format of a file whose name says nothing, from its first bytes (and, for a zip, its members:
 * torch.save archives hold <prefix>/data.pkl), or null when it is none we read.
 */
export async function sniffFormat(blob: Blob, source: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<ArrayFormat | null> {
  const head = new Uint8Array(await blob.slice(0, 16).arrayBuffer());
  if (startsWith(head, '\x93NUMPY')) return 'npy';
  if (startsWith(head, 'PK\x03\x04') || startsWith(head, 'PK\x05\x06')) {
    try {
      const archive = await openNpz(blob, source, limits);
      const paths = [...archive.members, ...archive.otherMembers].map((m) => m.path);
      return paths.some((p) => /^[^/]+\/data\.pkl$/.test(p)) ? 'torch' : 'npz';
    } catch {
      return 'npz'; // a damaged zip: the .npz reader says what is wrong with it
    }
  }
  const extra = EXTRA_FORMATS.find((f) => f.matches(head));
  if (extra) return extra.format;
  // safetensors: an 8-byte little-endian header length, then a JSON object.
  if (head.length >= 9 && head[8] === 0x7b && head[6] === 0 && head[7] === 0) return 'safetensors';
  return null;
}

/**
 * Opens `blob` (called `name` in messages) and reads its headers: by its extension, else by its
 * first bytes (sniffFormat). Throws InputError with the reader's reason (empty file, bad magic, a
 * header over the limits, a truncated archive, a pickle naming a forbidden class…), or when the
 * file is no format we read. The caller closes what it opened (close()) when done with it.
 */
export async function openArrays(blob: Blob, name: string, limits: ReadLimits = DEFAULT_LIMITS, format?: ArrayFormat): Promise<OpenedArrays> {
  const chosen = format ?? formatOfName(name) ?? (await sniffFormat(blob, name, limits));
  if (!chosen) throw new InputError(name, blob.size === 0 ? 'file is empty' : `not a ${ALL_EXTENSIONS_TEXT} file`);
  let opened: OpenedArrays;
  try {
    opened = await READERS[chosen](blob, name, arrayStem(name), limits);
  } catch (error) {
    throw safeError(error);
  }
  return {
    ...opened,
    read: (entry) => opened.read(entry).catch((error: unknown) => Promise.reject(safeError(error))),
    readText: (path) => opened.readText(path).catch((error: unknown) => Promise.reject(safeError(error))),
    unreadable: opened.unreadable.map((u) => ({ ...u, error: safeError(u.error) as InputError })),
  };
}

/**
 * Every reader's InputError with its message made safe to show (io/printable: controls and bidi
 * marks escaped), whatever the reader quoted from the file (a zip member's name, header text).
 * `source` stays as given, so callers still match it against the paths they passed in.
 */
function safeError(error: unknown): unknown {
  if (!(error instanceof InputError)) return error;
  const detail = printable(error.detail, Number.POSITIVE_INFINITY);
  const message = `${printable(error.source, Number.POSITIVE_INFINITY)}: ${detail}`;
  if (message === error.message) return error;
  const safe = new InputError(error.source, detail);
  safe.message = message;
  return safe;
}
