// Names at the ends of a chart's lines (convergence curves, per-class curves): each name sits beside
// its line's last point, moved only as much as it takes for the names not to overlap, with a leader
// back to the point when it moved. Lines that end within a label's height of each other share one
// name where one short name says them all (ten classes at ρ ≈ 1: "class 0–9", not ten names
// stacked down the axis away from where the lines end); otherwise each keeps its own, spread as
// little as possible.
// Pure: pixel positions in, positions and texts out.

/** One line's end: its name and the y (px) of its last point. */
export interface LineEnd {
  name: string;
  y: number;
}

export interface PlacedEndLabel {
  /** Indices (into the ends given) of the lines this label names: one, or several that end together. */
  members: number[];
  /** What the label says: the name, or the names of lines that end together ("class 0–9"). */
  text: string;
  /** Every name it stands for, in full. */
  names: string[];
  /** Where its lines end (px; their mean when several) and where the label sits. */
  target: number;
  y: number;
}

export interface EndLabelOptions {
  /** Vertical distance between two labels' baselines (px). */
  gap: number;
  /** Band the labels stay in (px, lo < hi). */
  lo: number;
  hi: number;
  /** Ends closer than this (px) are one point on screen: their lines share a label where the
   *  lines ending within `gap` of each other cannot (their names together too long). */
  together: number;
  /** Room for a label's text (px) and the width of a text (px). */
  maxWidth: number;
  textWidth: (text: string) => number;
}

/**
 * Groups lines whose ends lie within one label's height (`gap`) of each other under one label where
 * its text fits, else those that coincide (`together`), else one label per line; then places the
 * labels as near their lines' ends as the gap allows: the y minimising Σ (y − target)² with
 * consecutive labels at least `gap` apart, inside [lo, hi] (a crowd spreads around where its lines
 * end, not downwards from the top one). null when they cannot all fit.
 */
export function placeEndLabels(ends: readonly LineEnd[], options: EndLabelOptions): PlacedEndLabel[] | null {
  const order = ends.map((_, i) => i).sort((a, b) => ends[a].y - ends[b].y || a - b);
  const label = (group: readonly number[]): Omit<PlacedEndLabel, 'y'> => {
    const members = [...group].sort((a, b) => a - b);
    const names = members.map((i) => ends[i].name);
    return { members, names, text: groupText(names), target: members.reduce((sum, i) => sum + ends[i].y, 0) / members.length };
  };
  const fits = (l: Omit<PlacedEndLabel, 'y'>) => l.members.length === 1 || options.textWidth(l.text) <= options.maxWidth;
  const labels = runsWithin(order, ends, options.gap).flatMap((bundle) => {
    const whole = label(bundle);
    if (fits(whole)) return [whole];
    return runsWithin(bundle, ends, options.together).flatMap((point) => {
      const shared = label(point);
      return fits(shared) ? [shared] : point.map((i) => label([i]));
    });
  });
  if (labels.length === 0) return [];
  if ((labels.length - 1) * options.gap > options.hi - options.lo) return null;
  const ys = separate(
    labels.map((l) => l.target),
    options.gap,
    options.lo,
    options.hi,
  );
  return labels.map((l, k) => ({ ...l, y: ys[k] }));
}

/** Consecutive ends (indices in ascending y) cut into runs that each span at most `span` px. */
function runsWithin(order: readonly number[], ends: readonly LineEnd[], span: number): number[][] {
  const runs: number[][] = [];
  for (const i of order) {
    const run = runs[runs.length - 1];
    if (run && ends[i].y - ends[run[0]].y <= span) run.push(i);
    else runs.push([i]);
  }
  return runs;
}

/**
 * Positions for ascending targets, at least `gap` apart, within [lo, hi], as close to the targets
 * as possible (least squares). With z_k = y_k − k·gap the gap constraint is z non-decreasing: the
 * isotonic regression of targets_k − k·gap, then clamped to the band (which keeps it optimal).
 */
export function separate(targets: readonly number[], gap: number, lo: number, hi: number): number[] {
  const n = targets.length;
  // Blocks of pooled values: mean of their shifted targets, and how many they hold.
  const blocks: { mean: number; count: number }[] = [];
  targets.forEach((t, k) => {
    let block = { mean: t - k * gap, count: 1 };
    while (blocks.length > 0 && blocks[blocks.length - 1].mean >= block.mean) {
      const last = blocks.pop()!;
      const count = last.count + block.count;
      block = { mean: (last.mean * last.count + block.mean * block.count) / count, count };
    }
    blocks.push(block);
  });
  const top = Math.max(lo, hi - (n - 1) * gap);
  const out: number[] = [];
  for (const b of blocks) for (let c = 0; c < b.count; c++) out.push(Math.min(top, Math.max(lo, b.mean)) + out.length * gap);
  return out;
}

/**
 * The text of a label standing for several lines: their names with the words they share said once
 * and runs of numbers as ranges ("class 0", "class 1", "class 2", "class 5" → "class 0–2, 5").
 */
export function groupText(names: readonly string[]): string {
  if (names.length === 1) return names[0];
  // The shared prefix, up to and with its last space ("class "), so words are never split.
  let prefix = names[0].slice(0, names[0].lastIndexOf(' ') + 1);
  while (prefix !== '' && !names.every((n) => n.startsWith(prefix) && n.length > prefix.length))
    prefix = prefix.slice(0, prefix.slice(0, -1).lastIndexOf(' ') + 1);
  return `${prefix}${numberRuns(names.map((n) => n.slice(prefix.length))).join(', ')}`;
}

/** Consecutive whole numbers as ranges ("0–3"; two as "0, 1"), anything else as it is, in the order given. */
function numberRuns(rests: readonly string[]): string[] {
  const parts: (string | { first: number; last: number })[] = [];
  for (const rest of rests) {
    const value = /^\d+$/.test(rest) ? Number(rest) : null;
    const last = parts[parts.length - 1];
    if (value !== null && typeof last === 'object' && value === last.last + 1) last.last = value;
    else parts.push(value === null ? rest : { first: value, last: value });
  }
  return parts.map((p) =>
    typeof p === 'string' ? p : p.first === p.last ? String(p.first) : p.last === p.first + 1 ? `${p.first}, ${p.last}` : `${p.first}–${p.last}`,
  );
}
