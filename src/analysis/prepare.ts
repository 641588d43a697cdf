// From an array as stored to a representation the metrics read: its layout resolved (detected or
// set by the user), checked for non-finite values and reduced to n neurons × m datapoints (see
// math/reduce.ts). Also how the main thread's preview reads the same shapes before anything is
// loaded (inferDatapoints, describeConvReading), so the two agree. Pure and light.

import { checkFinite, checkNotEmpty, datapointsFromShapes, detectLayout } from '../io/layout';
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
  /** The datapoints axis was guessed from this array's sizes alone (a warning says so). */
  layoutGuessed: boolean;
  shape: number[];
}

/** The datapoint count shared by a group of arrays, when their shapes give evidence for it (io/layout). */
export function inferDatapoints(shapes: readonly (readonly number[])[]): number | undefined {
  return datapointsFromShapes(shapes);
}

export function prepare(activation: Activation, options: AnalysisOptions, datapointsHint?: number): Prepared {
  const { name, array } = activation;
  checkNotEmpty(array.shape, name);
  checkFinite(array, name);
  const detected = detectLayout(array.shape, datapointsHint);
  const layout = options.layout === 'auto' ? detected.layout : options.layout;
  const isConv = array.shape.length === 4;
  const convLayout = isConv ? (options.convLayout === 'auto' ? (detected.convLayout ?? 'nhwc') : options.convLayout) : null;
  const layoutReason =
    options.layout === 'auto' && (!isConv || options.convLayout === 'auto')
      ? detected.reason
      : `set by the user: ${layout}${convLayout ? `, ${convLayout}` : ''}`;
  let rep: Representation;
  try {
    rep = toRepresentation(array, layout, convLayout ?? 'nhwc');
  } catch (error) {
    throw new InputError(name, (error as Error).message);
  }
  const layoutGuessed = options.layout === 'auto' && detected.guessed === true;
  return { name, rep, layout, convLayout, layoutReason, layoutGuessed, shape: [...array.shape] };
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
