// The CLI's many-seeds commands: `dynamics BUNDLE --all-runs` and `cross BUNDLE --all-pairs`:
// plain-text tables of mean ± sd per cell and the JSON with every run's (or
// pair's) values, the aggregate and the provenance of the grid commands (bundle, runs, options,
// content hash of the arrays read, processor, app version).

import type { BundleEntry } from '../io/types';
import { anyConv } from '../analysis/rules';
import { appInfo, computedBy, dynamicsEntries, inputHash, optionsUsed } from '../analysis/provenance';
import { formatSpread, type Spread } from '../analysis/seeds';
import type { SeedsCrossResult, SeedsDynamicsResult } from '../analysis/seedJobs';
import type { AnalysisOptions } from '../analysis/types';

function spreadTable(rowLabels: readonly string[], columnLabels: readonly string[], cells: readonly (readonly Spread[])[]): string {
  const text = cells.map((row) => row.map((s) => (s.mean === null ? '—' : s.sd === null ? s.mean.toFixed(4) : `${s.mean.toFixed(4)}±${s.sd.toFixed(4)}`)));
  const width = Math.max(15, ...columnLabels.map((l) => l.length), ...text.flat().map((t) => t.length)) + 1;
  const labelWidth = Math.max(...rowLabels.map((l) => l.length), 1) + 2;
  const header = ' '.repeat(labelWidth) + columnLabels.map((l) => l.padStart(width)).join('');
  return [header, ...text.map((row, i) => rowLabels[i].padEnd(labelWidth) + row.map((t) => t.padStart(width)).join(''))].join('\n');
}

export function formatSeedsDynamics(r: SeedsDynamicsResult): string {
  const parts = [
    `metric ${r.metric}; runs ${r.runs.join(', ')}; each run against its own reference step (${r.references.join(', ')}); cells: mean ± sd over ${r.runs.length} runs; ${r.conventions.summary}`,
  ];
  r.steps.forEach((step, t) => {
    parts.push(`\nstep ${step}  (rows: layer at step ${step}; columns: layer at the reference step)`);
    parts.push(spreadTable(r.layers, r.layers, r.cells[t]));
  });
  parts.push(`\nfreeze step (stays ≥ ${r.threshold} from this step on), per run (${r.runs.join(', ')}):`);
  const width = Math.max(...r.layers.map((l) => l.length)) + 2;
  for (const f of r.freeze) {
    const perRun = f.steps.map((s) => (s === null ? 'never' : String(s))).join(', ');
    const s = f.spread;
    const summary = s.mean === null ? 'never' : `mean ${s.mean.toFixed(1)}, min ${s.min}, max ${s.max} (${s.n} of ${r.runs.length} runs)`;
    parts.push(`${f.layer.padEnd(width)}${perRun.padEnd(24)}${summary}`);
  }
  return parts.join('\n');
}

export function formatSeedsCross(r: SeedsCrossResult): string {
  const width = Math.max(...r.layers.map((l) => l.length)) + 2;
  return [
    `metric ${r.metric}; step ${r.step}; values[i][j] = sim(A's layer i, B's layer j) over ${r.pairs.length} pair${r.pairs.length === 1 ? '' : 's'} of runs (A before B: ${r.pairs.map((p) => `${p.a}×${p.b}`).join(', ')}); mean ± sd; ${r.conventions.summary}`,
    '(rows: A; columns: B)',
    spreadTable(r.layers, r.layers, r.cells),
    '\nthe same layer across seeds (diagonal), over pairs of runs:',
    ...r.diagonal.map(
      (d) => `${d.layer.padEnd(width)}${formatSpread(d.spread, 4)}  min ${d.spread.min?.toFixed(4) ?? '—'}  max ${d.spread.max?.toFixed(4) ?? '—'}`,
    ),
  ].join('\n');
}

async function provenanceFields(read: BundleEntry[], conventions: SeedsDynamicsResult['conventions'], options: AnalysisOptions, reason: string) {
  return {
    options: optionsUsed(options, anyConv(read)),
    inputHash: await inputHash(read),
    inputArrays: read.length,
    computed: computedBy(conventions, reason),
    app: appInfo(),
  };
}

/** The --json object of `dynamics --all-runs`: the aggregate, every run's values, and where they came from. */
export async function seedsDynamicsJson(
  r: SeedsDynamicsResult,
  job: { bundle: string; entries: readonly BundleEntry[]; options: AnalysisOptions; reason: string },
) {
  const read = r.runs.flatMap((run) => dynamicsEntries(job.entries, r.layers, run));
  return { analysis: 'dynamics over runs', bundle: job.bundle, ...r, ...(await provenanceFields(read, r.conventions, job.options, job.reason)) };
}

/** The --json object of `cross --all-pairs`. */
export async function seedsCrossJson(r: SeedsCrossResult, job: { bundle: string; entries: readonly BundleEntry[]; options: AnalysisOptions; reason: string }) {
  const read = r.runs.flatMap((run) =>
    r.layers.map((l) => job.entries.find((e) => e.run === run && e.step === r.step && e.layer === l)).filter((e): e is BundleEntry => !!e),
  );
  return { analysis: 'across runs, all pairs', bundle: job.bundle, ...r, ...(await provenanceFields(read, r.conventions, job.options, job.reason)) };
}
