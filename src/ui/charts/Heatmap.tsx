// A similarity heatmap: SVG cells (a canvas past CANVAS_CELLS), labels, legend; a hover tooltip
// (updated in place, no re-render), keyboard navigation (arrow keys move a focus cell, Enter opens
// the pair) and click to open the pair.

import { memo, useEffect, useId, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent, MouseEvent } from 'react';
import { CellRect } from './CellRect';
import { CellsCanvas } from './CellsCanvas';
import { HeatLegend } from './HeatLegend';
import { cellAt, layoutHeatmap, moveFocus } from './heatmapLayout';
import type { ColourScale, Domain } from './heatmapLayout';
import { useWidth } from './useWidth';
import { shownMessage } from '../format';

export interface HeatmapProps {
  values: readonly (readonly (number | null)[])[];
  /** Cells with no value for good (truthy: why; see GridJob.blank). */
  blank?: readonly (readonly (string | null)[])[] | null;
  rows: readonly string[];
  cols: readonly string[];
  domain: Domain;
  /** 'viridis' (similarities) unless said; 'diverging' for values around 0 (above chance, z). */
  scale?: ColourScale;
  /** Accessible name: says what the chart is (contains "heatmap"). */
  label: string;
  xTitle: string;
  yTitle: string;
  legendTitle: string;
  /** Tooltip / announcement lines for a cell. */
  describe: (i: number, j: number) => string[];
  selected: { i: number; j: number } | null;
  onSelect: (i: number, j: number) => void;
}

export const Heatmap = memo(function Heatmap(props: HeatmapProps) {
  const { values, blank, rows, cols, domain, scale, label, xTitle, yTitle, legendTitle, describe, selected, onSelect } = props;
  const [box, width] = useWidth<HTMLDivElement>(640);
  const layout = useMemo(
    () => layoutHeatmap({ values, blank, rows, cols, domain, scale, width, xTitle, yTitle, legendTitle }),
    [values, blank, rows, cols, domain, scale, width, xTitle, yTitle, legendTitle],
  );
  const [focus, setFocus] = useState({ i: 0, j: 0 });
  const [announce, setAnnounce] = useState('');
  const tip = useRef<HTMLDivElement>(null);
  const hintId = useId();
  const f = { i: Math.min(focus.i, rows.length - 1), j: Math.min(focus.j, cols.length - 1) };

  useEffect(() => {
    if (tip.current) tip.current.hidden = true;
  }, [layout]);

  const { plot, cell } = layout;

  const showTip = (i: number, j: number, x: number, y: number) => {
    const el = tip.current;
    if (!el) return;
    el.replaceChildren(
      ...describe(i, j).map((line, k) => {
        const div = document.createElement('div');
        if (k === 0) div.className = 'tip-title';
        else if (line.length > 60) div.className = 'tip-wrap'; // a reason (a blank cell's) wraps instead of running off the chart
        div.textContent = shownMessage(line);
        return div;
      }),
    );
    el.hidden = false;
    const left = x + 14 + el.offsetWidth > layout.width ? Math.max(0, x - 14 - el.offsetWidth) : x + 14;
    el.style.left = `${left}px`;
    el.style.top = `${y + 14}px`;
  };

  const local = (e: MouseEvent<SVGSVGElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  };

  const onMove = (e: MouseEvent<SVGSVGElement>) => {
    const p = local(e);
    const c = cellAt(layout, rows.length, cols.length, p.x, p.y);
    if (!c) {
      if (tip.current) tip.current.hidden = true;
      return;
    }
    showTip(c.i, c.j, p.x, p.y);
  };

  const onClick = (e: MouseEvent<SVGSVGElement>) => {
    const p = local(e);
    const c = cellAt(layout, rows.length, cols.length, p.x, p.y);
    if (!c) return;
    setFocus(c);
    onSelect(c.i, c.j);
  };

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onSelect(f.i, f.j);
      return;
    }
    const next = moveFocus(f, e.key, rows.length, cols.length);
    if (!next) return;
    e.preventDefault();
    e.stopPropagation();
    setFocus(next);
    setAnnounce(describe(next.i, next.j).join('. '));
  };

  return (
    <div ref={box} className="chart-box">
      <div
        className="heatmap-wrap"
        style={{ width: layout.width, height: layout.height }}
        tabIndex={0}
        role="group"
        aria-label={`${label}. Cells`}
        aria-describedby={hintId}
        onKeyDown={onKey}
        onFocus={() => setAnnounce(describe(f.i, f.j).join('. '))}
      >
        {layout.canvas && <CellsCanvas cells={layout.cells} width={layout.width} height={layout.height} />}
        <svg
          className="chart heatmap"
          data-export
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          role="img"
          aria-label={label}
          onMouseMove={onMove}
          onMouseLeave={() => tip.current && (tip.current.hidden = true)}
          onClick={onClick}
        >
          {!layout.canvas && (
            <g className="cells">
              {layout.cells.map((c) => (
                <CellRect key={`${c.i}:${c.j}`} cell={c} withValue />
              ))}
            </g>
          )}
          {layout.cellTexts.length > 0 && (
            <g className="cell-values" aria-hidden="true">
              {layout.cellTexts.map((t) => (
                <text key={`${t.x}:${t.y}`} x={t.x} y={t.y} dy="0.35em" textAnchor="middle" className={t.tone}>
                  {t.text}
                </text>
              ))}
            </g>
          )}
          <g className="axes" aria-hidden="true">
            {layout.rowLabels.map((l) => (
              <text key={`r${l.index}`} className="tick" x={plot.x - 6} y={l.pos} dy="0.32em" textAnchor="end">
                {l.label}
              </text>
            ))}
            {layout.colLabels.map((l) => (
              <text key={`c${l.index}`} className="tick" transform={`translate(${l.pos} ${plot.y + plot.height + 8}) rotate(-45)`} textAnchor="end" dy="0.32em">
                {l.label}
              </text>
            ))}
            {layout.xTitle && (
              <text className="axis-label" x={layout.xTitle.x} y={layout.xTitle.y} textAnchor="middle">
                {layout.xTitle.text}
              </text>
            )}
            {layout.yTitle && (
              <text className="axis-label" transform={`translate(${layout.yTitle.x} ${layout.yTitle.y}) rotate(-90)`} textAnchor="middle" dy="0.32em">
                {layout.yTitle.text}
              </text>
            )}
          </g>
          {layout.legend && <HeatLegend legend={layout.legend} />}
          {selected && selected.i < rows.length && selected.j < cols.length && (
            <rect className="selected-cell" x={plot.x + selected.j * cell} y={plot.y + selected.i * cell} width={cell} height={cell} />
          )}
          <rect className="focus-cell" x={plot.x + f.j * cell} y={plot.y + f.i * cell} width={cell} height={cell} />
        </svg>
        <div ref={tip} className="tooltip" aria-hidden="true" hidden />
      </div>
      <p id={hintId} className="visually-hidden">
        Arrow keys move between cells; Enter opens the pair.
      </p>
      <p className="visually-hidden" aria-live="polite">
        {announce}
      </p>
    </div>
  );
});
