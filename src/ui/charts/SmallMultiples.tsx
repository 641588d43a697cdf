// Every checkpoint's heatmap side by side, on the one shared colour scale, in one SVG (one export).
// Clicking a checkpoint shows it alone.

import { memo, useMemo } from 'react';
import type { MouseEvent } from 'react';
import { CellRect } from './CellRect';
import { CellsCanvas } from './CellsCanvas';
import { HeatLegend } from './HeatLegend';
import { layoutMultiples, panelAt } from './heatmapLayout';
import type { ColourScale, Domain } from './heatmapLayout';
import { useWidth } from './useWidth';

export const SmallMultiples = memo(function SmallMultiples({
  grids,
  blank,
  blanks,
  steps,
  rows,
  cols,
  domain,
  scale,
  label,
  legendTitle,
  current,
  onPick,
}: {
  grids: readonly (readonly (readonly (number | null)[])[])[];
  /** The same blank cells in every panel (see GridJob.blank). */
  blank?: readonly (readonly (string | null)[])[] | null;
  /** Per-panel blank cells instead (cells without a chance level differ by checkpoint); wins over `blank`. */
  blanks?: readonly (readonly (readonly (string | null)[])[] | null)[];
  steps: readonly number[];
  rows: readonly string[];
  cols: readonly string[];
  domain: Domain;
  scale?: ColourScale;
  label: string;
  legendTitle: string;
  current: number;
  onPick: (t: number) => void;
}) {
  const [box, width] = useWidth<HTMLDivElement>(640);
  const layout = useMemo(
    () => layoutMultiples({ grids, blank, blanks, titles: steps.map((s) => `step ${s}`), rows, cols, domain, scale, width, legendTitle }),
    [grids, blank, blanks, steps, rows, cols, domain, scale, width, legendTitle],
  );
  const cells = useMemo(() => (layout.canvas ? layout.panels.flatMap((p) => p.layout.cells) : []), [layout]);
  const onClick = (e: MouseEvent<SVGSVGElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const t = panelAt(layout, e.clientX - rect.left, e.clientY - rect.top);
    if (t !== null) onPick(t);
  };
  return (
    <div ref={box} className="chart-box">
      <div className="heatmap-wrap" style={{ width: layout.width, height: layout.height }}>
        {layout.canvas && <CellsCanvas cells={cells} width={layout.width} height={layout.height} />}
        <svg
          className="chart heatmap multiples"
          data-export
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          role="img"
          aria-label={label}
          onClick={onClick}
        >
          {layout.panels.map((p) => (
            <g key={p.t} className={p.t === current ? 'panel current' : 'panel'}>
              <text className="panel-title" x={p.x} y={p.y - 5}>
                {p.title}
              </text>
              {!layout.canvas && p.layout.cells.map((c) => <CellRect key={`${c.i}:${c.j}`} cell={c} />)}
              <rect className="panel-frame" x={p.x - 1.5} y={p.y - 1.5} width={p.layout.plot.width + 3} height={p.layout.plot.height + 3} />
            </g>
          ))}
          <HeatLegend legend={layout.legend} />
        </svg>
      </div>
    </div>
  );
});
