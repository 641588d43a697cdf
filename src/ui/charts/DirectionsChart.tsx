// The top canonical direction pairs over the datapoints (paper Figure 1d): one panel per direction,
// A's and B's variates standardised and overlaid; with labels, datapoints ordered by label and
// each label's span shaded in its colour. All panels in one SVG, so one export takes them all.

import { memo, useMemo } from 'react';
import { labelColor, layoutDirections } from './directionsLayout';
import type { Frame } from './frame';
import { useWidth } from './useWidth';

const PANEL = 130;
const GAP = 26;
const MARGIN: Frame['margin'] = { top: 18, right: 12, bottom: 8, left: 40 };

export const DirectionsChart = memo(function DirectionsChart({
  rho,
  x,
  y,
  labels,
  byLabel,
  names,
}: {
  rho: readonly number[];
  x: readonly (readonly number[])[];
  y: readonly (readonly number[])[];
  labels: readonly number[] | null;
  byLabel: boolean;
  names: [string, string];
}) {
  const [box, width] = useWidth<HTMLDivElement>(640);
  const count = Math.min(x.length, y.length);
  const panels = useMemo(
    () => Array.from({ length: count }, (_, k) => layoutDirections(x[k], y[k], labels, byLabel, { width, height: PANEL, margin: MARGIN })),
    [x, y, labels, byLabel, width, count],
  );
  const classes = useMemo(() => (labels && byLabel ? [...new Set(labels)].sort((a, b) => a - b) : []), [labels, byLabel]);
  const legendHeight = 22;
  const height = legendHeight + count * (PANEL + GAP) + 16;
  return (
    <div ref={box} className="chart-box">
      <svg
        className="chart directions"
        data-export
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Top ${count} canonical direction pairs over the datapoints, A and B overlaid`}
      >
        <g className="legend" aria-hidden="true">
          <line x1={MARGIN.left} x2={MARGIN.left + 18} y1={10} y2={10} className="dir-a" />
          <text className="tick" x={MARGIN.left + 23} y={10} dy="0.32em">{`A · ${names[0]}`}</text>
          <line x1={width / 2} x2={width / 2 + 18} y1={10} y2={10} className="dir-b" />
          <text className="tick" x={width / 2 + 23} y={10} dy="0.32em">{`B · ${names[1]}`}</text>
        </g>
        {panels.map((p, k) => (
          <g key={k} transform={`translate(0 ${legendHeight + k * (PANEL + GAP)})`}>
            <text className="panel-title" x={p.plot.x} y={12}>
              {`direction ${k + 1}: ρ = ${(rho[k] ?? NaN).toFixed(4)}`}
            </text>
            {p.bands.map((b, i) => (
              <rect key={i} className="band" x={b.x} y={p.plot.y} width={Math.max(0.5, b.width)} height={p.plot.height} fill={b.color} />
            ))}
            <line className="axis" x1={p.plot.x} x2={p.plot.x + p.plot.width} y1={p.plot.y + p.plot.height / 2} y2={p.plot.y + p.plot.height / 2} />
            {p.yTicks.map((t) => (
              <text key={t.value} className="tick" x={p.plot.x - 6} y={t.pos} dy="0.32em" textAnchor="end">
                {t.label}
              </text>
            ))}
            <path className="dir-a" d={p.pathA} />
            <path className="dir-b" d={p.pathB} />
          </g>
        ))}
        <text className="axis-label" x={MARGIN.left} y={height - 4}>
          {byLabel && labels ? 'datapoints, ordered by label' : 'datapoints, in stored order'}
        </text>
        {classes.length > 0 && classes.length <= 20 && (
          <g className="legend" aria-hidden="true">
            {classes.map((c, i) => (
              <g key={c} transform={`translate(${Math.min(width - 40, MARGIN.left + 200 + i * 34)} ${height - 14})`}>
                <rect width={10} height={10} fill={labelColor(i)} />
                <text className="tick" x={13} y={5} dy="0.32em">
                  {String(c)}
                </text>
              </g>
            ))}
          </g>
        )}
      </svg>
    </div>
  );
});
