// One side's SVD variance spectrum (share of Σλ per direction, log axis) with SVCCA's cut.

import { memo, useMemo } from 'react';
import { Axes } from './Axes';
import type { Frame } from './frame';
import { useWidth } from './useWidth';
import { layoutVarianceSpectrum } from './varianceLayout';

const HEIGHT = 190;
const MARGIN: Frame['margin'] = { top: 12, right: 12, bottom: 42, left: 52 };

export const VarianceChart = memo(function VarianceChart({ title, lambda, kept }: { title: string; lambda: readonly number[]; kept: number }) {
  const [box, width] = useWidth<HTMLDivElement>(320);
  const layout = useMemo(() => layoutVarianceSpectrum(lambda, kept, { width, height: HEIGHT, margin: MARGIN }), [lambda, kept, width]);
  const { plot, cut } = layout;
  return (
    <>
      <div ref={box} className="chart-box">
        <svg
          className="chart"
          data-export
          width={width}
          height={HEIGHT}
          viewBox={`0 0 ${width} ${HEIGHT}`}
          role="img"
          aria-label={`Variance spectrum of ${title}`}
        >
          <rect className="kept" x={layout.kept.x} y={layout.kept.y} width={layout.kept.width} height={layout.kept.height} />
          <Axes plot={plot} xTicks={layout.xTicks} yTicks={layout.yTicks} xLabel="direction i" yLabel="λᵢ / Σλ" />
          <path className="series" d={layout.path} />
          {layout.points.map((p) => (
            <circle key={p.i} className="dot" cx={p.x} cy={p.y} r={2.2}>
              <title>{`λ${p.i}/Σλ = ${p.share.toExponential(2)}`}</title>
            </circle>
          ))}
          {cut && (
            <g className="cut">
              <line x1={cut.x} x2={cut.x} y1={plot.y} y2={plot.y + plot.height} />
              <text x={cut.anchor === 'start' ? cut.x + 4 : cut.x - 4} y={plot.y + 10} textAnchor={cut.anchor}>
                {cut.label}
              </text>
            </g>
          )}
        </svg>
      </div>
      {!cut && <p className="note">{`kept all ${kept} directions (${(layout.keptShare * 100).toFixed(1)}%)`}</p>}
    </>
  );
});
