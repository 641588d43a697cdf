// Layout of the k sweep: SVCCA's similarity against the
// number k of SVD directions kept on both sides, with each side's k99 (99%-variance k) marked.
// Pure: d3 scales and a path generator turn numbers into positions; React draws them.

import { format, line, scaleLinear } from 'd3';
import type { Frame, PlotArea, Tick } from './frame';
import { indexTickValues, plotArea, r2 } from './frame';

export interface SweepLayout {
  plot: PlotArea;
  xTicks: Tick[];
  yTicks: Tick[];
  path: string;
  points: { k: number; similarity: number; x: number; y: number }[];
  /** One vertical mark per side's k99 (merged when equal), labelled. */
  marks: { x: number; k: number; label: string; anchor: 'start' | 'end' }[];
}

export function layoutSweep(
  points: readonly { k: number; similarity: number }[],
  k99: readonly [number, number],
  names: readonly [string, string],
  frame: Frame,
): SweepLayout {
  const plot = plotArea(frame);
  const maxK = Math.max(1, ...points.map((p) => p.k));
  const x = scaleLinear()
    .domain([1, Math.max(2, maxK)])
    .range([plot.x, plot.x + plot.width]);
  const y = scaleLinear()
    .domain([0, 1])
    .range([plot.y + plot.height, plot.y]);
  const placed = points.map((p) => ({ ...p, x: r2(x(p.k)), y: r2(y(p.similarity)) }));
  const path =
    line<{ x: number; y: number }>()
      .x((p) => p.x)
      .y((p) => p.y)(placed) ?? '';
  const xTicks = indexTickValues(maxK, Math.max(2, Math.floor(plot.width / 60))).map((v) => ({ value: v, pos: r2(x(v)), label: String(v) }));
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((v) => ({ value: v, pos: r2(y(v)), label: format('.2f')(v) }));
  // A side whose k99 lies beyond the largest k (the other side's rank) is marked at the right edge.
  const beyond = (k: number) => (k > maxK ? ` (beyond k = ${maxK})` : '');
  const sides =
    k99[0] === k99[1]
      ? [{ k: k99[0], label: `k99 = ${k99[0]} (both)${beyond(k99[0])}` }]
      : k99.map((k, i) => ({ k, label: `k99 ${names[i]} = ${k}${beyond(k)}` }));
  const marks = sides
    .filter((s) => s.k >= 1)
    .map((s) => {
      const at = r2(x(Math.min(s.k, maxK)));
      return { x: at, k: s.k, label: s.label, anchor: at > plot.x + plot.width * 0.6 ? ('end' as const) : ('start' as const) };
    });
  return { plot, xTicks, yTicks, path, points: placed, marks };
}
