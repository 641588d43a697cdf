// The canonical-correlation spectrum ρ_i against i, with mean ρ and mean98 as horizontal lines.

import { memo, useId, useMemo } from 'react';
import { Axes } from './Axes';
import type { Frame } from './frame';
import { useWidth } from './useWidth';
import { layoutSpectrum } from './spectrumLayout';

const HEIGHT = 240;
const MARGIN: Frame['margin'] = { top: 16, right: 16, bottom: 42, left: 52 };

export const SpectrumChart = memo(function SpectrumChart({ rho, mean, mean98 }: { rho: readonly number[]; mean: number | null; mean98: number | null }) {
  const [box, width] = useWidth<HTMLDivElement>(640);
  const layout = useMemo(() => layoutSpectrum(rho, { mean, mean98 }, { width, height: HEIGHT, margin: MARGIN }), [rho, mean, mean98, width]);
  const descId = useId();
  const { plot } = layout;
  return (
    <div ref={box} className="chart-box">
      <svg
        className="chart spectrum"
        data-export
        width={width}
        height={HEIGHT}
        viewBox={`0 0 ${width} ${HEIGHT}`}
        role="img"
        aria-label="Canonical correlation spectrum"
        aria-describedby={descId}
      >
        <desc id={descId}>{`${rho.length} canonical correlations, from ${rho[0]?.toFixed(3) ?? '—'} down to ${rho[rho.length - 1]?.toFixed(3) ?? '—'}.`}</desc>
        <Axes plot={plot} xTicks={layout.xTicks} yTicks={layout.yTicks} xLabel="direction i" yLabel="ρᵢ" />
        <path className="series" d={layout.path} />
        {layout.points.map((p) => (
          <circle key={p.i} className="dot" cx={p.x} cy={p.y} r={2.6}>
            <title>{`ρ${p.i} = ${p.value.toFixed(4)}`}</title>
          </circle>
        ))}
        {layout.lines.map((l) => (
          <g key={l.key} className={`summary ${l.key}`}>
            <line x1={plot.x} x2={plot.x + plot.width} y1={l.y} y2={l.y} />
            <text x={plot.x + plot.width - 4} y={l.labelY} textAnchor="end">
              {l.label}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
});
