// The heatmaps "above chance" (a view's colour mode once the chance level is on): each cell's
// similarity minus its chance level (the mean of the permuted similarities), or its z, on a
// diverging scale centred on 0; cells without a chance level are blank with the reason, never 0.
// Also the chance level's words (tooltip, caption) and the long CSV with the chance columns.
// Pure: grids in, grids and text out.

import { drawsOf, pText } from '../analysis/chanceDefs';
import type { Baseline } from '../analysis/types';
import type { HeatMode } from '../state/appStore';
import { dataDomain, symmetricDomain, type ColourScale, type Domain } from './charts/heatmapLayout';
import { cellValueLine, exact, fixed } from './format';
import { csvComment, csvNumber, csvText } from '../io/csv';

type Grid<T> = readonly (readonly (T | null)[])[];

export const HEAT_MODES: readonly { mode: HeatMode; label: string }[] = [
  { mode: 'similarity', label: 'similarity' },
  { mode: 'above-chance', label: 'similarity − chance' },
  { mode: 'z', label: 'z (vs chance)' },
];

/** What a heatmap shows in a mode: per checkpoint its values and blank cells, one colour scale. */
export interface ShownHeat {
  values: (number | null)[][][];
  /** Per checkpoint: why a cell stays empty for good (the grid's own blanks, and cells without a chance level). */
  blanks: ((string | null)[][] | null)[];
  domain: Domain;
  scale: ColourScale;
  legendTitle: string;
  /** The caption's sentence on the colours. */
  colour: string;
  /** Cells with a similarity but no chance level, over every checkpoint. */
  missing: number;
}

const range = (d: Domain) => `[${fixed(d[0], d[0] % 1 === 0 ? 0 : 2)}, ${fixed(d[1], d[1] % 1 === 0 ? 0 : 2)}]`;

/**
 * The heatmap of `values[t][i][j]` in `mode`. `baseline[t][i][j]` is the job's chance level (null
 * while it runs: cells then stay pending); `missingWhy` is what a cell without one says.
 */
export function shownHeat(
  mode: HeatMode,
  metric: string,
  values: Grid<number>[],
  baseline: Grid<Baseline>[] | null,
  blank: Grid<string> | null,
  domainMode: 'fixed' | 'fit',
  finished: boolean,
  missingWhy: string,
): ShownHeat {
  if (mode === 'similarity') {
    const domain: Domain = domainMode === 'fit' ? dataDomain(values) : [0, 1];
    return {
      values: values.map((g) => g.map((row) => [...row])),
      blanks: values.map(() => (blank ? blank.map((row) => [...row]) : null)),
      domain,
      scale: 'viridis',
      legendTitle: metric,
      colour: `Colour: viridis on ${range(domain)}`,
      missing: 0,
    };
  }
  let missing = 0;
  const shown = values.map((grid, t) =>
    grid.map((row, i) =>
      row.map((v, j) => {
        const why = blank?.[i]?.[j] ?? null;
        if (why || v === null) return { v: null, why };
        const b = baseline?.[t]?.[i]?.[j] ?? null;
        if (!b) {
          if (!finished) return { v: null, why: null }; // the chance level comes with the finished job
          missing++;
          return { v: null, why: missingWhy };
        }
        if (mode === 'above-chance') return { v: v - b.mean, why: null };
        return b.z === null ? { v: null, why: 'z undefined: every draw of the null gave the same similarity (chance sd 0)' } : { v: b.z, why: null };
      }),
    ),
  );
  const out = shown.map((g) => g.map((row) => row.map((c) => c.v)));
  const blanks = shown.map((g) => (g.some((row) => row.some((c) => c.why)) ? g.map((row) => row.map((c) => c.why)) : null));
  if (mode === 'above-chance') {
    const domain: Domain = domainMode === 'fit' ? symmetricDomain(out, 0.01) : [-1, 1];
    return {
      values: out,
      blanks,
      domain,
      scale: 'diverging',
      legendTitle: `${metric} − chance`,
      colour: `Colour: ${metric} minus its chance level (mean of the null's similarities), red above chance, blue below, white at 0, on ${range(domain)}`,
      missing,
    };
  }
  const domain = symmetricDomain(out, 1);
  return {
    values: out,
    blanks,
    domain,
    scale: 'diverging',
    legendTitle: 'z vs chance',
    colour: `Colour: z = (${metric} − chance mean) / chance sd, red above chance, blue below, white at 0, on ${range(domain)} (z on its own scale; |z| > 2: beyond the spread of chance)`,
    missing,
  };
}

/** "chance 0.142 ± 0.005 (z 160, p 0.048, the least 20 draws give; 20 permutations of B's datapoints)": a cell's chance level. */
export function chanceLine(b: Baseline): string {
  return `chance ${b.mean.toFixed(3)} ± ${b.sd.toFixed(3)} (z ${b.z === null ? '—' : b.z.toFixed(1)}, p ${pText(b, 3)}; ${b.permutations} ${drawsOf(b.null)})`;
}

/**
 * A cell's value lines in a tooltip: what the colour shows first ("SVCCA − chance = 0.788000",
 * "z = 82.45"), the similarity, its chance level, or why it has none.
 */
export function cellLines(mode: HeatMode, metric: string, value: number | null, b: Baseline | null, blankWhy: string | null, missingWhy: string): string[] {
  const similarity = cellValueLine(metric, value, blankWhy);
  if (blankWhy || value === null) return [similarity];
  if (!b) return mode === 'similarity' ? [similarity] : [similarity, missingWhy];
  const shown =
    mode === 'above-chance'
      ? `${metric} − chance = ${exact(value - b.mean)}`
      : mode === 'z'
        ? `z = ${b.z === null ? 'undefined (chance sd 0)' : b.z.toFixed(2)}`
        : null;
  return [...(shown ? [shown] : []), similarity, chanceLine(b)];
}

/** The chance level's columns of the long CSVs. */
export const CHANCE_COLUMNS = ['chance mean', 'chance sd', 'z', 'p', 'permutations', 'seed'];

/** A chance level as CSV cells (empty where there is none). */
export function chanceCells(b: Baseline | null | undefined): string[] {
  return b ? [csvNumber(b.mean), csvNumber(b.sd), csvNumber(b.z), csvNumber(b.p), String(b.permutations), String(b.seed)] : CHANCE_COLUMNS.map(() => '');
}

/**
 * A long CSV with the chance level: "# key: value" lines, a header (`keys` naming the leading
 * columns, then the similarity and CHANCE_COLUMNS), then one line per cell (keys, value, chance).
 */
export function chanceCsv(
  keys: readonly string[],
  similarity: string,
  lines: readonly { keys: readonly string[]; value: number | null; baseline: Baseline | null }[],
  fields: readonly [string, string][] = [],
): string {
  const out = [...fields.map(([k, v]) => csvComment(k, v)), [...keys, similarity, ...CHANCE_COLUMNS].map(csvText).join(',')];
  for (const l of lines) out.push([...l.keys.map(csvText), csvNumber(l.value), ...chanceCells(l.baseline)].join(','));
  return `${out.join('\n')}\n`;
}

/** A grid's cells for chanceCsv: row label, column label, value, chance (row by row). */
export function gridChanceLines(rows: readonly string[], cols: readonly string[], values: Grid<number>, baseline: Grid<Baseline> | null) {
  return rows.flatMap((r, i) => cols.map((c, j) => ({ keys: [r, c], value: values[i]?.[j] ?? null, baseline: baseline?.[i]?.[j] ?? null })));
}
