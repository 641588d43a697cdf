// Plain-text tables for the CLI (the --json output carries the same numbers at full precision).

import type { CrossResult, DynamicsResult, PairResult } from '../analysis/types';

const fixed = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(6));

function table(rowLabels: string[], columnLabels: string[], values: (number | null)[][]): string {
  const width = Math.max(8, ...columnLabels.map((l) => l.length)) + 1;
  const labelWidth = Math.max(...rowLabels.map((l) => l.length), 1) + 2;
  const header = ' '.repeat(labelWidth) + columnLabels.map((l) => l.padStart(width)).join('');
  const lines = values.map((row, i) => rowLabels[i].padEnd(labelWidth) + row.map((v) => (v !== null && Number.isFinite(v) ? v.toFixed(4) : "—").padStart(width)).join(''));
  return [header, ...lines].join('\n');
}

export function formatPair(r: PairResult, nameA: string, nameB: string): string {
  const lines = [
    `A            ${nameA}`,
    `B            ${nameB}`,
    `metric       ${r.metric}`,
    `similarity   ${fixed(r.similarity)}    ${r.conventions.summary}`,
  ];
  if (r.mean98 !== null) lines.push(`mean98       ${fixed(r.mean98)}    (google/svcca's "mean": ρ up to 98% of Σρ)`);
  if (r.meanSquared !== null) lines.push(`mean ρ²      ${fixed(r.meanSquared)}`);
  lines.push(`kept         ${r.kept[0]} / ${r.kept[1]}`);
  lines.push(`neurons      ${r.neurons[0]} / ${r.neurons[1]}`);
  lines.push(`datapoints   ${r.datapoints}`);
  if (r.dropped[0] + r.dropped[1] > 0) lines.push(`dropped      ${r.dropped[0]} / ${r.dropped[1]}  (variance below ε)`);
  if (r.rho.length > 0) {
    const shown = r.rho.slice(0, 10).map((v) => v.toFixed(4)).join(' ');
    lines.push(`ρ            ${shown}${r.rho.length > 10 ? ` … (${r.rho.length} in all)` : ''}`);
  }
  const c = r.conventions;
  lines.push(`conventions  layout ${c.layout.join(' / ')}${c.convReduction ? `, conv ${c.convReduction}` : ''}, ε = ${c.epsilon}, ${c.backend} ${c.precision}`);
  return lines.join('\n');
}

export function formatDynamics(r: DynamicsResult): string {
  const parts = [`metric ${r.metric}; values[t][i][j] = sim(layer i at step t, layer j at step ${r.reference}); ${r.conventions.summary}`];
  r.steps.forEach((step, t) => {
    parts.push(`\nstep ${step}  (rows: layer at step ${step}; columns: layer at step ${r.reference})`);
    parts.push(table(r.layers, r.layers, r.values[t]));
  });
  return parts.join('\n');
}

export function formatCross(r: CrossResult): string {
  return [
    `metric ${r.metric}; step ${r.step}; values[i][j] = sim(A's layer i, B's layer j); ${r.conventions.summary}`,
    '(rows: A; columns: B)',
    table(r.layersA, r.layersB, r.values),
  ].join('\n');
}
