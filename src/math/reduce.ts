// From a stored array to a representation the metrics take.
//
// Dense layers become X: n neurons × m datapoints (row-major), whatever the file's layout. The
// representation keeps the stored array (float32 or float64, either orientation) and builds that
// float64 matrix only when a path asks for `x`: SVCCA's factor centres straight from the stored
// array (reduceToSource, centerStoredRows), so a large single pair never allocates the n × m
// float64 copy (40 MB at 512 × 10 000, paid mostly in page faults on a fresh allocation).
// Conv layers (and (N, T, D) sequences, read as H = T, W = 1) are read as a Conv tensor in NHWC order
// (datapoints, height, width, channels), built from the stored array on first read (the DFT reads the
// stored array itself and never builds it), then reduced:
//   flatten   → (C·H·W) neurons × N datapoints   (features ordered (h, w, c))
//   positions → C neurons × (N·H·W) datapoints   (every spatial position a datapoint; svcca tutorial 002)
//   meanpool  → C neurons × N datapoints         (average over space)
//   dft       → per-frequency blocks (see dft.ts); a dense layer there is the DC term, (N, 1, 1, F).

import type { CentringSource } from './cca';
import { centerRows, zeros, type Matrix } from './matrix';

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
  /**
   * The stored array `data` is read from (toRepresentation): the same values, float32 or float64, in
   * the file's order. `data` is then built on its first read and kept; a reader that takes the stored
   * order itself (dft2) uses this and never builds it.
   */
  stored?: StoredConv;
}

/** A conv layer as the file stores it: (N, C, H, W) for 'nchw', (N, H, W, C) for 'nhwc' (and (N, T, D) sequences). */
export interface StoredConv {
  data: Float32Array | Float64Array;
  order: ConvLayout;
}

/** The sizes of a conv layer, without its values. */
export type ConvShape = Pick<Conv, 'datapoints' | 'height' | 'width' | 'channels'>;

/**
 * A conv layer over its stored array: `data` (NHWC float64) is an enumerable getter that builds it on
 * first read (the values toRepresentation always gave), then keeps it. A spread or a structured clone
 * builds it: send `stored` across threads instead (analysis/pool/protocol.ts).
 */
export function storedConv(shape: ConvShape, stored: StoredConv): Conv {
  const { datapoints, height, width, channels } = shape;
  const conv = { datapoints, height, width, channels, stored } as Conv;
  buildOnFirstRead(conv, 'data', () => nhwcOf(shape, stored), convsBuilt);
  return conv;
}

/**
 * Makes `key` of `target` an enumerable getter whose value `build` makes on the first read, then
 * kept; `built` records the targets whose value exists (denseMatrixBuilt, convDataBuilt).
 */
function buildOnFirstRead<T extends object, K extends keyof T>(target: T, key: K, build: () => T[K], built: WeakSet<T>): void {
  let value: T[K] | undefined;
  Object.defineProperty(target, key, {
    enumerable: true,
    get: () => {
      if (value === undefined) {
        value = build();
        built.add(target);
      }
      return value;
    },
  });
}

/** Convs whose NHWC float64 data has been built (convDataBuilt). */
const convsBuilt = new WeakSet<Conv>();

/** Whether a conv layer's NHWC float64 `data` exists (literals: always; storedConv: once `data` was read). */
export function convDataBuilt(conv: Conv): boolean {
  return !conv.stored || convsBuilt.has(conv);
}

/** The NHWC float64 values of a stored conv layer (a new array). */
function nhwcOf(shape: ConvShape, stored: StoredConv): Float64Array {
  if (stored.order === 'nhwc') return new Float64Array(stored.data);
  const { datapoints: n, height: h, width: w, channels: c } = shape;
  const { data, perDatapoint, perPosition, perChannel } = convStrides({ ...shape, stored });
  const out = new Float64Array(n * h * w * c);
  // Writes in order (channels innermost), reads one position of each channel plane.
  for (let i = 0; i < n; i++)
    for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) out[(i * h * w + p) * c + ch] = data[i * perDatapoint + p * perPosition + ch * perChannel];
  return out;
}

/**
 * A dense layer as the file stores it, read in place: `neuronsFirst` n neurons × m datapoints,
 * else m datapoints × n neurons (row-major either way).
 */
export interface StoredDense {
  data: Float32Array | Float64Array;
  neurons: number;
  datapoints: number;
  neuronsFirst: boolean;
}

/**
 * Dense: `x` is the n neurons × m datapoints float64 matrix. From toRepresentation it is built on
 * first read of `x` (then kept) from `stored`; literals built elsewhere give `x` alone.
 */
export type Representation = { kind: 'dense'; x: Matrix; stored?: StoredDense } | { kind: 'conv'; conv: Conv };

interface Stored {
  shape: readonly number[];
  data: Float32Array | Float64Array;
}

/** Reads a stored array as a representation. Throws Error with a plain-language reason on shapes it cannot use. */
export function toRepresentation(array: Stored, layout: Layout, convLayout: ConvLayout): Representation {
  const { shape, data } = array;
  if (shape.length === 1) return denseRepresentation({ data, neurons: 1, datapoints: shape[0], neuronsFirst: true }); // one neuron
  if (shape.length === 2) {
    const [a, b] = shape;
    if (layout === 'neurons-first') return denseRepresentation({ data, neurons: a, datapoints: b, neuronsFirst: true });
    return denseRepresentation({ data, neurons: b, datapoints: a, neuronsFirst: false }); // stored (m, n)
  }
  if (shape.length === 3) {
    // (N, T, D): a sequence is a conv layer with H = T, W = 1 (datapoints always first).
    const [n, t, d] = shape;
    return { kind: 'conv', conv: storedConv({ datapoints: n, height: t, width: 1, channels: d }, { data, order: 'nhwc' }) };
  }
  if (shape.length === 4) {
    if (convLayout === 'nhwc') {
      const [n, h, w, c] = shape;
      return { kind: 'conv', conv: storedConv({ datapoints: n, height: h, width: w, channels: c }, { data, order: 'nhwc' }) };
    }
    const [n, c, h, w] = shape;
    return { kind: 'conv', conv: storedConv({ datapoints: n, height: h, width: w, channels: c }, { data, order: 'nchw' }) };
  }
  throw new Error(`has ${shape.length} dimensions (${shape.join(' × ')}); expected 1 (one neuron), 2 (dense), 3 (N, T, D) or 4 (conv)`);
}

/** Reps whose float64 matrix has been built (denseMatrixBuilt). */
const built = new WeakSet<Representation & { kind: 'dense' }>();

/**
 * A dense representation over a stored array: `x` (n neurons × m datapoints, float64) is built on
 * its first read, the same values toRepresentation always gave (a widening copy of a neurons-first
 * array, the transpose of a datapoints-first one), then kept. `x` is an enumerable getter, so a
 * spread or a structured clone builds it: send `stored` across threads instead (analysis/pool).
 */
export function denseRepresentation(stored: StoredDense): Representation & { kind: 'dense' } {
  const rep = { kind: 'dense' as const, stored } as Representation & { kind: 'dense' };
  buildOnFirstRead(rep, 'x', () => storedMatrix(stored), built);
  return rep;
}

/** Whether a dense representation's float64 matrix exists (literals: always; denseRepresentation: once `x` was read). */
export function denseMatrixBuilt(rep: Representation): boolean {
  return rep.kind === 'dense' && (!rep.stored || built.has(rep));
}

/** The n neurons × m datapoints float64 matrix of a stored dense layer (a new array). */
export function storedMatrix(stored: StoredDense): Matrix {
  const { data, neurons: n, datapoints: m } = stored;
  if (stored.neuronsFirst) return { rows: n, cols: m, data: new Float64Array(data.subarray(0, n * m)) };
  // datapoints-first (m, n) → n × m
  const x = zeros(n, m);
  for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) x.data[i * m + j] = data[j * n + i];
  return x;
}

/** Datapoints tile of the transposing pass: a tile of the stored (m, n) rows and of `into`'s rows stays in L1. */
const TRANSPOSE_TILE = 64;

/**
 * The n neurons' means over the m datapoints of a stored dense layer, as centerRows computes them:
 * each neuron's sum adds its datapoints in order j = 0, 1, … in float64, then one division by m.
 * A datapoints-first (m, n) array is summed in one sequential pass, datapoint j outer.
 */
export function storedRowMeans(stored: StoredDense): Float64Array {
  const { data, neurons: n, datapoints: m } = stored;
  const means = new Float64Array(n);
  if (stored.neuronsFirst) {
    for (let i = 0; i < n; i++) {
      const offset = i * m;
      let sum = 0;
      for (let j = 0; j < m; j++) sum += data[offset + j];
      means[i] = sum / m;
    }
    return means;
  }
  const sums = new Float64Array(n);
  for (let j = 0; j < m; j++) {
    const row = j * n;
    for (let i = 0; i < n; i++) sums[i] += data[row + i];
  }
  for (let i = 0; i < n; i++) means[i] = sums[i] / m;
  return means;
}

/**
 * centerRows (math/matrix.ts) of storedMatrix(stored), without building it: the centred n neurons ×
 * m datapoints rows written into `into` (n·m elements, e.g. WebAssembly memory), widened to float64,
 * transposed from a datapoints-first array in the same pass. Returns the row means. Bit for bit
 * centerRows's result: each neuron's sum runs over its datapoints in the same order, then the same
 * division and subtraction.
 */
export function centerStoredRows(stored: StoredDense, into: Float64Array): Float64Array {
  const { data, neurons: n, datapoints: m } = stored;
  const means = storedRowMeans(stored);
  if (stored.neuronsFirst) {
    for (let i = 0; i < n; i++) {
      const offset = i * m;
      const mean = means[i];
      for (let j = 0; j < m; j++) into[offset + j] = data[offset + j] - mean;
    }
    return means;
  }
  // Stored (m, n): the transposing subtraction in tiles.
  for (let j0 = 0; j0 < m; j0 += TRANSPOSE_TILE) {
    const j1 = Math.min(m, j0 + TRANSPOSE_TILE);
    for (let i0 = 0; i0 < n; i0 += TRANSPOSE_TILE) {
      const i1 = Math.min(n, i0 + TRANSPOSE_TILE);
      for (let i = i0; i < i1; i++) {
        const mean = means[i];
        const offset = i * m;
        for (let j = j0; j < j1; j++) into[offset + j] = data[j * n + i] - mean;
      }
    }
  }
  return means;
}

/**
 * reduceToMatrix for SVCCA's factor, which centres straight from a stored dense array: such a
 * layer (its float64 matrix not built yet) comes back as a CentringSource, and stays unbuilt;
 * anything else as reduceToMatrix gives it.
 */
export function reduceToSource(rep: Representation, reduction: Exclude<ConvReduction, 'dft'>): Matrix | CentringSource {
  if (rep.kind === 'conv' && reduction === 'flatten') return flattenedSource(rep.conv);
  if (rep.kind !== 'dense' || !rep.stored || built.has(rep)) return reduceToMatrix(rep, reduction);
  const stored = rep.stored;
  return {
    rows: stored.neurons,
    cols: stored.datapoints,
    centerRowsInto: (into) => centerStoredRows(stored, into),
    // A datapoints-first (m, n) array is these rows already: the same means, subtracted in place.
    ...(stored.neuronsFirst
      ? {}
      : {
          centredDatapointRowsInto: (into: Float64Array) => {
            const { data, neurons: n, datapoints: m } = stored;
            const means = storedRowMeans(stored);
            for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) into[j * n + i] = data[j * n + i] - means[i];
            return means;
          },
        }),
    streamed: () => ({ ...stored, means: storedRowMeans(stored) }),
  };
}

/**
 * A conv layer flattened ((C·H·W) neurons × N datapoints, features ordered (h, w, c)) as a
 * CentringSource: centred as reduceToMatrix's matrix would be, or datapoint-major straight from where
 * the values lie (flattenDatapointMajor), each column's mean summed over the datapoints in order and
 * divided by N as centerRows does for that row, so both forms agree to the bit.
 */
function flattenedSource(conv: Conv): CentringSource {
  const m = conv.datapoints;
  const n = conv.height * conv.width * conv.channels;
  return {
    rows: n,
    cols: m,
    centerRowsInto: (into) => centerRows(reduceToMatrix({ kind: 'conv', conv }, 'flatten'), into).means,
    centredDatapointRowsInto: (into) => {
      flattenDatapointMajor(conv, into);
      const means = new Float64Array(n);
      for (let i = 0; i < m; i++) for (let f = 0; f < n; f++) means[f] += into[i * n + f];
      for (let f = 0; f < n; f++) means[f] /= m;
      for (let i = 0; i < m; i++) for (let f = 0; f < n; f++) into[i * n + f] -= means[f];
      return means;
    },
  };
}

/** Datapoints of a representation (columns of the dense matrix it becomes under `reduction`). */
export function datapointsOfRepresentation(rep: Representation, reduction: ConvReduction): number {
  if (rep.kind === 'dense') return rep.stored ? rep.stored.datapoints : rep.x.cols;
  const { datapoints, height, width } = rep.conv;
  return reduction === 'positions' ? datapoints * height * width : datapoints;
}

/** Applies a spatial reduction (not dft) to a conv representation; dense ones pass through. */
export function reduceToMatrix(rep: Representation, reduction: Exclude<ConvReduction, 'dft'>): Matrix {
  if (rep.kind === 'dense') return rep.x;
  const { datapoints: n, height: h, width: w, channels: c } = rep.conv;
  const positions = h * w;
  // Value (i, position p, channel ch) at i·perDatapoint + p·perPosition + ch·perChannel, read from the
  // stored array where there is one (the same values as the NHWC `data`, which is then not built).
  const { data, perDatapoint, perPosition, perChannel } = convStrides(rep.conv);
  if (reduction === 'flatten') {
    const features = positions * c; // ordered (h, w, c)
    const x = zeros(features, n);
    for (let i = 0; i < n; i++)
      for (let p = 0; p < positions; p++)
        for (let ch = 0; ch < c; ch++) x.data[(p * c + ch) * n + i] = data[i * perDatapoint + p * perPosition + ch * perChannel];
    return x;
  }
  if (reduction === 'positions') {
    const m = n * positions;
    const x = zeros(c, m);
    for (let i = 0; i < n; i++)
      for (let p = 0; p < positions; p++)
        for (let ch = 0; ch < c; ch++) x.data[ch * m + i * positions + p] = data[i * perDatapoint + p * perPosition + ch * perChannel];
    return x;
  }
  const x = zeros(c, n);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < positions; p++) {
      for (let ch = 0; ch < c; ch++) x.data[ch * n + i] += data[i * perDatapoint + p * perPosition + ch * perChannel];
    }
  }
  for (let k = 0; k < x.data.length; k++) x.data[k] /= positions;
  return x;
}

/**
 * reduceToMatrix(rep, 'flatten') transposed: m datapoints × (C·H·W) features (row-major, features
 * ordered (h, w, c) as flatten orders them), read straight from where the values lie. In either
 * stored order a datapoint's values are one block, so this is a copy (NHWC) or a gather within each
 * block (NCHW), never the strided scatter into neurons × datapoints. `into`: the array written to
 * (m·C·H·W elements; a scratch buffer), else a new one.
 */
export function flattenDatapointMajor(conv: Conv, into?: Float64Array): Matrix {
  const { datapoints: m, height, width, channels: c } = conv;
  const positions = height * width;
  const features = positions * c;
  const x: Matrix = { rows: m, cols: features, data: into ?? new Float64Array(m * features) };
  const { data, perDatapoint, perPosition, perChannel } = convStrides(conv);
  for (let i = 0; i < m; i++) {
    const from = i * perDatapoint;
    const to = i * features;
    if (perChannel === 1 && perPosition === c) x.data.set(data.subarray(from, from + features), to);
    else for (let p = 0; p < positions; p++) for (let ch = 0; ch < c; ch++) x.data[to + p * c + ch] = data[from + p * perPosition + ch * perChannel];
  }
  return x;
}

/**
 * Where a conv layer's values lie: value (datapoint i, position p = y·W + x, channel ch) at
 * i·perDatapoint + p·perPosition + ch·perChannel of `data`, its stored array (NCHW or NHWC) where it
 * has one, else its NHWC `data`.
 */
export function convStrides(conv: ConvShape & Partial<Pick<Conv, 'data' | 'stored'>>): {
  data: Float32Array | Float64Array;
  perDatapoint: number;
  perPosition: number;
  perChannel: number;
} {
  const positions = conv.height * conv.width;
  const c = conv.channels;
  if (conv.stored?.order === 'nchw') return { data: conv.stored.data, perDatapoint: c * positions, perPosition: 1, perChannel: positions };
  const data = conv.stored?.data ?? conv.data;
  if (!data) throw new Error('a conv layer with neither data nor a stored array');
  return { data, perDatapoint: positions * c, perPosition: c, perChannel: 1 };
}

/** A dense n × m layer seen as a conv layer with one spatial position: (m, 1, 1, n). */
export function denseAsConv(x: Matrix): Conv {
  const { rows: n, cols: m } = x;
  const data = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) data[j * n + i] = x.data[i * m + j];
  return { datapoints: m, height: 1, width: 1, channels: n, data };
}
