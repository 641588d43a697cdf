// SVCCA similarity against the number of SVD directions kept (k), with each side's k99 marked.

import { memo, useMemo } from 'react';
import { Axes } from './Axes';
import type { Frame } from './frame';
import { layoutSweep } from './sweepLayout';
import { useWidth } from './useWidth';

const HEIGHT = 220;
const MARGIN: Frame['margin'] = { top: 12, right: 12, bottom: 42, left: 52 };

export const SweepChart = memo(function SweepChart({
  points,
  k99,
  names,
}: {
  points: readonly { k: number; similarity: number }[];
  k99: readonly [number, number];
  names: readonly [string, string];
}) {
  const [box, width] = useWidth<HTMLDivElement>(520);
  const layout = useMemo(() => layoutSweep(points, k99, names, { width, height: HEIGHT, margin: MARGIN }), [points, k99, names, width]);
  const { plot } = layout;
  return (
    <div ref={box} className="chart-box">
      <svg
        className="chart sweep"
        data-export
        width={width}
        height={HEIGHT}
        viewBox={`0 0 ${width} ${HEIGHT}`}
        role="img"
        aria-label="Similarity against the number of kept directions k"
      >
        <Axes plot={plot} xTicks={layout.xTicks} yTicks={layout.yTicks} xLabel="k (SVD directions kept on each side)" yLabel="SVCCA ρ̄" />
        <path className="series" d={layout.path} />
        {layout.points.length <= 64 &&
          layout.points.map((p) => (
            <circle key={p.k} className="dot" cx={p.x} cy={p.y} r={2}>
              <title>{`k = ${p.k}: ${p.similarity.toFixed(4)}`}</title>
            </circle>
          ))}
        {layout.marks.map((m, i) => (
          <g key={m.label} className="cut">
            <line x1={m.x} x2={m.x} y1={plot.y} y2={plot.y + plot.height} />
            <text x={m.anchor === 'start' ? m.x + 4 : m.x - 4} y={plot.y + 10 + i * 14} textAnchor={m.anchor}>
              {m.label}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
});
