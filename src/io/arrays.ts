// One reader interface over every array container we read (.npy, .npz, .safetensors): open a file
// by its name, list the arrays inside from their headers, read one when asked. Bundles and loose
// arrays are both built on it, and the extensions the app accepts are derived from it.
//
// Shape convention: entries report shapes as stored; read() returns the array as stored (C order).

import { openNpy } from './npy';
import { openNpz } from './npz';
import { openSafetensors } from './safetensors';
import { DEFAULT_LIMITS, InputError } from './types';
import type { NdArray, ReadLimits } from './types';

/** One array inside a file, known from its header alone. */
export interface ArrayEntry {
  /** The .npz member's name (np.load's key), the safetensors tensor's name, or the .npy file's stem. */
  name: string;
  shape: number[];
  dtype: string;
}

/** A file opened for its arrays: what it holds, and how to read each. */
export interface OpenedArrays {
  /** 'npy' holds exactly one entry; 'npz' and 'safetensors' any number (possibly none). */
  format: 'npy' | 'npz' | 'safetensors';
  entries: ArrayEntry[];
  /** Reads and decodes the entry called `name` (only now is its data touched). */
  read(name: string): Promise<NdArray>;
  /** Non-array members (an .npz's manifest.json), by path; empty for other formats. */
  others: string[];
  /** .npz members whose header cannot be read (a string or object dtype…), with the reader's
   *  error: one odd member does not make the other arrays of the file unreadable. */
  unreadable: { name: string; error: InputError }[];
  /** A non-array member decoded as UTF-8 (limited to limits.maxHeaderBytes). */
  readText(path: string): Promise<string>;
}

type Opener = (blob: Blob, source: string, stem: string, limits: ReadLimits) => Promise<OpenedArrays>;

const noText = (source: string) => async (path: string): Promise<string> => {
  throw new InputError(`${source}:${path}`, 'no such member');
};

/** The readers by extension (lower case, with the dot). */
const READERS: Record<string, Opener> = {
  '.npy': async (blob, source, stem, limits) => {
    const npy = await openNpy(blob, source, limits);
    return {
      format: 'npy',
      entries: [{ name: stem, shape: npy.header.shape, dtype: npy.header.dtype }],
      read: () => npy.read(),
      others: [],
      unreadable: [],
      readText: noText(source),
    };
  },
  '.npz': async (blob, source, _stem, limits) => {
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
    };
  },
  '.safetensors': async (blob, source, _stem, limits) => {
    const file = await openSafetensors(blob, source, limits);
    return {
      format: 'safetensors',
      entries: file.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype })),
      read: (name) => file.read(name),
      others: [],
      unreadable: [],
      readText: noText(source),
    };
  },
};

/** Extensions openArrays reads, with the dot: what file pickers accept. */
export const ARRAY_EXTENSIONS: readonly string[] = Object.keys(READERS);

/** The extension of `name` that openArrays reads (lower case, with the dot), or null. */
export function arrayExtension(name: string): string | null {
  const lower = name.toLowerCase();
  return ARRAY_EXTENSIONS.find((ext) => lower.endsWith(ext)) ?? null;
}

/** The file name without its folder and without the array extension: "runs/a_final.npz" → "a_final". */
export function arrayStem(name: string): string {
  const base = name.replace(/\\/g, '/').split('/').pop() ?? name;
  const ext = arrayExtension(base);
  return ext ? base.slice(0, -ext.length) : base;
}

/**
 * Opens `blob` (called `name` in messages; its extension picks the reader) and reads its headers.
 * Throws InputError with the reader's reason (empty file, bad magic, a header over the limits, a
 * truncated archive…), or when the extension is not one we read.
 */
export async function openArrays(blob: Blob, name: string, limits: ReadLimits = DEFAULT_LIMITS): Promise<OpenedArrays> {
  const ext = arrayExtension(name);
  if (!ext) throw new InputError(name, `not a ${ARRAY_EXTENSIONS.join(', ').replace(/, ([^,]*)$/, ' or $1')} file`);
  return READERS[ext](blob, name, arrayStem(name), limits);
}
