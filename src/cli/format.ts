// Plain-text tables for the CLI (the --json output carries the same numbers at full precision).

import type { FreezeStep } from '../analysis/baseline';
import { drawsOf, pText, undecidedText } from '../analysis/chanceDefs';
import type { Baseline, CrossResult, DynamicsResult, PairResult } from '../analysis/types';

const fixed = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(6));

function table(rowLabels: string[], columnLabels: string[], values: (number | null)[][]): string {
  const width = Math.max(8, ...columnLabels.map((l) => l.length)) + 1;
  const labelWidth = Math.max(...rowLabels.map((l) => l.length), 1) + 2;
  const header = ' '.repeat(labelWidth) + columnLabels.map((l) => l.padStart(width)).join('');
  const lines = values.map(
    (row, i) => rowLabels[i].padEnd(labelWidth) + row.map((v) => (v !== null && Number.isFinite(v) ? v.toFixed(4) : '—').padStart(width)).join(''),
  );
  return [header, ...lines].join('\n');
}

export function formatPair(r: PairResult, nameA: string, nameB: string): string {
  const lines = [
    `A            ${nameA}`,
    `B            ${nameB}`,
    `metric       ${r.metric}`,
    `similarity   ${fixed(r.similarity)}    ${r.conventions.summary}`,
  ];
  if (r.baseline) lines.push(`chance       ${describeChance(r.baseline)}`);
  if (r.mean98 !== null) lines.push(`mean98       ${fixed(r.mean98)}    (google/svcca's "mean": ρ up to 98% of Σρ)`);
  if (r.meanSquared !== null) lines.push(`mean ρ²      ${fixed(r.meanSquared)}`);
  lines.push(`kept         ${r.kept[0]} / ${r.kept[1]}`);
  lines.push(`neurons      ${r.neurons[0]} / ${r.neurons[1]}`);
  lines.push(`datapoints   ${r.datapoints}`);
  if (r.dropped[0] + r.dropped[1] > 0) lines.push(`dropped      ${r.dropped[0]} / ${r.dropped[1]}  (variance below ε)`);
  if (r.rho.length > 0) {
    const shown = r.rho
      .slice(0, 10)
      .map((v) => v.toFixed(4))
      .join(' ');
    lines.push(`ρ            ${shown}${r.rho.length > 10 ? ` … (${r.rho.length} in all)` : ''}`);
  }
  const c = r.conventions;
  lines.push(`conventions  layout ${c.layout.join(' / ')}${c.convReduction ? `, conv ${c.convReduction}` : ''}, ε = ${c.epsilon}, ${c.backend} ${c.precision}`);
  return lines.join('\n');
}

/** "0.3121 ± 0.0154 (z 1.2, p 0.1429; 20 permutations of B's datapoints, seed 1)": a chance level in one phrase. */
export function describeChance(b: Baseline): string {
  const z = b.z === null ? '—' : b.z.toFixed(1);
  return `${b.mean.toFixed(4)} ± ${b.sd.toFixed(4)} (z ${z}, p ${pText(b, 4)}; ${b.permutations} ${drawsOf(b.null)}, seed ${b.seed})${b.nullNote ? `; ${b.nullNote}` : ''}`;
}

const chanceMeans = (grid: (Baseline | null)[][]) => grid.map((row) => row.map((b) => b?.mean ?? null));

/** The chance tables' heading: the draws per cell and which null(s) the cells used. */
function chanceNote(grids: (Baseline | null)[][][]): string {
  const cells = grids.flat(2).filter((b): b is Baseline => b !== null);
  const first = cells[0];
  const gaussian = cells.filter((b) => b.null === 'gaussian').length;
  const kinds =
    gaussian === cells.length || gaussian === 0
      ? drawsOf(first.null)
      : `draws per cell: the Gaussian null in ${gaussian} cells, permutations of B's datapoints in ${cells.length - gaussian}`;
  const notes = [...new Set(cells.flatMap((b) => (b.nullNote ? [b.nullNote] : [])))];
  return `chance: mean of ${first.permutations} ${kinds}, seed ${first.seed}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

const firstBaseline = (grids: (Baseline | null)[][][]) => grids.flat(2).find((b): b is Baseline => b !== null) ?? null;

export function formatDynamics(r: DynamicsResult): string {
  const parts = [`metric ${r.metric}; values[t][i][j] = sim(layer i at step t, layer j at step ${r.reference}); ${r.conventions.summary}`];
  const first = r.baseline ? firstBaseline(r.baseline) : null;
  r.steps.forEach((step, t) => {
    parts.push(`\nstep ${step}  (rows: layer at step ${step}; columns: layer at step ${r.reference})`);
    parts.push(table(r.layers, r.layers, r.values[t]));
    // Cells a bad array leaves missing ("—"), named with the array and what is wrong with it.
    for (const b of r.badArrays ?? []) {
      if (b.step === r.reference) parts.push(`missing: column ${b.layer} (${b.source}: ${b.problem})${step === r.reference ? ` and row ${b.layer}` : ''}`);
      else if (b.step === step) parts.push(`missing: row ${b.layer} (${b.source}: ${b.problem})`);
    }
    if (r.baseline && first) {
      parts.push(`step ${step}  ${chanceNote(r.baseline)}`);
      parts.push(table(r.layers, r.layers, chanceMeans(r.baseline[t])));
    }
  });
  return parts.join('\n');
}

/** The freeze step of every layer, with its chance level where one was computed. */
export function formatFreeze(freeze: readonly (FreezeStep & { layer: string })[], threshold: number, reference: number): string {
  const width = Math.max(...freeze.map((f) => f.layer.length), 5) + 2;
  const lines = [`freeze steps (each layer stays ≥ ${threshold} against itself at step ${reference} from this step on)`];
  for (const f of freeze) {
    if (f.undecided) {
      lines.push(`${f.layer.padEnd(width)}${undecidedText(f.undecided)}`);
      continue;
    }
    if (f.step === null) {
      lines.push(`${f.layer.padEnd(width)}never`);
      continue;
    }
    const chance = f.baseline
      ? `; chance ${f.baseline.mean.toFixed(4)} ± ${f.baseline.sd.toFixed(4)}: the threshold is ${f.aboveChance ? 'above' : 'NOT above'} chance + 2 sd`
      : '';
    lines.push(`${f.layer.padEnd(width)}step ${f.step} (similarity ${fixed(f.similarity)}${chance})`);
  }
  return lines.join('\n');
}

export function formatCross(r: CrossResult): string {
  const parts = [
    `metric ${r.metric}; step ${r.step}; values[i][j] = sim(A's layer i, B's layer j); ${r.conventions.summary}`,
    '(rows: A; columns: B)',
    table(r.layersA, r.layersB, r.values),
  ];
  // Cells a bad array leaves missing ("—"), named with the array and what is wrong with it.
  for (const b of r.badArrays ?? []) parts.push(`missing: ${b.side === 'B' ? 'column' : 'row'} ${b.layer} (${b.source}: ${b.problem})`);
  const first = r.baseline ? firstBaseline([r.baseline]) : null;
  if (r.baseline && first) parts.push(chanceNote([r.baseline]), table(r.layersA, r.layersB, chanceMeans(r.baseline)));
  return parts.join('\n');
}
