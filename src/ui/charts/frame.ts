// Chart geometry shared by the layout functions: a frame (outer size and margins) and ticks.
// Pure: numbers in, numbers and strings out; no DOM.

export interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface Frame {
  width: number;
  height: number;
  margin: Margin;
}

/** The plotting area inside the margins, in SVG user units. */
export interface PlotArea {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Tick {
  value: number;
  /** Position along the axis (x for an x tick, y for a y tick), in SVG user units. */
  pos: number;
  label: string;
}

export function plotArea(frame: Frame): PlotArea {
  const { width, height, margin } = frame;
  return {
    x: margin.left,
    y: margin.top,
    width: Math.max(1, width - margin.left - margin.right),
    height: Math.max(1, height - margin.top - margin.bottom),
  };
}

/** Integer ticks 1..n for an index axis: at most `count` of them, always including 1. */
export function indexTickValues(n: number, count: number): number[] {
  if (n <= 0) return [];
  if (n <= count) return Array.from({ length: n }, (_, i) => i + 1);
  const raw = (n - 1) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  // Steps of 1–2 count 1, 1+step, …; larger steps go 1, step, 2·step, … (round numbers).
  const values = step <= 2 ? [] : [1];
  for (let v = step <= 2 ? 1 : step; v <= n; v += step) values.push(v);
  return values;
}

/** Round to SVG-friendly precision so paths stay short and snapshots stable. */
export function r2(v: number): number {
  return Math.round(v * 100) / 100;
}
