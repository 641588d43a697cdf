// Convergence curves (the diagonal of the learning dynamics over time): each layer's similarity
// to its own representation at the reference step (by default the final one), against the
// training step. Lower layers reaching 1 first is the paper's bottom-up convergence; the step from
// which a layer stays above a threshold is its Freeze Training signal.
// Pure: d3 scales and line generators turn numbers into paths; React draws them.

import { freezeIndex } from '../../analysis/chanceDefs';
import { area, interpolatePlasma, line, scaleLinear, scaleSymlog } from 'd3';
import type { Frame, PlotArea, Tick } from './frame';
import { plotArea, r2 } from './frame';
import { placeEndLabels } from './endLabels';
import { textWidth } from './heatmapLayout';

export interface Series {
  layer: string;
  /** One value per checkpoint; null where not computed. */
  values: (number | null)[];
  /** Per checkpoint: why the value is missing for good (a bad array), else null. The curve has a gap there. */
  missing?: (string | null)[];
}

/**
 * series[i].values[t] = values[t][i][i]: layer i at step t against layer i at the reference.
 * Only the layers present on both axes (a dynamics grid has the same layers on both).
 */
export function convergenceSeries(values: readonly (readonly (readonly (number | null)[])[])[], rows: readonly string[], cols: readonly string[]): Series[] {
  return rows.flatMap((layer, i) => {
    const j = cols.indexOf(layer);
    if (j < 0) return [];
    return [{ layer, values: values.map((grid) => grid[i]?.[j] ?? null) }];
  });
}

// The Freeze Training step: one definition (analysis/chanceDefs.ts), shared with the CLI, the chance
// level and the many-seeds aggregation.
export { freezeIndex };

/**
 * Colours by depth along plasma: on a light background from dark purple to orange (without the
 * pale end), on a dark one from violet to yellow (without the dark end).
 */
export function layerColor(index: number, count: number, dark = false): string {
  const [from, to] = dark ? [0.3, 0.97] : [0, 0.82];
  return interpolatePlasma(from + (count <= 1 ? 0 : index / (count - 1)) * (to - from));
}

/**
 * Whether the step axis should be logarithmic-like (symlog, so step 0 still has a place): when the
 * checkpoints are spread geometrically, the positive steps spanning 30× or more.
 */
export function wantsLogSteps(steps: readonly number[]): boolean {
  const positive = steps.filter((s) => s > 0);
  if (positive.length < 3) return false;
  return positive[positive.length - 1] / positive[0] >= 30;
}

/** Keeps ticks whose labels do not collide (about 6.3 px a character plus a gap), first one first. */
export function thinTicks<T extends { pos: number; label: string }>(ticks: readonly T[], gap = 8): T[] {
  const kept: T[] = [];
  for (const t of ticks) {
    const last = kept[kept.length - 1];
    if (!last || t.pos - last.pos >= (last.label.length + t.label.length) * 3.15 + gap) kept.push(t);
  }
  return kept;
}

/** Above this many computed points a line carries no dots (they would merge into a thick line), except lone ones. */
export const MARKED_POINTS_MAX = 60;

export interface ConvergenceLayout {
  /** Whether the step axis is symlog (geometric checkpoints) rather than linear. */
  logSteps: boolean;
  frame: Frame;
  plot: PlotArea;
  xTicks: Tick[];
  yTicks: Tick[];
  /**
   * Each layer's curve, and its computed points; `marked` says which get a dot: every point when a
   * line has at most MARKED_POINTS_MAX of them, else only a lone point (no computed neighbour on
   * either side), which the line itself cannot draw.
   */
  lines: { layer: string; color: string; path: string; points: { t: number; x: number; y: number; value: number; marked: boolean }[] }[];
  threshold: { y: number; label: string } | null;
  /** One marker per layer that freezes: where its curve first stays above the threshold. */
  freeze: { layer: string; color: string; t: number; step: number; x: number; y: number }[];
  legend: { layer: string; color: string; x: number; y: number }[];
  /**
   * Each line's name at its end (its last computed point), moved only as far as it takes for none
   * to overlap (endLabels.ts), with a leader from the point when it moved: lines are told apart by
   * name, not only by colour. Lines ending at the same point share one label (`layers`, `text`
   * "class 0–9"). Empty when they do not fit in the plot's height (then `legend` samples the layers).
   */
  endLabels: { layer: string; layers: string[]; text: string; color: string; x: number; y: number; fromX: number; fromY: number; leader: boolean }[];
  /** Missing values (bad arrays): a mark on the step axis per layer and step, with why. */
  gaps: { layer: string; color: string; step: number; x: number; y: number; why: string }[];
  /** Per layer with a chance level: the band mean ± 2 sd over the steps where it is known (closed area path). */
  chanceBands: { layer: string; color: string; path: string }[];
}

/** A layer's chance level along its curve: [mean − 2 sd, mean + 2 sd] per step, null where not computed. */
export interface ChanceBand {
  layer: string;
  band: ({ lo: number; hi: number } | null)[];
}

/** Vertical gap between two end labels (px). */
const END_LABEL_GAP = 12;
/** Line ends this close (px, about a point's diameter) are one point: their lines share a name. */
const END_TOGETHER = 3;

export function layoutConvergence(
  series: readonly Series[],
  steps: readonly number[],
  frame: Frame,
  options: { threshold: number | null; legendWidth?: number; dark?: boolean; chance?: readonly ChanceBand[] },
): ConvergenceLayout {
  const legendWidth = options.legendWidth ?? 0;
  const plot = plotArea({ ...frame, margin: { ...frame.margin, right: frame.margin.right + legendWidth } });
  const first = steps[0] ?? 0;
  const last = steps[steps.length - 1] ?? 1;
  const logSteps = wantsLogSteps(steps);
  const minPositive = steps.find((s) => s > 0) ?? 1;
  const x = (logSteps ? scaleSymlog().constant(minPositive) : scaleLinear())
    .domain(first === last ? [first - 1, last + 1] : [first, last])
    .range([plot.x, plot.x + plot.width]);
  const y = scaleLinear()
    .domain([0, 1])
    .range([plot.y + plot.height, plot.y]);
  const clamp = (v: number) => Math.min(1, Math.max(0, v));

  // Ticks at the checkpoints when they are few (or the axis is symlog), else round numbers;
  // labels that would overlap are left out.
  const tickValues = steps.length <= 8 || logSteps ? [...steps] : (x as ReturnType<typeof scaleLinear>).ticks(6);
  const xTicks = thinTicks(tickValues.map((v) => ({ value: v, pos: r2(x(v)), label: compactStep(v) })));
  const yTicks = y.ticks(5).map((v) => ({ value: v, pos: r2(y(v)), label: v.toFixed(1) }));

  const lines = series.map((s, i) => {
    const color = layerColor(i, series.length, options.dark ?? false);
    const path =
      line<number | null>()
        .defined((v) => v !== null && Number.isFinite(v))
        .x((_, t) => x(steps[t]))
        .y((v) => y(clamp(v as number)))
        .digits(2)(s.values) ?? '';
    const computed = (t: number) => t >= 0 && t < s.values.length && s.values[t] !== null && Number.isFinite(s.values[t]);
    const computedCount = s.values.filter((_, t) => computed(t)).length;
    const points = s.values.flatMap((v, t) =>
      v === null || !Number.isFinite(v)
        ? []
        : [{ t, x: r2(x(steps[t])), y: r2(y(clamp(v))), value: v, marked: computedCount <= MARKED_POINTS_MAX || (!computed(t - 1) && !computed(t + 1)) }],
    );
    return { layer: s.layer, color, path, points };
  });

  const threshold = options.threshold === null ? null : { y: r2(y(clamp(options.threshold))), label: `threshold ${options.threshold}` };
  const freeze =
    options.threshold === null
      ? []
      : series.flatMap((s, i) => {
          const t = freezeIndex(s.values, options.threshold!);
          if (t === null) return [];
          return [{ layer: s.layer, color: lines[i].color, t, step: steps[t], x: r2(x(steps[t])), y: r2(y(clamp(s.values[t] as number))) }];
        });

  // One legend row per layer while they fit (12 px or more each); past that, evenly sampled
  // layers, always the first and the last (the colours run by depth, so the ramp reads anyway).
  const legendX = plot.x + plot.width + 16;
  const fit = Math.max(2, Math.floor(plot.height / 12));
  const shown =
    lines.length <= fit ? lines.map((_, i) => i) : [...new Set(Array.from({ length: fit }, (_, k) => Math.round((k * (lines.length - 1)) / (fit - 1))))];
  const rowHeight = Math.min(16, plot.height / Math.max(1, shown.length));
  const ends = lines.flatMap((l) => (l.points.length > 0 ? [{ line: l, end: l.points[l.points.length - 1] }] : []));
  const labelX = r2(plot.x + plot.width + 14);
  const placed =
    legendWidth > 0
      ? placeEndLabels(
          ends.map((e) => ({ name: e.line.layer, y: e.end.y })),
          {
            gap: END_LABEL_GAP,
            lo: plot.y - END_LABEL_GAP / 2,
            hi: plot.y + plot.height + END_LABEL_GAP / 2,
            together: END_TOGETHER,
            maxWidth: legendWidth + frame.margin.right - 16,
            textWidth,
          },
        )
      : null;
  const endLabels = (placed ?? []).map((p) => {
    const first = ends[p.members[0]];
    const fromX = Math.max(...p.members.map((m) => ends[m].end.x));
    const y = r2(p.y);
    const fromY = r2(p.target);
    return {
      layer: first.line.layer,
      layers: p.names,
      text: p.text,
      color: first.line.color,
      x: labelX,
      y,
      fromX,
      fromY,
      // Moved off its line's end: a leader shows whose it is. Only from a point at the last
      // checkpoint: one from an earlier point (a line cut by a missing value) would cross the plot
      // like a flat line to the end, reading as data where there is none.
      leader: Math.abs(y - fromY) > 0.5 && p.members.every((m) => ends[m].end.t === steps.length - 1),
    };
  });
  // Missing values: small marks just above the step axis, stacked by layer, so that a gap reads as missing.
  const gaps = series.flatMap((s, i) =>
    (s.missing ?? []).flatMap((why, t) =>
      why === null || t >= steps.length
        ? []
        : [{ layer: s.layer, color: lines[i].color, step: steps[t], x: r2(x(steps[t])), y: r2(plot.y + plot.height - 6 - 7 * i), why }],
    ),
  );
  // Before any value is computed, or when the names do not fit at the line ends: the legend.
  const legend =
    legendWidth > 0 && endLabels.length === 0
      ? shown.map((i, k) => ({ layer: lines[i].layer, color: lines[i].color, x: r2(legendX), y: r2(plot.y + 6 + k * rowHeight) }))
      : [];

  const chanceBands = (options.chance ?? []).flatMap((c) => {
    const i = series.findIndex((s) => s.layer === c.layer);
    if (i < 0 || c.band.every((b) => b === null)) return [];
    const path =
      area<{ lo: number; hi: number } | null>()
        .defined((b) => b !== null)
        .x((_, t) => x(steps[t]))
        .y0((b) => y(clamp(b!.lo)))
        .y1((b) => y(clamp(b!.hi)))
        .digits(2)(c.band as ({ lo: number; hi: number } | null)[]) ?? '';
    return [{ layer: c.layer, color: lines[i].color, path }];
  });

  return { logSteps, frame, plot, xTicks, yTicks, lines, threshold, freeze, legend, endLabels, chanceBands, gaps };
}

/** 1500 → "1.5k", 2000000 → "2M": steps stay short on the axis. */
export function compactStep(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${Number((v / 1e6).toFixed(1))}M`;
  if (abs >= 1e4) return `${Number((v / 1e3).toFixed(1))}k`;
  return String(v);
}
