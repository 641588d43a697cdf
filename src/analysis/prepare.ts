// From an array as stored to a representation the metrics read: its layout resolved (detected or
// set by the user), checked for non-finite values and reduced to n neurons × m datapoints (see
// math/reduce.ts). Also how the main thread's preview reads the same shapes before anything is
// loaded (inferDatapoints, describeConvReading), so the two agree. Pure and light.

import { checkFinite, detectLayout } from '../io/layout';
import { InputError, type ConvLayout, type Layout } from '../io/types';
import { toRepresentation, type Representation } from '../math/reduce';
import type { Activation, AnalysisOptions } from './types';

/** An activation ready for the metrics: its layout resolved and checked. */
export interface Prepared {
  name: string;
  rep: Representation;
  layout: Layout;
  convLayout: ConvLayout | null;
  /** Why the layout was chosen (detected or set by the user). */
  layoutReason: string;
  shape: number[];
}

/**
 * The datapoint count shared by a group of arrays, when their shapes give evidence for it:
 * arrays of rank ≥ 3 are datapoints-first, so their first axis decides; for 2-D arrays, a size that
 * every shape has, when exactly one size qualifies. Shapes that agree on both axes ((50, 2000) and
 * (50, 2000)) say nothing about which axis is which: then undefined, and detectLayout falls back to
 * "the larger axis is datapoints".
 */
export function inferDatapoints(shapes: readonly (readonly number[])[]): number | undefined {
  if (shapes.length === 0) return undefined;
  const highRank = shapes.find((s) => s.length >= 3);
  if (highRank) return highRank[0];
  // A shared size counts as the datapoint axis only where it is the larger axis of at least one
  // array: (400, 16) and (300, 16) share 16, but 16 datapoints for 400 and 300 neurons is the less
  // likely reading; then the larger-axis rule applies and the differing counts are refused.
  const candidates = [...new Set(shapes[0])].filter((size) => shapes.every((s) => s.includes(size)) && shapes.some((s) => size >= Math.max(...s)));
  return candidates.length === 1 ? candidates[0] : undefined;
}

export function prepare(activation: Activation, options: AnalysisOptions, datapointsHint?: number): Prepared {
  const { name, array } = activation;
  checkFinite(array, name);
  const detected = detectLayout(array.shape, datapointsHint);
  const layout = options.layout === 'auto' ? detected.layout : options.layout;
  const isConv = array.shape.length === 4;
  const convLayout = isConv ? (options.convLayout === 'auto' ? (detected.convLayout ?? 'nhwc') : options.convLayout) : null;
  const layoutReason =
    options.layout === 'auto' && (!isConv || options.convLayout === 'auto') ? detected.reason : `set by the user: ${layout}${convLayout ? `, ${convLayout}` : ''}`;
  let rep: Representation;
  try {
    rep = toRepresentation(array, layout, convLayout ?? 'nhwc');
  } catch (error) {
    throw new InputError(name, (error as Error).message);
  }
  return { name, rep, layout, convLayout, layoutReason, shape: [...array.shape] };
}

/**
 * How a conv layer (or sequence) was read, from its stored shape: "stored (400, 8, 4, 4), read as
 * NCHW: C=8, H=W=4"; a sequence "stored (400, 12, 32), read as (N, T, D): T=12, D=32".
 */
export function describeConvReading(shape: readonly number[], convLayout: ConvLayout | null): string {
  const stored = `stored (${shape.join(', ')})`;
  if (shape.length === 3) return `${stored}, read as (N, T, D): T=${shape[1]}, D=${shape[2]}`;
  const [c, h, w] = convLayout === 'nchw' ? [shape[1], shape[2], shape[3]] : [shape[3], shape[1], shape[2]];
  return `${stored}, read as ${(convLayout ?? 'nhwc').toUpperCase()}: C=${c}, ${h === w ? `H=W=${h}` : `H=${h}, W=${w}`}`;
}
