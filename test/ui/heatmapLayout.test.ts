import { interpolateViridis } from 'd3';
import { describe, expect, it } from 'vitest';
import {
  CANVAS_CELLS,
  VALUE_TEXT_MIN_CELL,
  cellValueText,
  textTone,
  cellAt,
  dataDomain,
  heatColor,
  labelStride,
  layoutHeatmap,
  layoutMultiples,
  moveFocus,
  panelAt,
} from '../../src/ui/charts/heatmapLayout';

const rows = ['conv1', 'conv2', 'fc'];
const cols = ['a', 'b'];
const values = [
  [0, 1],
  [0.5, null],
  [0.25, 0.75],
];

describe('layoutHeatmap', () => {
  const layout = layoutHeatmap({ values, rows, cols, domain: [0, 1], width: 600, xTitle: 'x', yTitle: 'y', legendTitle: 'SVCCA' });

  it('lays out one square cell per value, row-major, inside the plot', () => {
    expect(layout.cells).toHaveLength(6);
    expect(layout.cell).toBe(48); // capped at maxCell
    for (const c of layout.cells) {
      expect(c.x).toBeCloseTo(layout.plot.x + c.j * layout.cell, 6);
      expect(c.y).toBeCloseTo(layout.plot.y + c.i * layout.cell, 6);
      expect(c.size).toBe(layout.cell);
    }
    expect(layout.plot.width).toBe(2 * 48);
    expect(layout.plot.height).toBe(3 * 48);
    expect(layout.canvas).toBe(false);
  });

  it('colours on viridis over the domain, and leaves uncomputed cells unfilled', () => {
    const at = (i: number, j: number) => layout.cells.find((c) => c.i === i && c.j === j)!;
    expect(at(0, 0).fill).toBe(interpolateViridis(0));
    expect(at(0, 1).fill).toBe(interpolateViridis(1));
    expect(at(1, 1).fill).toBeNull();
    expect(at(1, 1).value).toBeNull();
    expect(at(2, 1).value).toBe(0.75);
  });

  it('clamps values outside the domain and survives a degenerate domain', () => {
    const color = heatColor([0.5, 1]);
    expect(color(0)).toBe(interpolateViridis(0));
    expect(color(2)).toBe(interpolateViridis(1));
    expect(() => heatColor([0.7, 0.7])(0.7)).not.toThrow();
  });

  it('labels every row and column, legend ticks inside the bar, titles present', () => {
    expect(layout.rowLabels.map((l) => l.label)).toEqual(rows);
    expect(layout.colLabels.map((l) => l.label)).toEqual(cols);
    expect(layout.rowLabels[1].pos).toBeCloseTo(layout.plot.y + 1.5 * 48, 6);
    const legend = layout.legend!;
    expect(legend.title).toBe('SVCCA');
    expect(legend.x).toBeGreaterThan(layout.plot.x + layout.plot.width);
    expect(legend.ticks.map((t) => t.label)).toEqual(['0', '0.2', '0.4', '0.6', '0.8', '1']);
    for (const t of legend.ticks) {
      expect(t.pos).toBeGreaterThanOrEqual(legend.y);
      expect(t.pos).toBeLessThanOrEqual(legend.y + legend.height);
    }
    expect(legend.stops[0].color).toBe(interpolateViridis(0));
    expect(legend.stops.at(-1)!.color).toBe(interpolateViridis(1));
    expect(layout.width).toBeGreaterThanOrEqual(legend.x + legend.width);
    expect(layout.height).toBeGreaterThanOrEqual(layout.plot.y + layout.plot.height);
    expect(layout.xTitle?.text).toBe('x');
  });

  it('shrinks cells to fit a narrow width and thins labels that would overlap', () => {
    const many = Array.from({ length: 60 }, (_, k) => `layer${k}`);
    const grid = many.map(() => many.map(() => 0.5));
    const small = layoutHeatmap({ values: grid, rows: many, cols: many, domain: [0, 1], width: 500 });
    expect(small.cell).toBeLessThan(12);
    expect(small.plot.x + small.plot.width).toBeLessThanOrEqual(500);
    expect(small.rowLabels.length).toBeLessThan(60);
    expect(small.rowLabels[1].index).toBe(labelStride(small.cell, 60));
  });

  it('switches to a canvas past CANVAS_CELLS cells', () => {
    const n = Math.ceil(Math.sqrt(CANVAS_CELLS)) + 1;
    const names = Array.from({ length: n }, (_, k) => `l${k}`);
    const big = layoutHeatmap({ values: [], rows: names, cols: names, domain: [0, 1], width: 800 });
    expect(big.cells.length).toBeGreaterThan(CANVAS_CELLS);
    expect(big.canvas).toBe(true);
  });
});

describe('cellAt and moveFocus', () => {
  const layout = layoutHeatmap({ values, rows, cols, domain: [0, 1], width: 600 });
  it('finds the cell under a point, null outside', () => {
    const { plot, cell } = layout;
    expect(cellAt(layout, 3, 2, plot.x + 1.5 * cell, plot.y + 2.2 * cell)).toEqual({ i: 2, j: 1 });
    expect(cellAt(layout, 3, 2, plot.x - 1, plot.y + 1)).toBeNull();
    expect(cellAt(layout, 3, 2, plot.x + 2 * cell + 1, plot.y + 1)).toBeNull();
  });
  it('moves with arrow keys and stays inside the grid', () => {
    expect(moveFocus({ i: 0, j: 0 }, 'ArrowDown', 3, 2)).toEqual({ i: 1, j: 0 });
    expect(moveFocus({ i: 0, j: 0 }, 'ArrowUp', 3, 2)).toEqual({ i: 0, j: 0 });
    expect(moveFocus({ i: 2, j: 1 }, 'ArrowRight', 3, 2)).toEqual({ i: 2, j: 1 });
    expect(moveFocus({ i: 2, j: 1 }, 'Home', 3, 2)).toEqual({ i: 2, j: 0 });
    expect(moveFocus({ i: 2, j: 0 }, 'End', 3, 2)).toEqual({ i: 2, j: 1 });
    expect(moveFocus({ i: 2, j: 0 }, 'Enter', 3, 2)).toBeNull();
  });
});

describe('dataDomain', () => {
  it('is [0, 1] before anything is computed', () => {
    expect(dataDomain([])).toEqual([0, 1]);
    expect(dataDomain([[[null, null]]])).toEqual([0, 1]);
  });
  it('spans every checkpoint, widened to a 0.01 grid', () => {
    expect(dataDomain([[[0.423, null]], [[0.9871, 0.6]]])).toEqual([0.42, 0.99]);
  });
  it('widens a single value', () => {
    expect(dataDomain([[[0.5, 0.5]]])).toEqual([0.45, 0.55]);
  });
});

describe('layoutMultiples', () => {
  const grids = Array.from({ length: 6 }, (_, t) => values.map((row) => row.map((v) => (v === null ? null : v * (t / 5)))));
  const layout = layoutMultiples({ grids, titles: grids.map((_, t) => `step ${t}`), rows, cols, domain: [0, 1], width: 700, legendTitle: 'SVCCA' });
  it('has one panel per checkpoint, none overlapping, all inside the width', () => {
    expect(layout.panels).toHaveLength(6);
    for (const p of layout.panels) {
      expect(p.layout.cells).toHaveLength(6);
      expect(p.x + p.layout.plot.width).toBeLessThanOrEqual(layout.width);
    }
    for (let a = 0; a < 6; a++)
      for (let b = a + 1; b < 6; b++) {
        const pa = layout.panels[a].layout.plot;
        const pb = layout.panels[b].layout.plot;
        const apart = pa.x + pa.width <= pb.x || pb.x + pb.width <= pa.x || pa.y + pa.height <= pb.y || pb.y + pb.height <= pa.y;
        expect(apart).toBe(true);
      }
    expect(layout.legend.x).toBeGreaterThan(Math.max(...layout.panels.map((p) => p.x + p.layout.plot.width)));
  });
  it('uses one colour scale for every panel and finds the panel under a point', () => {
    const first = layout.panels[5].layout.cells.find((c) => c.i === 0 && c.j === 1)!;
    expect(first.fill).toBe(interpolateViridis(1));
    const p = layout.panels[3].layout.plot;
    expect(panelAt(layout, p.x + 2, p.y + 2)).toBe(3);
    expect(panelAt(layout, -10, -10)).toBeNull();
  });
});

describe('values printed in cells', () => {
  it('prints two decimals in every computed cell when cells are big enough, in a tone that reads on the fill', () => {
    const values = [
      [0.05, 0.873],
      [null, 1],
    ];
    const big = layoutHeatmap({ values, rows: ['a', 'b'], cols: ['a', 'b'], domain: [0, 1], width: 400 });
    expect(big.cell).toBeGreaterThanOrEqual(VALUE_TEXT_MIN_CELL);
    expect(big.cellTexts.map((t) => t.text)).toEqual(['.05', '.87', '1.00']); // none for the pending cell
    // Viridis: dark purple at 0 takes light text, yellow at 1 dark text.
    expect(big.cellTexts.map((t) => t.tone)).toEqual(['light', 'dark', 'dark']);
    expect(big.cellTexts[0].x).toBeCloseTo(big.cells[0].x + big.cell / 2, 1);
    const small = layoutHeatmap({ values, rows: ['a', 'b'], cols: ['a', 'b'], domain: [0, 1], width: 120 });
    expect(small.cell).toBeLessThan(VALUE_TEXT_MIN_CELL);
    expect(small.cellTexts).toEqual([]);
    expect(cellValueText(-0.1)).toBe('−.10');
    expect(cellValueText(16)).toBe('16'); // k99 counts (Classes view)
    // Viridis' teal middle (#21918c, luminance 0.22): black text has contrast 5.5, white only 3.8.
    expect(textTone(heatColor([0, 1])(0.5))).toBe('dark');
    expect(textTone(heatColor([0, 1])(0.3))).toBe('light');
  });
});
