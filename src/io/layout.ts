// Guessing which axis of an activation array indexes datapoints, and checks on array contents.
//
// Shape convention: shapes are as stored (C order, outermost axis first). 'datapoints-first' means
// axis 0 indexes datapoints (PyTorch (N, F), conv (N, C, H, W) or (N, H, W, C), transformers
// (N, T, D)); 'neurons-first' is google/svcca's (n neurons, m datapoints) and only applies to 2-D
// arrays. Nothing is transposed here: callers turn arrays into neurons × datapoints themselves.

import { formatShape } from './decode';
import { InputError } from './types';
import type { DetectedLayout, Layout, NdArray } from './types';

/**
 * Guesses the layout of an array of `shape`, knowing (when given) the datapoint count of the other
 * arrays it will be compared with. Never throws: any shape gets a guess and a sentence saying why.
 *
 * - 2-D: the axis equal to `datapoints` is the datapoints axis (axis 0 if both are); otherwise the
 *   larger axis is (activations usually have more datapoints than neurons), ties → datapoints-first.
 * - 3-D (N, T, D) and 4-D are always datapoints-first.
 * - 4-D (N, a, b, c): H = W is assumed, so a = b ≠ c → NHWC and b = c ≠ a → NCHW; when that does
 *   not decide it (all equal, or no two equal), NHWC only if c > a (channels are usually the larger
 *   of the two candidate axes in deep layers), else NCHW.
 */
export function detectLayout(shape: readonly number[], datapoints?: number): DetectedLayout {
  const shown = formatShape(shape);
  if (shape.length === 0) {
    return { layout: 'datapoints-first', reason: `${shown}: a scalar is one value, taken as a single datapoint` };
  }
  if (shape.length === 1) {
    return { layout: 'datapoints-first', reason: `${shown}: a 1-D array holds one value per datapoint (a single neuron)` };
  }
  if (shape.length === 2) return detect2d(shape[0], shape[1], shown, datapoints);
  if (shape.length === 3) {
    return { layout: 'datapoints-first', reason: `${shown}: 3-D arrays are read as (datapoints, positions, features), datapoints-first` };
  }
  if (shape.length === 4) return detectConv(shape, shown);
  return { layout: 'datapoints-first', reason: `${shown}: arrays with more than 4 axes are taken as datapoints-first` };
}

function detect2d(rows: number, cols: number, shown: string, datapoints: number | undefined): DetectedLayout {
  if (datapoints !== undefined) {
    const known = `the ${datapoints} datapoints of the other arrays`;
    if (rows === datapoints && cols === datapoints) {
      return { layout: 'datapoints-first', guessed: true, reason: `${shown}: both axes match ${known}; assumed datapoints-first` };
    }
    if (rows === datapoints) return { layout: 'datapoints-first', reason: `${shown}: first axis matches ${known}, so datapoints-first` };
    if (cols === datapoints) return { layout: 'neurons-first', reason: `${shown}: second axis matches ${known}, so neurons-first` };
    const larger = cols > rows ? 'second' : 'first';
    return {
      layout: cols > rows ? 'neurons-first' : 'datapoints-first',
      guessed: true,
      reason: `${shown}: neither axis matches ${known}; the ${larger} (larger) axis is taken as datapoints`,
    };
  }
  if (rows === cols) return { layout: 'datapoints-first', guessed: true, reason: `${shown}: square, assumed datapoints-first` };
  if (cols > rows) return { layout: 'neurons-first', guessed: true, reason: `${shown}: the second axis is larger, so taken as datapoints (neurons-first)` };
  return { layout: 'datapoints-first', guessed: true, reason: `${shown}: the first axis is larger, so taken as datapoints (datapoints-first)` };
}

function detectConv(shape: readonly number[], shown: string): DetectedLayout {
  const [, a, b, c] = shape;
  if (a === b && c !== a) {
    return { layout: 'datapoints-first', convLayout: 'nhwc', reason: `${shown}: axes 1 and 2 are equal (height = width), so NHWC (channels last)` };
  }
  if (b === c && a !== b) {
    return { layout: 'datapoints-first', convLayout: 'nchw', reason: `${shown}: axes 2 and 3 are equal (height = width), so NCHW (channels first)` };
  }
  const convLayout = c > a ? 'nhwc' : 'nchw';
  const channels = convLayout === 'nhwc' ? 'last' : 'first';
  return {
    layout: 'datapoints-first',
    convLayout,
    reason: `${shown}: the spatial axes cannot be told apart by size, so the larger of axes 1 and 3 is taken as channels: ${convLayout.toUpperCase()} (channels ${channels}); flip it if that is wrong`,
  };
}

/** Datapoint count under a layout: axis 0, or the last axis of a neurons-first array; 1 for a scalar. */
export function datapointsOfShape(shape: readonly number[], layout: Layout): number {
  if (shape.length === 0) return 1;
  return layout === 'neurons-first' ? shape[shape.length - 1] : shape[0];
}

/**
 * Refuses an array with an empty dimension ((0, 24), (600, 0)): it holds no activations, and the
 * metrics would otherwise turn "nothing" into a similarity of 0.
 */
export function checkNotEmpty(shape: readonly number[], source: string): void {
  const axis = shape.findIndex((d) => d === 0);
  if (axis < 0) return;
  throw new InputError(source, `shape ${formatShape(shape)} has an empty dimension (axis ${axis} is 0): the array holds no values`);
}

/**
 * The datapoint count shared by a group of arrays, when their shapes give evidence for it:
 * arrays of rank ≥ 3 are datapoints-first, so their first axis decides; for 2-D arrays, a size that
 * every shape has, when exactly one size qualifies. A shared size qualifies when it is the larger
 * axis of at least one array whose other axis is more than 1 — or of every array: a (1, 24) array is
 * one datapoint of 24 neurons as much as 24 datapoints of one neuron, so on its own it says nothing,
 * and (1, 24) against (600, 24) is not read as 24 datapoints of 600 neurons (then the larger-axis
 * rule applies, 24 against 600 datapoints, and the pair is refused with both guesses named).
 * Shapes that agree on both axes say nothing about which axis is which: then undefined, and
 * detectLayout falls back to "the larger axis is datapoints" (and says it guessed).
 */
export function datapointsFromShapes(shapes: readonly (readonly number[])[]): number | undefined {
  if (shapes.length === 0) return undefined;
  const highRank = shapes.find((s) => s.length >= 3);
  if (highRank) return highRank[0];
  const isLargerAxis = (size: number, s: readonly number[]) => size >= Math.max(...s);
  const candidates = [...new Set(shapes[0])].filter(
    (size) =>
      shapes.every((s) => s.includes(size)) && (shapes.every((s) => isLargerAxis(size, s)) || shapes.some((s) => isLargerAxis(size, s) && Math.min(...s) > 1)),
  );
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** Refuses NaN and ±Inf, naming the first bad element by its index and counting the others. */
export function checkFinite(array: NdArray, source: string): void {
  const { data, shape } = array;
  let first = -1;
  let bad = 0;
  for (let i = 0; i < data.length; i++) {
    // v - v is 0 for every finite number and NaN for NaN and ±Inf: one cheap test per element.
    if (data[i] - data[i] !== 0) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (first < 0) return;
  const value = data[first];
  const kind = Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  const others = bad > 1 ? ` (and ${bad - 1} more non-finite value${bad > 2 ? 's' : ''})` : '';
  throw new InputError(source, `value at index [${unravel(first, shape).join(', ')}] is ${kind}${others}; activations must be finite`);
}

/** Refuses two arrays that do not hold the same number of datapoints, giving both counts. */
export function checkSameDatapoints(sourceA: string, countA: number, sourceB: string, countB: number): void {
  if (countA === countB) return;
  // "a.npy: has 2000 datapoints but b.npy has 1999: …" (InputError's "SOURCE: detail" form).
  throw new InputError(sourceA, `has ${countA} datapoints but ${sourceB} has ${countB}: both must hold the same inputs in the same order`);
}

/** C-order flat index → multi-index of `shape`. */
function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    index[k] = rest % shape[k];
    rest = Math.floor(rest / shape[k]);
  }
  return index;
}
