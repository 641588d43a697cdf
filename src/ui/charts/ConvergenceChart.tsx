// Convergence curves: each layer's similarity to itself at the reference step, against the step,
// with the Freeze Training markers (where each layer starts to stay above the threshold).

import { memo, useMemo } from 'react';
import { Axes } from './Axes';
import { compactStep, layoutConvergence } from './convergenceLayout';
import { textWidth } from './heatmapLayout';
import type { ChanceBand, Series } from './convergenceLayout';
import type { Frame } from './frame';
import { useWidth } from './useWidth';
import { useDarkMode } from '../theme';
import { shownName } from '../format';

const HEIGHT = 300;
const MARGIN: Frame['margin'] = { top: 14, right: 12, bottom: 42, left: 52 };

export const ConvergenceChart = memo(function ConvergenceChart({
  series,
  steps,
  threshold,
  label,
  yLabel,
  bands,
  chance,
}: {
  series: readonly Series[];
  steps: readonly number[];
  threshold: number | null;
  label: string;
  yLabel: string;
  /** Many seeds: a shaded band per series (same order) from lo[t] to hi[t], e.g. mean ± sd over runs. */
  bands?: readonly { lo: readonly (number | null)[]; hi: readonly (number | null)[] }[];
  /** Chance bands (mean ± 2 sd per layer per step), drawn under the curves. */
  chance?: readonly ChanceBand[];
}) {
  const [box, width] = useWidth<HTMLDivElement>(520);
  const dark = useDarkMode();
  const legendWidth = Math.min(150, Math.max(0, ...series.map((s) => textWidth(s.layer))) + 34);
  const layout = useMemo(
    () => layoutConvergence(series, steps, { width, height: HEIGHT, margin: MARGIN }, { threshold, legendWidth, dark, chance }),
    [series, steps, width, threshold, legendWidth, dark, chance],
  );
  const { plot } = layout;
  const bandPaths = useMemo(() => {
    if (!bands) return [];
    const frame = { width, height: HEIGHT, margin: MARGIN };
    const lo = layoutConvergence(
      bands.map((b, i) => ({ layer: series[i]?.layer ?? '', values: [...b.lo] })),
      steps,
      frame,
      { threshold: null, legendWidth, dark },
    ).lines;
    const hi = layoutConvergence(
      bands.map((b, i) => ({ layer: series[i]?.layer ?? '', values: [...b.hi] })),
      steps,
      frame,
      { threshold: null, legendWidth, dark },
    ).lines;
    // Upper edge left to right, lower edge back: one closed polygon per series.
    return hi.map((h, i) => {
      const points = [...h.points, ...[...lo[i].points].reverse()];
      return { layer: h.layer, color: layout.lines[i]?.color ?? h.color, path: points.length >= 2 ? `M${points.map((p) => `${p.x},${p.y}`).join('L')}Z` : '' };
    });
  }, [bands, series, steps, width, legendWidth, dark, layout]);
  return (
    <div ref={box} className="chart-box">
      <svg className="chart convergence" data-export width={width} height={HEIGHT} viewBox={`0 0 ${width} ${HEIGHT}`} role="img" aria-label={label}>
        <Axes
          plot={plot}
          xTicks={layout.xTicks}
          yTicks={layout.yTicks}
          xLabel={layout.logSteps ? 'training step (symlog axis)' : 'training step'}
          yLabel={yLabel}
        />
        {layout.chanceBands.length > 0 && (
          <g className="chance-bands" data-testid="chance-bands">
            {layout.chanceBands.map((b) => (
              <path key={b.layer} d={b.path} fill={b.color} fillOpacity={0.16} stroke="none">
                <title>{`${shownName(b.layer)}: chance level (datapoints permuted), mean ± 2 sd`}</title>
              </path>
            ))}
          </g>
        )}
        {layout.threshold && (
          <g className="threshold">
            <line x1={plot.x} x2={plot.x + plot.width} y1={layout.threshold.y} y2={layout.threshold.y} />
            <text x={plot.x + plot.width - 4} y={layout.threshold.y + 13} textAnchor="end">
              {layout.threshold.label}
            </text>
          </g>
        )}
        {bandPaths.map((b) => (
          <path key={`band-${b.layer}`} className="layer-band" d={b.path} fill={b.color} fillOpacity={0.16} stroke="none" />
        ))}
        {layout.lines.map((l) => (
          <g key={l.layer} className="layer-line">
            <path d={l.path} stroke={l.color} />
            {l.points
              .filter((p) => p.marked)
              .map((p) => (
                <circle key={p.t} cx={p.x} cy={p.y} r={2.4} fill={l.color}>
                  <title>{`${shownName(l.layer)} at step ${steps[p.t]}: ${p.value.toFixed(4)}`}</title>
                </circle>
              ))}
          </g>
        ))}
        {layout.gaps.length > 0 && (
          <g className="missing-marks" data-testid="missing-marks">
            {layout.gaps.map((g) => (
              <g key={`${g.layer}-${g.step}`} className="missing-mark">
                <path
                  d={`M${g.x - 3},${g.y - 3}L${g.x + 3},${g.y + 3}M${g.x - 3},${g.y + 3}L${g.x + 3},${g.y - 3}`}
                  stroke={g.color}
                  strokeWidth={1.5}
                  fill="none"
                />
                <title>{`${shownName(g.layer)} at step ${compactStep(g.step)}: ${g.why}`}</title>
              </g>
            ))}
          </g>
        )}
        {layout.freeze.map((m) => (
          <g key={m.layer} className="freeze-mark">
            <rect x={m.x - 4.5} y={m.y - 4.5} width={9} height={9} transform={`rotate(45 ${m.x} ${m.y})`} stroke={m.color} />
            <title>{`${shownName(m.layer)} stays at or above ${threshold} from step ${compactStep(m.step)}`}</title>
          </g>
        ))}
        <g className="end-labels" aria-hidden="true">
          {layout.endLabels.map((e) => (
            <g key={e.layer}>
              {e.layers.length > 1 && <title>{e.layers.map(shownName).join(', ')}</title>}
              {e.leader && <line x1={e.fromX + 3} x2={e.x - 3} y1={e.fromY} y2={e.y} stroke={e.color} strokeWidth={1} />}
              <text className="tick end-label" x={e.x} y={e.y} dy="0.32em" fill={e.color}>
                {shownName(e.text)}
              </text>
            </g>
          ))}
        </g>
        <g className="legend" aria-hidden="true">
          {layout.legend.map((e) => (
            <g key={e.layer}>
              <line x1={e.x} x2={e.x + 16} y1={e.y} y2={e.y} stroke={e.color} strokeWidth={2.5} />
              <text className="tick" x={e.x + 21} y={e.y} dy="0.32em">
                {shownName(e.layer)}
              </text>
            </g>
          ))}
        </g>
      </svg>
    </div>
  );
});
