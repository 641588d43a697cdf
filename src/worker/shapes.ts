// Small pure helpers about array shapes and layouts, shared by the worker and the store/UI.
//
// Shapes are as stored in the file, outermost axis first. Layout 'datapoints-first' means axis 0
// indexes datapoints (PyTorch (N, F), conv (N, C, H, W) / (N, H, W, C), transformers (N, T, D));
// 'neurons-first' (google/svcca's (n, m)) only applies to 2-D arrays, where axis 1 is then the
// datapoints.

import type { Layout } from '../io/types';

export { datapointsOfShape } from '../io/layout';
export { formatShape } from '../io/decode';

/** Features per datapoint (before any conv reduction): the product of the non-datapoint axes. */
export function featuresOf(shape: readonly number[], layout: Layout): number {
  if (shape.length <= 1) return 1;
  const axes = layout === 'neurons-first' ? shape.slice(0, -1) : shape.slice(1);
  return axes.reduce((p, d) => p * d, 1);
}

/** The most frequent value, ties going to the one seen first; null for an empty list. */
export function mostFrequent(values: readonly number[]): number | null {
  const counts = new Map<number, number>();
  let best: number | null = null;
  let bestCount = 0;
  for (const v of values) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/** Bytes per element of a stored dtype: numpy ('<f4', '|u1', '|b1'), safetensors ('F32', 'BF16',
 *  'BOOL') or torch ('torch.float32', 'torch.bool'). */
export function dtypeBytes(dtype: string): number {
  const upper = dtype.toUpperCase();
  if (upper === 'BOOL' || upper === 'TORCH.BOOL') return 1;
  // numpy's codes are lower case and count bytes ('<f4'); safetensors' are upper case and count bits ('F32').
  const numpy = /^[<>|=]?[fiub](\d+)$/.exec(dtype);
  if (numpy) return Number(numpy[1]);
  const bits = /(\d+)$/.exec(upper);
  return bits ? Math.max(1, Number(bits[1]) / 8) : 4;
}

/** Declared size of an array's data in bytes (shape product × element size). */
export function arrayBytes(shape: readonly number[], dtype: string): number {
  return shape.reduce((p, d) => p * d, 1) * dtypeBytes(dtype);
}
