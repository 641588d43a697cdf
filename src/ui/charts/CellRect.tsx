// One heatmap cell as SVG: its colour, the pending look while not computed yet, or the blank look
// (white with a diagonal stroke) of a pair that will never have a value. Colours are attributes,
// so exported SVG/PNG keep them.

import { BLANK_FILL, BLANK_STROKE, type HeatmapCell } from './heatmapLayout';

export function CellRect({ cell: c, withValue = false }: { cell: HeatmapCell; withValue?: boolean }) {
  if (c.blank) {
    return (
      <g className="blank-cell" data-blank="">
        <rect x={c.x} y={c.y} width={c.size} height={c.size} fill={BLANK_FILL} stroke={BLANK_STROKE} strokeWidth={0.5} />
        <line x1={c.x} y1={c.y + c.size} x2={c.x + c.size} y2={c.y} stroke={BLANK_STROKE} strokeWidth={1} />
      </g>
    );
  }
  return (
    <rect
      x={c.x}
      y={c.y}
      width={c.size}
      height={c.size}
      className={c.fill ? undefined : 'pending'}
      fill={c.fill ?? undefined}
      data-value={withValue ? (c.value ?? undefined) : undefined}
    />
  );
}
