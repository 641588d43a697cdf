// Layout of one side's SVD variance spectrum, as SVCCA's first step sees it: the share of
// variance of each singular direction, λ_i / Σλ (λ = s², descending), on a log axis against
// i = 1..n, with the cut after the k directions kept (the smallest k reaching 99% of Σλ by
// default, or a fixed k).
// Pure: d3 scales and path generators turn numbers into positions; React draws them.

import { format, line, scaleLinear, scaleLog } from 'd3';
import type { Frame, PlotArea, Tick } from './frame';
import { indexTickValues, plotArea, r2 } from './frame';

export interface VarianceLayout {
  frame: Frame;
  plot: PlotArea;
  xTicks: Tick[];
  yTicks: Tick[];
  path: string;
  points: { i: number; share: number; x: number; y: number }[];
  /** The vertical line between direction k and k+1; null when nothing was cut. */
  cut: { x: number; k: number; label: string; anchor: 'start' | 'end' } | null;
  /** The shaded region of kept directions. */
  kept: PlotArea;
  /** Σ_{i≤k} λ_i / Σλ. */
  keptShare: number;
}

export const VARIANCE_MAX_POINTS = 64;
/** Shares below this fraction of the largest are drawn at the floor (zero and round-off alike). */
const DYNAMIC_RANGE = 1e-12;

/** λ_i / Σλ; negative round-off counts as zero. All zeros when Σλ is zero. */
export function varianceShares(lambda: readonly number[]): number[] {
  const clean = lambda.map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
  const total = clean.reduce((s, v) => s + v, 0);
  return clean.map((v) => (total > 0 ? v / total : 0));
}

const sci = format('.0e');
function powerLabel(v: number): string {
  if (v >= 0.01) return format('.2~f')(v);
  return sci(v).replace('-', '−');
}

export function layoutVarianceSpectrum(lambda: readonly number[], kept: number, frame: Frame): VarianceLayout {
  const plot = plotArea(frame);
  const shares = varianceShares(lambda);
  const n = shares.length;
  const k = Math.max(0, Math.min(kept, n));
  // Log axis from the smallest positive share (at most 12 decades down) to the largest.
  let top = 0;
  let smallest = Infinity;
  for (const v of shares) {
    if (v > top) top = v;
    if (v > 0 && v < smallest) smallest = v;
  }
  if (top === 0) top = 1; // nothing positive: an empty axis rather than log(0)
  const bottom = Math.max(Math.min(smallest, top), top * DYNAMIC_RANGE);
  const floor = bottom === top ? top / 10 : bottom;

  const x = scaleLinear()
    .domain([0.5, Math.max(n, 1) + 0.5])
    .range([plot.x, plot.x + plot.width]);
  const y = scaleLog()
    .domain([floor, top])
    .nice()
    .range([plot.y + plot.height, plot.y]);
  const [yLow] = y.domain();
  const yOf = (v: number) => y(Math.max(v, yLow));

  // Only powers of ten, at most 5 of them.
  let decades = y.ticks().filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  while (decades.length > 5) decades = decades.filter((_, i) => i % 2 === 0);
  const yTicks = decades.map((v) => ({ value: v, pos: r2(y(v)), label: powerLabel(v) }));
  const xTicks = indexTickValues(n, 6).map((v) => ({ value: v, pos: r2(x(v)), label: String(v) }));

  const path =
    line<number>()
      .x((_, i) => x(i + 1))
      .y((v) => yOf(v))
      .digits(2)(shares) ?? '';
  const points = n <= VARIANCE_MAX_POINTS ? shares.map((v, i) => ({ i: i + 1, share: v, x: r2(x(i + 1)), y: r2(yOf(v)) })) : [];

  const keptShare = shares.slice(0, k).reduce((s, v) => s + v, 0);
  const cutX = r2(x(k + 0.5));
  // The label sits right of the cut, or left of it when the cut is in the right half.
  const anchor: 'start' | 'end' = cutX > plot.x + plot.width / 2 ? 'end' : 'start';
  const cut = k > 0 && k < n ? { x: cutX, k, label: `k = ${k} keeps ${(keptShare * 100).toFixed(1)}%`, anchor } : null;
  const keptArea: PlotArea = { x: plot.x, y: plot.y, width: r2(Math.max(0, cutX - plot.x)), height: plot.height };

  return { frame, plot, xTicks, yTicks, path, points, cut, kept: keptArea, keptShare };
}
