import { describe, expect, it } from 'vitest';
import { drawHeatmap } from '../../src/ui/charts/drawHeatmap';
import type { CellContext } from '../../src/ui/charts/drawHeatmap';
import { BLANK_STROKE, layoutHeatmap } from '../../src/ui/charts/heatmapLayout';

/** A context that records what is drawn. */
function recorder() {
  const calls: string[] = [];
  const ctx = {
    _fill: '',
    get fillStyle() {
      return this._fill;
    },
    set fillStyle(v: string) {
      this._fill = v;
      calls.push(`fill ${v}`);
    },
    fillRect(x: number, y: number, w: number, h: number) {
      calls.push(`rect ${x} ${y} ${w} ${h}`);
    },
    clearRect(x: number, y: number, w: number, h: number) {
      calls.push(`clear ${x} ${y} ${w} ${h}`);
    },
  };
  return { ctx: ctx as unknown as CellContext, calls };
}

describe('drawHeatmap', () => {
  it('clears, then fills each cell at its place, pending cells in the pending colour', () => {
    const layout = layoutHeatmap({ values: [[0.2, null]], rows: ['r'], cols: ['a', 'b'], domain: [0, 1], width: 300, bare: true, maxCell: 10 });
    const { ctx, calls } = recorder();
    drawHeatmap(ctx, layout.cells, 20, 10, '#ccc');
    expect(calls[0]).toBe('clear 0 0 20 10');
    expect(calls).toContain('rect 0 0 10 10');
    expect(calls).toContain('rect 10 0 10 10');
    expect(calls).toContain('fill #ccc');
    expect(calls.filter((c) => c.startsWith('rect'))).toHaveLength(2);
  });

  it('sets the fill style only when the colour changes', () => {
    const cells = [0, 1, 2].map((k) => ({ i: 0, j: k, x: k * 5, y: 0, size: 5, value: 0.5, fill: '#123456', blank: false }));
    const { ctx, calls } = recorder();
    drawHeatmap(ctx, cells, 15, 5, '#ccc');
    expect(calls.filter((c) => c.startsWith('fill'))).toEqual(['fill #123456']);
  });

  it('draws a blank cell (never a value) apart from a pending one', () => {
    const layout = layoutHeatmap({
      values: [[null, null]],
      blank: [[null, 'not comparable under positions']],
      rows: ['r'],
      cols: ['a', 'b'],
      domain: [0, 1],
      width: 300,
      bare: true,
      maxCell: 10,
    });
    expect(layout.cells.map((c) => c.blank)).toEqual([false, true]);
    const { ctx, calls } = recorder();
    drawHeatmap(ctx, layout.cells, 20, 10, '#ccc');
    expect(calls).toEqual(['clear 0 0 20 10', 'fill #ccc', 'rect 0 0 10 10', `fill ${BLANK_STROKE}`, 'rect 10 0 10 10']);
  });

  it('pads tiny cells so no seams show between them', () => {
    const { ctx, calls } = recorder();
    drawHeatmap(ctx, [{ i: 0, j: 0, x: 1, y: 2, size: 2, value: 1, fill: '#fff', blank: false }], 4, 4, '#ccc');
    expect(calls).toContain('rect 1 2 2.25 2.25');
  });
});
