// The PyTorch, pickle and HDF5 readers described for a registry of formats (an openArrays-style
// dispatcher): which file names each one claims, how its first bytes look, and its opener. Every
// opener returns an ArrayFile ({ arrays, read(name), close() }).
//
// Shape convention: arrays as stored, C order; nothing is transposed here.

import type { ArrayFile } from './arrayFile';
import { looksLikeHdf5, openHdf5 } from './hdf5';
import { openNumpyPickle } from './numpyPickle';
import { openTorch } from './torch';
import type { ReadLimits } from './types';

export interface ExtraFormat {
  /** For messages and lists of accepted files. */
  name: string;
  /** Lower-case file name endings this format claims. */
  extensions: string[];
  /** True when the first 16 bytes of a file are this format's (for files with another or no extension). */
  matches(head: Uint8Array): boolean;
  open(blob: Blob, source: string, limits?: ReadLimits): Promise<ArrayFile>;
}

const startsWith = (head: Uint8Array, bytes: number[]) => bytes.every((b, i) => head[i] === b);
/** torch.save's legacy format starts with a protocol 2 pickle of a 10-byte LONG1: its magic number. */
const TORCH_LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

export const EXTRA_FORMATS: readonly ExtraFormat[] = [
  {
    name: 'PyTorch (torch.save)',
    extensions: ['.pt', '.pth', '.ckpt'],
    // A zip is also what .npz is: only a zip *named* .pt/.pth/.ckpt is taken for torch by content alone
    // if the caller has no better idea; the legacy magic number is unambiguous.
    matches: (head) => startsWith(head, TORCH_LEGACY_MAGIC),
    open: openTorch,
  },
  {
    name: 'Python pickle of numpy arrays',
    extensions: ['.pkl', '.pickle', '.p'],
    // PROTO 2–5 (protocols 0 and 1 have no marker, so they are recognised by extension only).
    matches: (head) => head[0] === 0x80 && head[1] >= 2 && head[1] <= 5 && !startsWith(head, TORCH_LEGACY_MAGIC),
    open: openNumpyPickle,
  },
  {
    name: 'HDF5',
    extensions: ['.h5', '.hdf5', '.hdf', '.he5'],
    matches: looksLikeHdf5,
    open: openHdf5,
  },
];
