// Public API of the file readers (browser-safe: no node: imports; the CLI's disk helpers live in
// ./node). Shape convention: every reader returns arrays as stored — the file's shape, data in C
// order (Fortran .npy re-laid); layout.ts guesses the datapoints axis, nothing here transposes.

export { DEFAULT_LIMITS, InputError } from './types';
export type { Bundle, BundleEntry, ConvLayout, DetectedLayout, InputFile, Layout, NdArray, ReadLimits } from './types';
export { encodeNpy, openNpy, parseNpy, readNpyHeader } from './npy';
export type { NpyFile, NpyHeader } from './npy';
export { openNpz } from './npz';
export type { NpzArchive, NpzMember } from './npz';
export { openSafetensors } from './safetensors';
export type { SafetensorsFile, SafetensorsTensor } from './safetensors';
export { checkFinite, checkSameDatapoints, datapointsOfShape, detectLayout } from './layout';
export { listMissing, openBundle, readInput } from './bundle';
export type { LooseArray, MissingEntry, ReadInput } from './bundle';
export { ARRAY_EXTENSIONS, ARRAY_FORMATS, arrayExtension, arrayStem, openArrays, sniffFormat } from './arrays';
export type { ArrayEntry, ArrayFormat, OpenedArrays } from './arrays';
