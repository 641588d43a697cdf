// Layout of a similarity heatmap: rows × columns of square cells coloured on one sequential scale
// (viridis; domain [0, 1] by default or fitted to the data, shared by every checkpoint), with row
// and column labels and a vertical colour legend. Cells still being computed have no fill; cells
// that will never have a value (a pair the positions reduction cannot compare) are `blank`: drawn
// empty with a diagonal stroke, distinct from both.
// Pure: d3 scales turn numbers into positions and colours; React (or drawHeatmap on a canvas,
// past CANVAS_CELLS cells) draws them.

import { interpolateRdBu, interpolateViridis, rgb, scaleDiverging, scaleLinear, scaleSequential } from 'd3';
import type { PlotArea, Tick } from './frame';
import { r2 } from './frame';
import { shownName } from '../format';

/** Past this many cells the cells go on a canvas (one SVG rect each would be too slow). */
export const CANVAS_CELLS = 10_000;

export type Domain = [number, number];

/** Sequential viridis (similarities), or diverging red–blue centred on 0 (above or below chance). */
export type ColourScale = 'viridis' | 'diverging';

export interface HeatmapCell {
  i: number;
  j: number;
  x: number;
  y: number;
  size: number;
  value: number | null;
  /** null while the value is not computed yet (and for blank cells). */
  fill: string | null;
  /** A pair that is not comparable (positions across spatial sizes): empty for good, not pending. */
  blank: boolean;
}

/** Fill and stroke of a blank cell (attributes, not CSS, so that SVG/PNG exports keep them). */
export const BLANK_FILL = '#ffffff';
export const BLANK_STROKE = '#a3aab5';

/** A value printed in its cell (when cells are big enough to hold it), in a colour that reads on the fill. */
export interface CellText {
  x: number;
  y: number;
  text: string;
  /** 'light' text on dark fills, 'dark' on light ones. */
  tone: 'light' | 'dark';
}

/** Cells at least this wide (px) print their value ("0.87" at 11 px needs about 26 px). */
export const VALUE_TEXT_MIN_CELL = 30;

export interface AxisLabel {
  index: number;
  label: string;
  /** Centre of the row (y) or column (x). */
  pos: number;
}

export interface LegendLayout {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Gradient stops, bottom (domain[0]) to top (domain[1]): offset in [0, 1] from the bottom. */
  stops: { offset: number; color: string }[];
  ticks: Tick[];
  title: string;
}

export interface HeatmapLayout {
  width: number;
  height: number;
  plot: PlotArea;
  cell: number;
  cells: HeatmapCell[];
  /** Values printed in the cells; empty when cells are too small (or drawn on a canvas). */
  cellTexts: CellText[];
  rowLabels: AxisLabel[];
  colLabels: AxisLabel[];
  /** Axis titles: x under the column labels, y left of the row labels (rotated). */
  xTitle: { x: number; y: number; text: string } | null;
  yTitle: { x: number; y: number; text: string } | null;
  legend: LegendLayout | null;
  canvas: boolean;
}

export interface HeatmapSpec {
  /** values[i][j] (null: not computed yet, unless `blank` marks the cell). */
  values: readonly (readonly (number | null)[])[];
  /** Cells with no value for good (truthy: why); null or absent when none. */
  blank?: readonly (readonly (string | null)[])[] | null;
  rows: readonly string[];
  cols: readonly string[];
  domain: Domain;
  /** The width available; the chart takes less when cells reach maxCell. */
  width: number;
  xTitle?: string;
  yTitle?: string;
  legendTitle?: string;
  /** 'viridis' unless said (see ColourScale). */
  scale?: ColourScale;
  /** Small multiples leave out labels, titles and legend. */
  bare?: boolean;
  maxCell?: number;
  minCell?: number;
}

/** Roughly how wide a label is at the charts' 11px font. */
export const textWidth = (text: string) => text.length * 6.3;

/** The colour of a value: viridis over the domain, or (diverging) blue below 0, white at 0, red
 *  above, clamped. A diverging domain should straddle 0 (see symmetricDomain). */
export function heatColor(domain: Domain, kind: ColourScale = 'viridis'): (v: number) => string {
  const [lo, hi] = safeDomain(domain);
  if (kind === 'diverging') {
    const scale = scaleDiverging((t: number) => interpolateRdBu(1 - t))
      .domain([Math.min(lo, 0), 0, Math.max(hi, 0)])
      .clamp(true);
    return (v) => scale(v);
  }
  const scale = scaleSequential(interpolateViridis).domain([lo, hi]).clamp(true);
  return (v) => scale(v);
}

/** [−m, m] with m the largest |value| of the grids rounded up on `grain` ([−1, 1] when nothing is computed). */
export function symmetricDomain(values: readonly (readonly (readonly (number | null)[])[])[], grain: number): Domain {
  let m = 0;
  for (const grid of values) for (const row of grid) for (const v of row) if (v !== null && Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  if (m === 0) return [-1, 1];
  const up = r2(Math.ceil(m / grain - 1e-9) * grain);
  return [-up, up];
}

function safeDomain([lo, hi]: Domain): Domain {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi > lo) return [lo, hi];
  return [lo - 0.05, lo + 0.05];
}

/**
 * The domain fitted to the data: the smallest and largest finite value of every checkpoint,
 * widened to a 0.01 grid (and by ±0.05 when they are equal); [0, 1] when nothing is computed yet.
 */
export function dataDomain(values: readonly (readonly (readonly (number | null)[])[])[]): Domain {
  let lo = Infinity;
  let hi = -Infinity;
  for (const grid of values)
    for (const row of grid)
      for (const v of row) {
        if (v === null || !Number.isFinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
  if (lo > hi) return [0, 1];
  const floor = Math.floor(lo * 100) / 100;
  const ceil = Math.ceil(hi * 100) / 100;
  if (ceil - floor < 1e-9) return [r2(floor - 0.05), r2(ceil + 0.05)];
  return [floor, ceil];
}

/** Shows every k-th label so that labels never overlap (about 12 px each). */
export function labelStride(cell: number, count: number): number {
  if (count <= 0) return 1;
  return Math.max(1, Math.ceil(12 / Math.max(cell, 0.01)));
}

const LEGEND_GAP = 18;
const LEGEND_BAR = 12;
const LEGEND_WIDTH = LEGEND_GAP + LEGEND_BAR + 44;
/** Room right of the cells for the legend: wider when its title is ("SVCCA − chance" is wider than the bar and ticks). */
const legendRoom = (title: string | undefined) => Math.max(LEGEND_WIDTH, LEGEND_GAP + Math.ceil(textWidth(title ?? '')) + 6);

export function layoutHeatmap(spec: HeatmapSpec): HeatmapLayout {
  const { values, domain, width, bare = false } = spec;
  // Row and column labels are layer names from the files: escaped (and capped) before measuring.
  const rows = spec.rows.map((label) => shownName(label));
  const cols = spec.cols.map((label) => shownName(label));
  const maxCell = spec.maxCell ?? 48;
  const minCell = spec.minCell ?? 1;
  const longestRow = Math.max(0, ...rows.map(textWidth));
  const longestCol = Math.max(0, ...cols.map(textWidth));
  // Column labels are drawn at −45°: they take about 0.71 of their length vertically.
  const margin = bare
    ? { top: 0, right: 0, bottom: 0, left: 0 }
    : {
        top: 8,
        right: legendRoom(spec.legendTitle),
        bottom: Math.min(120, longestCol * 0.71 + 12) + (spec.xTitle ? 22 : 6),
        left: Math.min(160, longestRow + 10) + (spec.yTitle ? 22 : 4),
      };
  const nRows = Math.max(1, rows.length);
  const nCols = Math.max(1, cols.length);
  const room = Math.max(1, width - margin.left - margin.right);
  const cell = Math.max(minCell, Math.min(maxCell, Math.floor((room / nCols) * 100) / 100));
  const plot: PlotArea = { x: margin.left, y: margin.top, width: r2(cell * nCols), height: r2(cell * nRows) };
  const color = heatColor(domain, spec.scale);

  const cells: HeatmapCell[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = values[i] ?? [];
    for (let j = 0; j < cols.length; j++) {
      const v = row[j] ?? null;
      const blank = !!spec.blank?.[i]?.[j];
      const value = blank || v === null || Number.isNaN(v) ? null : v;
      cells.push({ i, j, x: r2(plot.x + j * cell), y: r2(plot.y + i * cell), size: r2(cell), value, fill: value === null ? null : color(value), blank });
    }
  }

  const cellTexts: CellText[] =
    bare || cell < VALUE_TEXT_MIN_CELL || cells.length > CANVAS_CELLS
      ? []
      : cells.flatMap((c) =>
          c.value === null || c.fill === null ? [] : [{ x: r2(c.x + cell / 2), y: r2(c.y + cell / 2), text: cellValueText(c.value), tone: textTone(c.fill) }],
        );

  const rowStride = labelStride(cell, rows.length);
  const colStride = labelStride(cell, cols.length);
  const rowLabels = bare ? [] : rows.flatMap((label, index) => (index % rowStride === 0 ? [{ index, label, pos: r2(plot.y + (index + 0.5) * cell) }] : []));
  const colLabels = bare ? [] : cols.flatMap((label, index) => (index % colStride === 0 ? [{ index, label, pos: r2(plot.x + (index + 0.5) * cell) }] : []));

  let height = plot.y + plot.height + margin.bottom;
  let legend: LegendLayout | null = null;
  if (!bare) {
    const [lo, hi] = safeDomain(domain);
    const barHeight = Math.max(plot.height, 120);
    const y = scaleLinear()
      .domain([lo, hi])
      .range([plot.y + barHeight, plot.y]);
    const stops = Array.from({ length: 11 }, (_, k) => {
      const v = lo + ((hi - lo) * k) / 10;
      return { offset: k / 10, color: color(v) };
    });
    legend = {
      x: r2(plot.x + plot.width + LEGEND_GAP),
      y: plot.y,
      width: LEGEND_BAR,
      height: barHeight,
      stops,
      ticks: y.ticks(5).map((v) => ({ value: v, pos: r2(y(v)), label: formatTick(v) })),
      title: spec.legendTitle ?? '',
    };
    height = Math.max(height, plot.y + barHeight + 8);
  }
  const xTitle = !bare && spec.xTitle ? { x: r2(plot.x + plot.width / 2), y: r2(height - 6), text: spec.xTitle } : null;
  const yTitle = !bare && spec.yTitle ? { x: 12, y: r2(plot.y + plot.height / 2), text: spec.yTitle } : null;

  return {
    width: Math.ceil(bare ? plot.width : legend ? Math.max(legend.x + legendRoom(spec.legendTitle) - LEGEND_GAP, plot.x + plot.width) : plot.x + plot.width),
    height: Math.ceil(height),
    plot,
    cell,
    cells,
    cellTexts,
    rowLabels,
    colLabels,
    xTitle,
    yTitle,
    legend,
    canvas: cells.length > CANVAS_CELLS,
  };
}

/** Two decimals, the leading zero dropped to fit ("0.873" → ".87", 1 → "1.00", −0.1 → "−.10");
 *  counts above 1 (the Classes view's k99 heatmap) and values from 10 on (z scores) as integers ("16"). */
export function cellValueText(v: number): string {
  if ((Number.isInteger(v) && Math.abs(v) > 1) || Math.abs(v) >= 10) return String(Math.round(v)).replace('-', '−');
  const text = v.toFixed(2);
  return text.replace(/^(-?)0\./, '$1.').replace('-', '−');
}

/** Dark text on light fills (viridis' yellows and greens), light text on dark ones (WCAG relative luminance). */
export function textTone(fill: string): 'light' | 'dark' {
  const c = rgb(fill);
  const lin = (u: number) => {
    const s = u / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
  return luminance > 0.18 ? 'dark' : 'light';
}

function formatTick(v: number): string {
  const text = Math.abs(v) < 1e-12 ? '0' : Number(v.toFixed(2)).toString();
  return text.replace(/^-/, '−');
}

/** The cell under a point of the chart, or null outside the cells. */
export function cellAt(layout: Pick<HeatmapLayout, 'plot' | 'cell'>, rows: number, cols: number, x: number, y: number): { i: number; j: number } | null {
  const j = Math.floor((x - layout.plot.x) / layout.cell);
  const i = Math.floor((y - layout.plot.y) / layout.cell);
  if (i < 0 || j < 0 || i >= rows || j >= cols) return null;
  return { i, j };
}

/** Arrow keys move the focus cell, staying inside the grid. */
export function moveFocus(focus: { i: number; j: number }, key: string, rows: number, cols: number): { i: number; j: number } | null {
  const clamp = (v: number, n: number) => Math.max(0, Math.min(n - 1, v));
  switch (key) {
    case 'ArrowUp':
      return { i: clamp(focus.i - 1, rows), j: focus.j };
    case 'ArrowDown':
      return { i: clamp(focus.i + 1, rows), j: focus.j };
    case 'ArrowLeft':
      return { i: focus.i, j: clamp(focus.j - 1, cols) };
    case 'ArrowRight':
      return { i: focus.i, j: clamp(focus.j + 1, cols) };
    case 'Home':
      return { i: focus.i, j: 0 };
    case 'End':
      return { i: focus.i, j: cols - 1 };
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Small multiples: one bare heatmap per checkpoint, side by side, wrapping into rows.

export interface MultiplesPanel {
  t: number;
  title: string;
  x: number;
  y: number;
  layout: HeatmapLayout;
}

export interface MultiplesLayout {
  width: number;
  height: number;
  panels: MultiplesPanel[];
  legend: LegendLayout;
  /** Every panel's cells, offset into place (what the canvas draws past CANVAS_CELLS). */
  cellCount: number;
  canvas: boolean;
}

export function layoutMultiples(spec: {
  grids: readonly (readonly (readonly (number | null)[])[])[];
  /** The same blank cells in every panel (see HeatmapSpec.blank). */
  blank?: readonly (readonly (string | null)[])[] | null;
  /** Each panel's own blank cells (wins over `blank` where given). */
  blanks?: readonly (readonly (readonly (string | null)[])[] | null)[];
  titles: readonly string[];
  rows: readonly string[];
  cols: readonly string[];
  domain: Domain;
  width: number;
  legendTitle: string;
  scale?: ColourScale;
}): MultiplesLayout {
  const { grids, rows, cols, width } = spec;
  const n = grids.length;
  const legendSpace = legendRoom(spec.legendTitle);
  const gap = 14;
  const titleHeight = 18;
  const room = Math.max(80, width - legendSpace);
  // Panels of at least 90 px (or the grid at 3 px a cell), as many per row as fit.
  const nCols = Math.max(1, cols.length);
  const nRows = Math.max(1, rows.length);
  const minPanel = Math.max(90, nCols * 3);
  const perRow = Math.max(1, Math.min(n, Math.floor((room + gap) / (minPanel + gap))));
  const panelWidth = Math.min(240, (room - gap * (perRow - 1)) / perRow);
  const cell = Math.max(1, Math.floor((panelWidth / nCols) * 100) / 100);
  const panelHeight = cell * nRows;
  const panels: MultiplesPanel[] = grids.map((values, t) => {
    const x = r2((t % perRow) * (cell * nCols + gap));
    const y = r2(Math.floor(t / perRow) * (panelHeight + titleHeight + gap) + titleHeight);
    const layout = layoutHeatmap({
      values,
      blank: spec.blanks?.[t] ?? spec.blank,
      rows,
      cols,
      domain: spec.domain,
      scale: spec.scale,
      width: cell * nCols,
      bare: true,
      maxCell: cell,
      minCell: cell,
    });
    const moved = {
      ...layout,
      plot: { ...layout.plot, x, y },
      cells: layout.cells.map((c) => ({ ...c, x: r2(c.x + x), y: r2(c.y + y) })),
    };
    return { t, title: spec.titles[t] ?? '', x, y, layout: moved };
  });
  const lines = Math.ceil(n / perRow);
  const gridWidth = perRow * cell * nCols + gap * (perRow - 1);
  const height = Math.max(lines * (panelHeight + titleHeight + gap) - gap, 130);
  const legendLayout = layoutHeatmap({
    values: [],
    rows: ['x'],
    cols: ['x'],
    domain: spec.domain,
    scale: spec.scale,
    width: 200,
    legendTitle: spec.legendTitle,
  }).legend!;
  const barHeight = Math.min(Math.max(120, height - titleHeight - 8), 240);
  const y = scaleLinear()
    .domain(safeDomain(spec.domain))
    .range([titleHeight + barHeight, titleHeight]);
  const legend: LegendLayout = {
    ...legendLayout,
    x: r2(gridWidth + LEGEND_GAP),
    y: titleHeight,
    height: barHeight,
    ticks: y.ticks(5).map((v) => ({ value: v, pos: r2(y(v)), label: formatTick(v) })),
  };
  const cellCount = n * rows.length * cols.length;
  return { width: Math.ceil(gridWidth + legendSpace), height: Math.ceil(height), panels, legend, cellCount, canvas: cellCount > CANVAS_CELLS };
}

/** The panel under a point, or null. */
export function panelAt(layout: MultiplesLayout, x: number, y: number): number | null {
  for (const p of layout.panels) {
    const { plot } = p.layout;
    if (x >= plot.x && x < plot.x + plot.width && y >= plot.y - 18 && y < plot.y + plot.height) return p.t;
  }
  return null;
}
