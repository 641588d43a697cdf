// Names and sizes of arrays from the torch / pickle / HDF5 readers where the app shows them: export
// file stems drop any extension the readers take, and the preview's MB counts torch dtypes right.
// Shape convention: not applicable.

import { describe, expect, it } from 'vitest';
import { stem } from '../../src/state/exportInfo';
import { arrayBytes } from '../../src/worker/shapes';

describe('names and sizes of the registered formats', () => {
  it('an export is named after the file without its extension, whatever the format', () => {
    expect(['digits_runA.npz', 'ckpt.pt', 'run.PTH', 'acts.h5', 'acts.hdf5', 'act.pkl', 'runs'].map(stem)).toEqual([
      'digits_runA',
      'ckpt',
      'run',
      'acts',
      'acts',
      'act',
      'runs',
    ]);
  });

  it('counts the bytes of torch, HDF5 and pickle dtypes', () => {
    expect(['torch.float32', 'torch.float64', 'torch.bfloat16', 'torch.uint8', 'torch.bool', '>f4', '|u1'].map((d) => arrayBytes([10, 3], d))).toEqual([
      120, 240, 60, 30, 30, 120, 30,
    ]);
  });

  it('counts the bytes of safetensors dtypes (upper case: F32 is 4 bytes, not numpy’s f32)', () => {
    expect(['F32', 'F64', 'F16', 'BF16', 'I64', 'U8', 'BOOL'].map((d) => arrayBytes([10, 3], d))).toEqual([120, 240, 60, 60, 240, 30, 30]);
  });
});
