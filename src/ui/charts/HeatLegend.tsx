// The vertical colour legend of a heatmap (inside the chart's SVG, so exports include it).

import { useId } from 'react';
import type { LegendLayout } from './heatmapLayout';

export function HeatLegend({ legend }: { legend: LegendLayout }) {
  const id = `grad-${useId().replace(/[^a-zA-Z0-9]/g, '')}`;
  const { x, y, width, height } = legend;
  return (
    <g className="legend" aria-hidden="true">
      <defs>
        <linearGradient id={id} x1="0" y1="1" x2="0" y2="0">
          {legend.stops.map((s) => (
            <stop key={s.offset} offset={s.offset} stopColor={s.color} />
          ))}
        </linearGradient>
      </defs>
      {legend.title && (
        <text className="legend-title" x={x} y={y - 0} dy="-0.1em">
          {legend.title}
        </text>
      )}
      <rect x={x} y={y + 4} width={width} height={height - 4} fill={`url(#${id})`} />
      {legend.ticks.map((t) => (
        <g key={t.value}>
          <line className="axis" x1={x + width} x2={x + width + 4} y1={Math.max(t.pos, y + 4)} y2={Math.max(t.pos, y + 4)} />
          <text className="tick" x={x + width + 7} y={Math.max(t.pos, y + 4)} dy="0.32em">
            {t.label}
          </text>
        </g>
      ))}
    </g>
  );
}
