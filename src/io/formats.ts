// The array file formats we read, by name and file extension only (no reader code here, so the UI
// can list them without pulling the readers into its bundle). openArrays (./arrays) pairs each
// with its reader; the file picker's accept list and the drop overlay's text are derived from it.
//
// Shape convention: not applicable (names and extensions only).

export type ArrayFormat = 'npy' | 'npz' | 'safetensors' | 'torch' | 'pickle' | 'hdf5';

export interface FormatInfo {
  format: ArrayFormat;
  /** For messages and lists of accepted files. */
  name: string;
  /** Lower-case file name endings, with the dot; the first is the usual one. */
  extensions: readonly string[];
}

export const ARRAY_FORMATS: readonly FormatInfo[] = [
  { format: 'npy', name: 'NumPy array', extensions: ['.npy'] },
  { format: 'npz', name: 'NumPy archive', extensions: ['.npz'] },
  { format: 'safetensors', name: 'safetensors', extensions: ['.safetensors'] },
  { format: 'torch', name: 'PyTorch (torch.save)', extensions: ['.pt', '.pth', '.ckpt'] },
  { format: 'pickle', name: 'Python pickle of numpy arrays', extensions: ['.pkl', '.pickle', '.p'] },
  { format: 'hdf5', name: 'HDF5', extensions: ['.h5', '.hdf5', '.hdf', '.he5'] },
];

/** Every extension openArrays reads, with the dot: what file pickers accept. */
export const ARRAY_EXTENSIONS: readonly string[] = ARRAY_FORMATS.flatMap((f) => f.extensions);

/** The extension of `name` that openArrays reads (lower case, with the dot), or null. */
export function arrayExtension(name: string): string | null {
  const lower = name.toLowerCase();
  // Longest first, so no ending is taken for a shorter one that it also ends with.
  const sorted = [...ARRAY_EXTENSIONS].sort((a, b) => b.length - a.length);
  return sorted.find((ext) => lower.endsWith(ext)) ?? null;
}

/** The format a file name's extension names, or null. */
export function formatOfName(name: string): ArrayFormat | null {
  const ext = arrayExtension(name);
  return ext ? ARRAY_FORMATS.find((f) => f.extensions.includes(ext))!.format : null;
}

/** The file name without its folder and without the array extension: "runs/a_final.npz" → "a_final". */
export function arrayStem(name: string): string {
  const base = name.replace(/\\/g, '/').split('/').pop() ?? name;
  const ext = arrayExtension(base);
  return ext ? base.slice(0, -ext.length) : base;
}

/** "a, b or c". */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** The usual extension of each format, "`.npy, .npz, .safetensors, .pt, .pkl or .h5`" (for short texts). */
export const USUAL_EXTENSIONS_TEXT = orList(ARRAY_FORMATS.map((f) => f.extensions[0]));

/** Every extension, "`.npy, .npz, …, .hdf or .he5`" (for messages saying what can be read). */
export const ALL_EXTENSIONS_TEXT = orList(ARRAY_EXTENSIONS);
