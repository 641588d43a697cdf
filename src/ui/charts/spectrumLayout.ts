// Layout of the canonical-correlation spectrum: ρ_i (descending, 1 ≥ ρ_1 ≥ … ≥ ρ_k ≥ 0) against
// i = 1..k, with horizontal lines at mean ρ (the paper's ρ̄, the SVCCA similarity) and at
// mean98 (google/svcca's `mean`: the mean of the ρ that reach 98% of Σρ).
// Pure: d3 scales and path generators turn numbers into positions; React draws them.

import { line, scaleLinear } from 'd3';
import type { Frame, PlotArea, Tick } from './frame';
import { indexTickValues, plotArea, r2 } from './frame';

export interface SpectrumPoint {
  /** 1-based index of the canonical direction. */
  i: number;
  value: number;
  x: number;
  y: number;
}

export interface SummaryLine {
  key: 'mean' | 'mean98';
  label: string;
  value: number;
  y: number;
  /** Where the label's baseline goes (above the line, or below it when two lines are close). */
  labelY: number;
}

export interface SpectrumLayout {
  frame: Frame;
  plot: PlotArea;
  xTicks: Tick[];
  yTicks: Tick[];
  /** SVG path through every (i, ρ_i). */
  path: string;
  /** One dot per ρ when there are few enough to see; empty otherwise. */
  points: SpectrumPoint[];
  lines: SummaryLine[];
}

export const SPECTRUM_MAX_POINTS = 64;

/** Arithmetic mean; null for an empty list. */
export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

const clamp01 = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);

export function layoutSpectrum(rho: readonly number[], marks: { mean: number | null; mean98: number | null }, frame: Frame): SpectrumLayout {
  const plot = plotArea(frame);
  const n = rho.length;
  // Half a step of padding either side so the first and last dots sit inside the plot.
  const x = scaleLinear()
    .domain([0.5, Math.max(n, 1) + 0.5])
    .range([plot.x, plot.x + plot.width]);
  const y = scaleLinear()
    .domain([0, 1])
    .range([plot.y + plot.height, plot.y]);

  const xTicks = indexTickValues(n, 8).map((v) => ({ value: v, pos: r2(x(v)), label: String(v) }));
  const yTicks = y.ticks(5).map((v) => ({ value: v, pos: r2(y(v)), label: v.toFixed(1) }));

  const path =
    line<number>()
      .x((_, i) => x(i + 1))
      .y((v) => y(clamp01(v)))
      .digits(2)(rho as number[]) ?? '';

  const points = n <= SPECTRUM_MAX_POINTS ? rho.map((v, i) => ({ i: i + 1, value: v, x: r2(x(i + 1)), y: r2(y(clamp01(v))) })) : [];

  const lines: SummaryLine[] = [];
  if (marks.mean !== null && Number.isFinite(marks.mean)) {
    const yy = r2(y(clamp01(marks.mean)));
    lines.push({ key: 'mean', label: `mean ρ ${marks.mean.toFixed(3)}`, value: marks.mean, y: yy, labelY: yy - 4 });
  }
  if (marks.mean98 !== null && Number.isFinite(marks.mean98)) {
    const yy = r2(y(clamp01(marks.mean98)));
    lines.push({ key: 'mean98', label: `mean98 ${marks.mean98.toFixed(3)}`, value: marks.mean98, y: yy, labelY: yy - 4 });
  }
  // Two lines closer than a label's height: the lower one's label goes under its line.
  if (lines.length === 2 && Math.abs(lines[0].y - lines[1].y) < 14) {
    const lower = lines[0].y >= lines[1].y ? lines[0] : lines[1];
    const upper = lower === lines[0] ? lines[1] : lines[0];
    lower.labelY = Math.max(lower.y, upper.y) + 12;
    upper.labelY = Math.min(lower.y, upper.y) - 4;
  }

  return { frame, plot, xTicks, yTicks, path, points, lines };
}
