// The CLI's many-seeds commands: `dynamics BUNDLE --all-runs` and `cross BUNDLE --all-pairs`:
// plain-text tables of mean ± sd per cell and the JSON with every run's (or
// pair's) values, the aggregate and the provenance of the grid commands (bundle, runs, options,
// content hash of the arrays read, processor, app version).

import type { BundleEntry } from '../io/types';
import { anyConv } from '../analysis/rules';
import { appInfo, computedBy, crossEntries, dynamicsEntries, inputHash, optionsUsed } from '../analysis/provenance';
import { formatSpread, type Spread } from '../analysis/seeds';
import { formatP, requestOf, SEEDS_ALPHA, type ChanceRequestOf } from '../analysis/seedsChance';
import type { SeedsCrossResult, SeedsDynamicsResult } from '../analysis/seedJobs';
import type { AnalysisOptions } from '../analysis/types';
import { drawsOf, undecidedText } from '../analysis/chanceDefs';

/** "0.9123±0.0100", "0.9123" (n = 1) or "—". */
const meanSd = (s: Spread) => (s.mean === null ? '—' : s.sd === null ? s.mean.toFixed(4) : `${s.mean.toFixed(4)}±${s.sd.toFixed(4)}`);

/** "20 permutations of B's datapoints, seed 1" or "20 draws of the Gaussian null (…), seed 1" (and a fallback's note). */
function describeRequest(r: ChanceRequestOf): string {
  return `${r.permutations} ${drawsOf(r.null)}, seed ${r.seed}${r.nullNote ? `; ${r.nullNote}` : ''}`;
}

function spreadTable(rowLabels: readonly string[], columnLabels: readonly string[], cells: readonly (readonly Spread[])[]): string {
  const text = cells.map((row) => row.map(meanSd));
  const width = Math.max(15, ...columnLabels.map((l) => l.length), ...text.flat().map((t) => t.length)) + 1;
  const labelWidth = Math.max(...rowLabels.map((l) => l.length), 1) + 2;
  const header = ' '.repeat(labelWidth) + columnLabels.map((l) => l.padStart(width)).join('');
  return [header, ...text.map((row, i) => rowLabels[i].padEnd(labelWidth) + row.map((t) => t.padStart(width)).join(''))].join('\n');
}

export function formatSeedsDynamics(r: SeedsDynamicsResult): string {
  // A run whose job failed is in neither `runs` nor the cells: the header says how many the mean covers.
  const failed = r.failedRuns ?? [];
  const over =
    failed.length > 0
      ? `${r.runs.length} of ${r.runs.length + failed.length} runs (failed, left out: ${failed.map((f) => `run ${String(f.run)}`).join(', ')})`
      : `${r.runs.length} runs`;
  const parts = [
    `metric ${r.metric}; runs ${r.runs.join(', ')}; each run against its own reference step (${r.references.join(', ')}); cells: mean ± sd over ${over}; ${r.conventions.summary}`,
  ];
  const first = r.perRunBaseline?.flat(3).find((b) => b !== null);
  const request = first ? requestOf(first) : null;
  r.steps.forEach((step, t) => {
    parts.push(`\nstep ${step}  (rows: layer at step ${step}; columns: layer at the reference step)`);
    parts.push(spreadTable(r.layers, r.layers, r.cells[t]));
    if (r.chanceCells && request) {
      parts.push(`step ${step}  chance: each run's chance mean (${describeRequest(request)}), mean ± sd over runs`);
      parts.push(spreadTable(r.layers, r.layers, r.chanceCells[t]));
    }
  });
  parts.push(`\nfreeze step (stays ≥ ${r.threshold} from this step on), per run (${r.runs.join(', ')}):`);
  const width = Math.max(...r.layers.map((l) => l.length)) + 2;
  for (const f of r.freeze) {
    const perRun = f.steps.map((s, k) => (f.undecided?.[k] ? 'undecidable' : s === null ? 'never' : String(s))).join(', ');
    const s = f.spread;
    const open = f.undecided?.filter((u) => u !== null).length ?? 0;
    const undecidable = open > 0 ? `; undecidable in ${open} run${open === 1 ? '' : 's'} (a missing value could change it)` : '';
    const summary =
      (s.mean === null
        ? open > 0
          ? 'undecidable'
          : 'never'
        : `mean ${s.mean.toFixed(1)}${s.sd === null ? '' : ` ± ${s.sd.toFixed(1)}`}, min ${s.min}, max ${s.max} (${s.n} of ${r.runs.length} runs)`) +
      undecidable;
    const c = f.chance;
    const chance =
      c && c.frozen > 0
        ? `; chance there ${meanSd(c.chance)}: threshold above chance + 2 sd in ${c.aboveChanceRuns} of ${c.frozen} run${c.frozen === 1 ? '' : 's'}`
        : '';
    parts.push(`${f.layer.padEnd(width)}${perRun.padEnd(24)}${summary}${chance}`);
    // Why a run's freeze step is undecidable: the bad array's missing values and the range they leave.
    f.undecided?.forEach((u, k) => u && parts.push(`${''.padEnd(width)}run ${String(r.runs[k])}: ${undecidedText(u)}`));
  }
  return parts.join('\n');
}

export function formatSeedsCross(r: SeedsCrossResult): string {
  const width = Math.max(...r.layers.map((l) => l.length)) + 2;
  const parts = [
    `metric ${r.metric}; step ${r.step}; values[i][j] = sim(A's layer i, B's layer j) over ${r.pairs.length} pair${r.pairs.length === 1 ? '' : 's'} of runs (A before B: ${r.pairs.map((p) => `${p.a}×${p.b}`).join(', ')}); mean ± sd; ${r.conventions.summary}`,
    '(rows: A; columns: B)',
    spreadTable(r.layers, r.layers, r.cells),
    // Cells a bad array leaves missing in the pairs with its run: over the other pairs ("n" says how many), "—" where none.
    ...(r.badArrays ?? []).map((b) => `missing: run ${String(b.run)}'s layer ${b.layer} in the pairs with run ${String(b.run)} (${b.source}: ${b.problem})`),
    ...coverage(r),
  ];
  const request = r.chance?.flat().find((c) => c !== null)?.request;
  if (r.chance && request && r.chance.flat().some((c, k) => c !== null && k % (r.layers.length + 1) !== 0)) {
    parts.push(`chance: each pair's chance mean (${describeRequest(request)}), mean ± sd over pairs`);
    parts.push(
      spreadTable(
        r.layers,
        r.layers,
        r.chance.map((row) => row.map((c) => c?.chance ?? { mean: null, sd: null, min: null, max: null, n: 0 })),
      ),
    );
  }
  parts.push(
    '\nthe same layer across seeds (diagonal), over pairs of runs:',
    ...r.diagonal.map(
      (d) => `${d.layer.padEnd(width)}${formatSpread(d.spread, 4)}  min ${d.spread.min?.toFixed(4) ?? '—'}  max ${d.spread.max?.toFixed(4) ?? '—'}`,
    ),
  );
  if (r.chanceTest && request) parts.push('', formatDiagonalChance(r, request));
  return parts.join('\n');
}

/** With a failed pair: the pairs and runs the mean covers, and the pairs left out (why: the warning on stderr). */
function coverage(r: SeedsCrossResult): string[] {
  const failed = r.failedPairs ?? [];
  if (failed.length === 0) return [];
  const covered = r.runs.filter((run) => r.pairs.some((p) => p.a === run || p.b === run));
  const total = r.pairs.length + failed.length;
  return [
    `the mean covers ${r.pairs.length} of ${total} pairs of runs, runs ${covered.join(', ')} (${covered.length} of ${r.runs.length} runs); failed, left out: ${failed.map((f) => `runs ${String(f.a)} × ${String(f.b)}`).join(', ')}`,
  ];
}

/** The diagonal against chance: per layer similarity, chance, z, Stouffer's Z, p, Holm's p and the verdict. */
function formatDiagonalChance(r: SeedsCrossResult, request: ChanceRequestOf): string {
  const t = r.chanceTest!;
  const columns = ['similarity', 'chance', 'z per pair', 'Z', 'p', 'p (Holm)', `above chance (α ${SEEDS_ALPHA})`];
  const rows = r.diagonal.map((d) => {
    const c = d.chance;
    if (!c) return [meanSd(d.spread), '—', '—', '—', '—', '—', '—'];
    const verdict = c.aboveChance === null ? '—' : c.aboveChance ? 'yes' : 'no';
    const z = c.z.mean === null ? '—' : c.z.sd === null ? c.z.mean.toFixed(1) : `${c.z.mean.toFixed(1)}±${c.z.sd.toFixed(1)}`;
    return [meanSd(d.spread), meanSd(c.chance), z, c.combinedZ?.toFixed(2) ?? '—', formatP(c.p), formatP(c.pHolm), verdict];
  });
  const widths = columns.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k].length)) + 2);
  const labelWidth = Math.max(...r.diagonal.map((d) => d.layer.length), 5) + 2;
  return [
    `more than chance across seeds: each pair's chance level (${describeRequest(request)}); combined over the ${r.pairs.length} pair${r.pairs.length === 1 ? '' : 's'} by Stouffer (Z = Σz/√K, one-sided p), Holm over ${t.layers} layer${t.layers === 1 ? '' : 's'}, α = ${t.alpha}`,
    'layer'.padEnd(labelWidth) + columns.map((h, k) => h.padStart(widths[k])).join(''),
    ...rows.map((row, i) => r.diagonal[i].layer.padEnd(labelWidth) + row.map((v, k) => v.padStart(widths[k])).join('')),
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
  const perRun = r.runs.map((run) => dynamicsEntries(job.entries, r.layers, run));
  const inputHashes: Record<string, string> = {};
  for (const [k, run] of r.runs.entries()) inputHashes[String(run)] = await inputHash(perRun[k]);
  return {
    analysis: 'dynamics over runs',
    bundle: job.bundle,
    ...r,
    ...(await provenanceFields(perRun.flat(), r.conventions, job.options, job.reason)),
    inputHashes,
  };
}

/** The --json object of `cross --all-pairs`. */
export async function seedsCrossJson(r: SeedsCrossResult, job: { bundle: string; entries: readonly BundleEntry[]; options: AnalysisOptions; reason: string }) {
  // The arrays the aggregate read: a run in no pair that succeeded is not among them (as dynamics' runs).
  const read = r.runs
    .filter((run) => r.pairs.some((p) => p.a === run || p.b === run))
    .flatMap((run) => r.layers.map((l) => job.entries.find((e) => e.run === run && e.step === r.step && e.layer === l)).filter((e): e is BundleEntry => !!e));
  const inputHashes: Record<string, string> = {};
  for (const p of r.pairs) {
    const side = (run: string | null) => ({ entries: job.entries, layers: r.layers, run });
    inputHashes[`${p.a}×${p.b}`] = await inputHash(crossEntries(side(p.a), side(p.b), r.step));
  }
  return {
    analysis: 'across runs, all pairs',
    bundle: job.bundle,
    ...r,
    ...(await provenanceFields(read, r.conventions, job.options, job.reason)),
    inputHashes,
  };
}
