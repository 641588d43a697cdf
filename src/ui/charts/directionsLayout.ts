// The top SVCCA (or CCA) direction pairs over the datapoints, as line plots (paper Figure 1d):
// for direction k, side A's canonical variate and side B's, each standardised (zero mean, unit
// variance: their correlation ρ_k is what the plot shows), against the datapoint index. With
// labels, datapoints are ordered by label (stable) and each label's span gets a band and a colour.
// Long series are reduced to each pixel column's first, min, max and last value, which keeps
// their envelope.
// Pure.

import { line, scaleLinear, schemeTableau10 } from 'd3';
import type { Frame, PlotArea, Tick } from './frame';
import { plotArea, r2 } from './frame';

export function standardise(values: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) return [];
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  const sd = Math.sqrt(ss / n);
  return values.map((v) => (sd > 0 ? (v - mean) / sd : 0));
}

/** Datapoint order: by label (stable), or as stored. */
export function labelOrder(count: number, labels: readonly number[] | null): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  if (!labels || labels.length !== count) return order;
  return order.sort((a, b) => labels[a] - labels[b] || a - b);
}

/** Indices to draw so that `buckets` columns keep their first, min, max and last values, in order. */
export function decimate(values: readonly number[], buckets: number): number[] {
  const n = values.length;
  if (n <= buckets * 4) return Array.from({ length: n }, (_, i) => i);
  const keep: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets);
    const end = Math.floor(((b + 1) * n) / buckets);
    if (end <= start) continue;
    let lo = start;
    let hi = start;
    for (let i = start; i < end; i++) {
      if (values[i] < values[lo]) lo = i;
      if (values[i] > values[hi]) hi = i;
    }
    for (const i of [...new Set([start, lo, hi, end - 1])].sort((a, c) => a - c)) keep.push(i);
  }
  return keep;
}

export interface DirectionsLayout {
  frame: Frame;
  plot: PlotArea;
  yTicks: Tick[];
  xTicks: Tick[];
  pathA: string;
  pathB: string;
  bands: { label: number; x: number; width: number; color: string }[];
}

export function labelColor(index: number): string {
  return schemeTableau10[index % schemeTableau10.length];
}

export function layoutDirections(
  a: readonly number[],
  b: readonly number[],
  labels: readonly number[] | null,
  byLabel: boolean,
  frame: Frame,
): DirectionsLayout {
  const plot = plotArea(frame);
  const n = Math.min(a.length, b.length);
  const order = labelOrder(n, byLabel ? labels : null);
  const za = standardise(order.map((i) => a[i]));
  const zb = standardise(order.map((i) => b[i]));
  let extent = 0;
  for (const v of za) extent = Math.max(extent, Math.abs(v));
  for (const v of zb) extent = Math.max(extent, Math.abs(v));
  extent = Math.max(1, Math.ceil(extent));
  const x = scaleLinear()
    .domain([0, Math.max(1, n - 1)])
    .range([plot.x, plot.x + plot.width]);
  const y = scaleLinear()
    .domain([-extent, extent])
    .range([plot.y + plot.height, plot.y]);
  const buckets = Math.max(1, Math.floor(plot.width));
  const path = (z: number[]) => {
    const keep = new Set([...decimate(z, buckets)]);
    const pts = [...keep].sort((p, q) => p - q).map((i) => [x(i), y(z[i])] as [number, number]);
    return line().digits(1)(pts) ?? '';
  };

  const bands: DirectionsLayout['bands'] = [];
  if (byLabel && labels && labels.length === n) {
    const classes = [...new Set(labels)].sort((p, q) => p - q);
    let start = 0;
    for (let k = 1; k <= n; k++) {
      if (k === n || labels[order[k]] !== labels[order[start]]) {
        const label = labels[order[start]];
        bands.push({
          label,
          x: r2(x(start - 0.5 < 0 ? 0 : start - 0.5)),
          width: r2(x(Math.min(n - 1, k - 0.5)) - x(start - 0.5 < 0 ? 0 : start - 0.5)),
          color: labelColor(classes.indexOf(label)),
        });
        start = k;
      }
    }
  }
  const yTicks = y.ticks(5).map((v) => ({ value: v, pos: r2(y(v)), label: String(v).replace('-', '−') }));
  const xTicks = x
    .ticks(5)
    .filter((v) => Number.isInteger(v))
    .map((v) => ({ value: v, pos: r2(x(v)), label: String(v) }));
  return { frame, plot, yTicks, xTicks, pathA: path(za), pathB: path(zb), bands };
}
