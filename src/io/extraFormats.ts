// The PyTorch, pickle and HDF5 readers described for a registry of formats (an openArrays-style
// dispatcher): which file names each one claims, how its first bytes look, and its opener. Every
// opener returns an ArrayFile ({ arrays, read(name), close() }).
//
// Shape convention: arrays as stored, C order; nothing is transposed here.

import type { ArrayFile } from './arrayFile';
import { looksLikeHdf5, openHdf5 } from './hdf5';
import { openNumpyPickle } from './numpyPickle';
import { openTorch } from './torch';
import { ARRAY_FORMATS } from './formats';
import type { ArrayFormat } from './formats';
import type { ReadLimits } from './types';

export interface ExtraFormat {
  format: ArrayFormat;
  /** For messages and lists of accepted files. */
  name: string;
  /** Lower-case file name endings this format claims. */
  extensions: readonly string[];
  /** True when the first 16 bytes of a file are this format's (for files with another or no extension). */
  matches(head: Uint8Array): boolean;
  open(blob: Blob, source: string, limits?: ReadLimits): Promise<ArrayFile>;
}

const startsWith = (head: Uint8Array, bytes: number[]) => bytes.every((b, i) => head[i] === b);
const info = (format: ArrayFormat) => {
  const { name, extensions } = ARRAY_FORMATS.find((f) => f.format === format)!;
  return { format, name, extensions };
};
/** torch.save's legacy format starts with a protocol 2 pickle of a 10-byte LONG1: its magic number. */
const TORCH_LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

export const EXTRA_FORMATS: readonly ExtraFormat[] = [
  {
    ...info('torch'),
    // A zip is also what .npz is: openArrays tells them apart by the archive's members (a
    // <prefix>/data.pkl is torch's); the legacy magic number is unambiguous.
    matches: (head) => startsWith(head, TORCH_LEGACY_MAGIC),
    open: openTorch,
  },
  {
    ...info('pickle'),
    // PROTO 2–5 (protocols 0 and 1 have no marker, so they are recognised by extension only).
    matches: (head) => head[0] === 0x80 && head[1] >= 2 && head[1] <= 5 && !startsWith(head, TORCH_LEGACY_MAGIC),
    open: openNumpyPickle,
  },
  {
    ...info('hdf5'),
    matches: looksLikeHdf5,
    open: openHdf5,
  },
];
