// Thin renderers for the axes, grid and frame of a layout produced by the pure chart functions.

import type { PlotArea, Tick } from './frame';

export function Axes({ plot, xTicks, yTicks, xLabel, yLabel }: { plot: PlotArea; xTicks: Tick[]; yTicks: Tick[]; xLabel: string; yLabel: string }) {
  const bottom = plot.y + plot.height;
  return (
    <g className="axes" aria-hidden="true">
      {yTicks.map((t) => (
        <g key={`y${t.value}`}>
          <line className="grid" x1={plot.x} x2={plot.x + plot.width} y1={t.pos} y2={t.pos} />
          <text className="tick" x={plot.x - 6} y={t.pos} dy="0.32em" textAnchor="end">
            {t.label}
          </text>
        </g>
      ))}
      {xTicks.map((t) => (
        <text key={`x${t.value}`} className="tick" x={t.pos} y={bottom + 16} textAnchor="middle">
          {t.label}
        </text>
      ))}
      <line className="axis" x1={plot.x} x2={plot.x + plot.width} y1={bottom} y2={bottom} />
      <line className="axis" x1={plot.x} x2={plot.x} y1={plot.y} y2={bottom} />
      <text className="axis-label" x={plot.x + plot.width / 2} y={bottom + 34} textAnchor="middle">
        {xLabel}
      </text>
      <text className="axis-label" transform={`translate(${plot.x - 40} ${plot.y + plot.height / 2}) rotate(-90)`} textAnchor="middle">
        {yLabel}
      </text>
    </g>
  );
}
