// The cells of a big heatmap on a canvas under the chart's SVG (which keeps labels, legend and
// outlines). Drawn by the pure drawHeatmap; redrawn only when the cells change.

import { memo, useEffect, useRef } from 'react';
import { drawHeatmap } from './drawHeatmap';
import type { HeatmapCell } from './heatmapLayout';

export const CellsCanvas = memo(function CellsCanvas({ cells, width, height }: { cells: readonly HeatmapCell[]; width: number; height: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.ceil(width * dpr);
    canvas.height = Math.ceil(height * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const pending = getComputedStyle(canvas).getPropertyValue('--pending').trim() || '#d9dde3';
    drawHeatmap(ctx, cells, width, height, pending);
  }, [cells, width, height]);
  return <canvas ref={ref} className="cells-canvas" style={{ width, height }} aria-hidden="true" />;
});
