// What the PyTorch, pickle and HDF5 readers return: a list of the arrays a file holds (name, shape
// and dtype known before any data is read) and read(name) for one of them. The same shape as
// openSafetensors/openNpz, so one registry can open any of them.
//
// Shape convention: shapes are as stored (outermost first) and read() returns data in C order;
// nothing is transposed to neurons × datapoints here.

import { elementCount } from './decode';
import type { NdArray } from './types';

export interface ArrayInfo {
  /** How the file names it: a dict path "layer1.0.conv", a list index "0", an HDF5 path "model/fc". */
  name: string;
  shape: number[];
  /** As the format spells it: 'torch.float32', '<f4', … */
  dtype: string;
}

export interface ArrayFile {
  /** In the order the file holds them. */
  arrays: ArrayInfo[];
  /** Reads and decodes one array (only now is its data touched). */
  read(name: string): Promise<NdArray>;
  /** Frees what the reader holds (the HDF5 reader's copy of the file); the others hold nothing. */
  close(): void;
}

/**
 * Elements of an array given by element strides and an offset, copied into C order.
 * `source` holds the elements the strides index; the caller has checked that every index
 * offset + Σ i_k·stride_k (0 ≤ i_k < shape_k) lies inside it.
 */
export function gatherStrided<T extends Float32Array | Float64Array>(source: T, shape: readonly number[], strides: readonly number[], offset: number): T {
  const count = elementCount(shape, 'gatherStrided');
  const out = new (source.constructor as new (length: number) => T)(count);
  if (count === 0) return out;
  const ndim = shape.length;
  if (ndim === 0) {
    out[0] = source[offset];
    return out;
  }
  const last = shape[ndim - 1];
  const lastStride = strides[ndim - 1];
  // Odometer over the outer axes (0 … ndim−2); `base` is the source index of (i0, …, i_{n−2}, 0).
  const index = new Array<number>(Math.max(0, ndim - 1)).fill(0);
  let base = offset;
  for (let o = 0; o < count; o += last) {
    if (lastStride === 1) out.set(source.subarray(base, base + last), o);
    else for (let j = 0; j < last; j++) out[o + j] = source[base + j * lastStride];
    for (let k = ndim - 2; k >= 0; k--) {
      index[k]++;
      base += strides[k];
      if (index[k] < shape[k]) break;
      base -= strides[k] * shape[k];
      index[k] = 0;
    }
  }
  return out;
}

/** C-order element strides of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = stride;
    stride *= shape[k];
  }
  return strides;
}

/** Largest element index a strided view touches (offset for an empty or 0-d view), and whether it is C-contiguous. */
export function stridedExtent(shape: readonly number[], strides: readonly number[], offset: number): { maxIndex: number; empty: boolean; contiguous: boolean } {
  let maxIndex = offset;
  let empty = false;
  for (let k = 0; k < shape.length; k++) {
    if (shape[k] === 0) empty = true;
    else maxIndex += (shape[k] - 1) * strides[k];
  }
  const expected = contiguousStrides(shape);
  const contiguous = shape.every((d, k) => d === 1 || strides[k] === expected[k]);
  return { maxIndex, empty, contiguous };
}

/**
 * The list of names for a "has no array 'x'" message: at most 20 of them, then the arrays whose
 * path ends with the name asked for ("step_280/s2b2" in a bundle that keeps "seed0/step_280/s2b2").
 */
export function listNames(arrays: readonly { name: string }[], show: (s: string) => string, asked?: string): string {
  const names = arrays.map((a) => show(a.name));
  const listed = names.length === 0 ? 'none' : names.length > 20 ? `${names.slice(0, 20).join(', ')} and ${names.length - 20} more` : names.join(', ');
  const near = asked === undefined ? [] : arrays.filter((a) => a.name.endsWith(`/${asked}`)).map((a) => show(a.name));
  return near.length > 0 && near.length <= 5 ? `${listed}; did you mean ${near.join(' or ')}?` : listed;
}
