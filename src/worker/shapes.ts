// Small pure helpers about array shapes and layouts, shared by the worker and the store/UI.
//
// Shapes are as stored in the file, outermost axis first. Layout 'datapoints-first' means axis 0
// indexes datapoints (PyTorch (N, F), conv (N, C, H, W) / (N, H, W, C), transformers (N, T, D));
// 'neurons-first' (google/svcca's (n, m)) only applies to 2-D arrays, where axis 1 is then the
// datapoints.

import type { Layout } from '../io/types';

export { datapointCount as datapointsOf } from '../io/layout';
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
