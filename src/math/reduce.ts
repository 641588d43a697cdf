// From a stored array to a representation the metrics take.
//
// Dense layers become X: n neurons × m datapoints (row-major), whatever the file's layout.
// Conv layers (and (N, T, D) sequences, read as H = T, W = 1) are first normalised to a Conv tensor
// in NHWC order (datapoints, height, width, channels), then reduced:
//   flatten   → (C·H·W) neurons × N datapoints   (features ordered (h, w, c))
//   positions → C neurons × (N·H·W) datapoints   (every spatial position a datapoint; svcca tutorial 002)
//   meanpool  → C neurons × N datapoints         (average over space)
//   dft       → per-frequency blocks (see dft.ts); a dense layer there is the DC term, (N, 1, 1, F).

import { zeros, type Matrix } from './matrix';

export type Layout = 'datapoints-first' | 'neurons-first';
export type ConvLayout = 'nchw' | 'nhwc';
export type ConvReduction = 'flatten' | 'positions' | 'meanpool' | 'dft';

/** A conv activation, NHWC: value (i, h, w, c) at ((i·H + h)·W + w)·C + c. */
export interface Conv {
  datapoints: number;
  height: number;
  width: number;
  channels: number;
  data: Float64Array;
}

export type Representation = { kind: 'dense'; x: Matrix } | { kind: 'conv'; conv: Conv };

interface Stored {
  shape: readonly number[];
  data: Float32Array | Float64Array;
}

/** Reads a stored array as a representation. Throws Error with a plain-language reason on shapes it cannot use. */
export function toRepresentation(array: Stored, layout: Layout, convLayout: ConvLayout): Representation {
  const { shape, data } = array;
  if (shape.length === 1) return { kind: 'dense', x: { rows: 1, cols: shape[0], data: new Float64Array(data) } }; // one neuron
  if (shape.length === 2) {
    const [a, b] = shape;
    if (layout === 'neurons-first') return { kind: 'dense', x: { rows: a, cols: b, data: new Float64Array(data) } };
    // datapoints-first (m, n) → n × m
    const x = zeros(b, a);
    for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) x.data[j * a + i] = data[i * b + j];
    return { kind: 'dense', x };
  }
  if (shape.length === 3) {
    // (N, T, D): a sequence is a conv layer with H = T, W = 1 (datapoints always first).
    const [n, t, d] = shape;
    return { kind: 'conv', conv: { datapoints: n, height: t, width: 1, channels: d, data: new Float64Array(data) } };
  }
  if (shape.length === 4) {
    if (convLayout === 'nhwc') {
      const [n, h, w, c] = shape;
      return { kind: 'conv', conv: { datapoints: n, height: h, width: w, channels: c, data: new Float64Array(data) } };
    }
    const [n, c, h, w] = shape;
    const out = new Float64Array(n * c * h * w);
    for (let i = 0; i < n; i++)
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((i * h + y) * w + x) * c + ch] = data[((i * c + ch) * h + y) * w + x];
    return { kind: 'conv', conv: { datapoints: n, height: h, width: w, channels: c, data: out } };
  }
  throw new Error(`has ${shape.length} dimensions (${shape.join(' × ')}); expected 1 (one neuron), 2 (dense), 3 (N, T, D) or 4 (conv)`);
}

/** Datapoints of a representation (columns of the dense matrix it becomes under `reduction`). */
export function datapointsOfRepresentation(rep: Representation, reduction: ConvReduction): number {
  if (rep.kind === 'dense') return rep.x.cols;
  const { datapoints, height, width } = rep.conv;
  return reduction === 'positions' ? datapoints * height * width : datapoints;
}

/** Applies a spatial reduction (not dft) to a conv representation; dense ones pass through. */
export function reduceToMatrix(rep: Representation, reduction: Exclude<ConvReduction, 'dft'>): Matrix {
  if (rep.kind === 'dense') return rep.x;
  const { datapoints: n, height: h, width: w, channels: c, data } = rep.conv;
  const positions = h * w;
  if (reduction === 'flatten') {
    const features = positions * c;
    const x = zeros(features, n);
    for (let i = 0; i < n; i++) for (let f = 0; f < features; f++) x.data[f * n + i] = data[i * features + f];
    return x;
  }
  if (reduction === 'positions') {
    const m = n * positions;
    const x = zeros(c, m);
    for (let p = 0; p < m; p++) for (let ch = 0; ch < c; ch++) x.data[ch * m + p] = data[p * c + ch];
    return x;
  }
  const x = zeros(c, n);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < positions; p++) {
      for (let ch = 0; ch < c; ch++) x.data[ch * n + i] += data[(i * positions + p) * c + ch];
    }
  }
  for (let k = 0; k < x.data.length; k++) x.data[k] /= positions;
  return x;
}

/** A dense n × m layer seen as a conv layer with one spatial position: (m, 1, 1, n). */
export function denseAsConv(x: Matrix): Conv {
  const { rows: n, cols: m } = x;
  const data = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) data[j * n + i] = x.data[i * m + j];
  return { datapoints: m, height: 1, width: 1, channels: n, data };
}
