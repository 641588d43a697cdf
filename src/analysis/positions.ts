// Which pairs the `positions` conv reduction can compare, and how the others are explained.
//
// Under positions every spatial position of a datapoint is a datapoint of its own: a conv layer
// (N, H, W, C) becomes C neurons × N·H·W datapoints, while a dense layer stays n neurons × N
// datapoints (svcca tutorial 002). CCA and CKA need both sides over the same datapoints, so only
// layers at the same spatial size (or two dense layers) can be compared. In a grid the other
// pairs are left empty (null), never filled with a number from another reduction; one warning per
// job names them. The engine (which skips them) and the store (which marks their cells before any
// value arrives) share these words.

/** One side of a pair as the positions rule sees it. */
export interface PositionsSide {
  /** How messages name it: "layer conv1", "A's layer fc". */
  name: string;
  /** Datapoints after the conv reduction (N·H·W for a conv layer under positions). */
  datapoints: number;
  /** Whether it is a conv layer (its datapoints are N·H·W). */
  conv: boolean;
}

export const POSITIONS_ADVICE = 'positions compares layers at the same spatial size only; choose mean-pool or flatten to compare them';

/** Integers with thin grouping ("25 600"), as the app prints counts. */
export const groupDigits = (n: number) => Math.round(n).toLocaleString('en-US').replace(/,/g, '\u202f');

/** "N·H·W = 25 600 datapoints" for a conv layer, "400 datapoints" for a dense one. */
export function describeDatapoints(side: Pick<PositionsSide, 'datapoints' | 'conv'>): string {
  return side.conv ? `N·H·W = ${groupDigits(side.datapoints)} datapoints` : `${groupDigits(side.datapoints)} datapoints`;
}

/**
 * Whether the positions reduction leaves a pair without shared datapoints although the inputs
 * agree: both sides hold the same N inputs (`inputs`: datapoints before the spatial split) but
 * a different count after it. Other mismatches (different N) are refused, not left empty.
 */
export function positionsMismatch(reduction: string, a: { datapoints: number; inputs: number }, b: { datapoints: number; inputs: number }): boolean {
  return reduction === 'positions' && a.datapoints !== b.datapoints && a.inputs === b.inputs;
}

/** "layer conv1 (N·H·W = 25 600 datapoints) and layer fc (400 datapoints)". */
export function describePositionsPair(a: PositionsSide, b: PositionsSide): string {
  return `${a.name} (${describeDatapoints(a)}) and ${b.name} (${describeDatapoints(b)})`;
}

/** Why one cell is empty (tooltip, drill-down). */
export function positionsCellReason(a: PositionsSide, b: PositionsSide): string {
  return `not comparable under positions: ${describePositionsPair(a, b)}; ${POSITIONS_ADVICE}`;
}

/**
 * The one warning of a job whose grid has incomparable pairs. Every unordered pair of names counts
 * once (a dynamics grid holds conv1 × fc and fc × conv1). Up to two pairs are named as pairs:
 * "layer conv1 (N·H·W = 25 600 datapoints) and layer fc (400 datapoints): positions compares layers
 * at the same spatial size only; choose mean-pool or flatten to compare them; its cells are left
 * empty". More read better as the groups of equal size whose cells between them are empty:
 * "layers at different sizes under positions: layer conv1, layer conv2 (N·H·W = 6 400 datapoints);
 * layer conv3 (N·H·W = 1 600 datapoints); layer fc1, layer logits (400 datapoints): positions
 * compares …; the cells between these groups (8 pairs) are left empty".
 */
export function positionsWarning(pairs: readonly (readonly [PositionsSide, PositionsSide])[]): string | null {
  const seen = new Set<string>();
  const unique: (readonly [PositionsSide, PositionsSide])[] = [];
  for (const pair of pairs) {
    const key = JSON.stringify([pair[0].name, pair[1].name].sort());
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(pair);
  }
  if (unique.length === 0) return null;
  if (unique.length <= 2) {
    return `${unique.map(([a, b]) => describePositionsPair(a, b)).join('; ')}: ${POSITIONS_ADVICE}; ${unique.length === 1 ? 'its cells are' : 'their cells are'} left empty`;
  }
  // Groups of equal datapoint count, largest first, each naming its layers once.
  const groups = new Map<number, { conv: boolean; names: string[] }>();
  for (const side of unique.flat()) {
    const group = groups.get(side.datapoints) ?? { conv: side.conv, names: [] };
    if (!group.names.includes(side.name)) group.names.push(side.name);
    groups.set(side.datapoints, group);
  }
  const listed = [...groups.entries()]
    .sort(([x], [y]) => y - x)
    .map(([datapoints, g]) => `${g.names.join(', ')} (${describeDatapoints({ datapoints, conv: g.conv })})`);
  return `layers at different sizes under positions: ${listed.join('; ')}: ${POSITIONS_ADVICE}; the cells between these groups (${unique.length} pairs) are left empty`;
}
