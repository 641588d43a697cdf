// Per-datapoint labels (a `labels` member or labels.npy beside a bundle's arrays): one integer
// class per datapoint, used to colour the datapoints in plots. They are checked where they are
// loaded (by ./bundle, for the CLI and the app alike), and labels that do not fit are left out with
// a warning naming their file: the bundle itself still loads.
//
// Shape convention: (N,) or (N, 1), N = the bundle's datapoints, in the datapoints' order.

import { formatShape } from './decode';
import type { NdArray } from './types';

/**
 * What is wrong with `labels` as one integer class per datapoint, or null when nothing is.
 * `datapoints`, when known, is the bundle's datapoint count (the length the labels must have).
 */
export function labelsProblem(labels: NdArray, datapoints: number | undefined): string | null {
  const { shape, data } = labels;
  const oneColumn = shape.length === 2 && shape[1] === 1;
  if (shape.length !== 1 && !oneColumn) {
    return `labels must be 1-D (one class per datapoint) or (N, 1), not shape ${formatShape(shape)}`;
  }
  if (data.length === 0) return 'labels are empty';
  let nonFinite = -1;
  let fractional = -1;
  for (let i = 0; i < data.length; i++) {
    const value = data[i];
    if (!Number.isFinite(value)) {
      nonFinite = i;
      break;
    }
    if (fractional < 0 && !Number.isInteger(value)) fractional = i;
  }
  if (nonFinite >= 0)
    return `label ${nonFinite} is ${Number.isNaN(data[nonFinite]) ? 'NaN' : data[nonFinite] > 0 ? '+Inf' : '-Inf'}; labels must be integer classes`;
  if (fractional >= 0) return `label ${fractional} is ${data[fractional]}, not an integer; labels must be integer classes`;
  if (datapoints !== undefined && data.length !== datapoints) {
    return `${data.length} labels for ${datapoints} datapoints; there must be one label per datapoint`;
  }
  return null;
}
