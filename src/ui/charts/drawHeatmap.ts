// Draws heatmap cells on a 2-D canvas context (for grids past CANVAS_CELLS, where one SVG rect per
// cell would be slow). Pure apart from the context it is given: cells in, fillRect calls out.

import { BLANK_STROKE, type HeatmapCell } from './heatmapLayout';

/** The part of CanvasRenderingContext2D this needs (a recording fake in tests). */
export type CellContext = Pick<CanvasRenderingContext2D, 'fillStyle' | 'fillRect' | 'clearRect'>;

/**
 * Clears `width` × `height` and fills every cell at its position; cells without a value yet get
 * `pending`, blank cells (never a value) BLANK_STROKE's grey, so the two read apart even without
 * the SVG's diagonal. Cells are drawn a hair larger than their size when small, so no seams show.
 */
export function drawHeatmap(ctx: CellContext, cells: readonly HeatmapCell[], width: number, height: number, pending: string): void {
  ctx.clearRect(0, 0, width, height);
  let current = '';
  for (const c of cells) {
    const fill = c.fill ?? (c.blank ? BLANK_STROKE : pending);
    if (fill !== current) {
      ctx.fillStyle = fill;
      current = fill;
    }
    const pad = c.size < 4 ? 0.25 : 0;
    ctx.fillRect(c.x, c.y, c.size + pad, c.size + pad);
  }
}
