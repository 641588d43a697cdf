// The CLI's class-sensitivity command (`svcca-lens classes`) and `compare --sweep-k`: flags, JSON and
// text. The numbers come from analysis/classes.ts and analysis/dimensionality.ts (CPU float64).

import { computeClassSensitivity, type ClassSensitivityResult, type ClassTarget } from '../analysis/classes';
import { sweepK, type SweepK } from '../analysis/dimensionality';
import { prepare } from '../analysis/prepare';
import { appInfo, dynamicsEntries, inputHash } from '../analysis/provenance';
import { chosenRun } from '../analysis/rules';
import type { Activation, AnalysisOptions } from '../analysis/types';
import type { Bundle } from '../io/types';
import { reduceToMatrix } from '../math/reduce';

export interface ClassFlags {
  layer?: string;
  target?: ClassTarget;
  logits?: string;
  threshold?: number;
}

export const CLASS_VALUE_FLAGS = ['--layer', '--target', '--logits', '--threshold'] as const;

/** Reads one of the classes command's flags into `flags` (the parser's own checks passed in). */
export function parseClassFlag(
  flags: ClassFlags,
  flag: string,
  value: string,
  number: (flag: string, value: string, check: (v: number) => boolean, what: string) => number,
  oneOf: <T extends string>(flag: string, value: string, allowed: readonly T[]) => T,
): void {
  if (flag === '--layer') flags.layer = value;
  else if (flag === '--target') flags.target = oneOf(flag, value, ['logits', 'indicator'] as const);
  else if (flag === '--logits') flags.logits = value;
  else if (flag === '--threshold') flags.threshold = number(flag, value, (v) => v >= 0 && v <= 1, 'a correlation in [0, 1]');
}

function classesText(r: ClassSensitivityResult): string {
  const target = r.target === 'logits' ? `the class logit (layer ${r.logitsLayer})` : 'the class indicator 1[label = c]';
  const lines = [`class sensitivity: ρ(layer after the SVD step, ${target}); ${r.classes.length} classes, ${r.steps.length} steps, ${r.datapoints} datapoints`];
  const width = Math.max(6, ...r.steps.map((s) => String(s).length)) + 1;
  r.layers.forEach((layer, l) => {
    lines.push('', `layer ${layer}  (rows: class; columns: step)`);
    lines.push('class'.padEnd(8) + r.steps.map((s) => String(s).padStart(width)).join('') + `  first ≥ ${r.threshold}`);
    r.classes.forEach((c, ci) => {
      const first = r.firstStep[l][ci];
      lines.push(String(c).padEnd(8) + r.values[l][ci].map((v) => v.toFixed(3).padStart(width)).join('') + `  ${first === null ? 'never' : `step ${first}`}`);
    });
    const order = r.classes
      .map((c, ci) => ({ c, first: r.firstStep[l][ci] }))
      .filter((e) => e.first !== null)
      .sort((a, b) => a.first! - b.first! || a.c - b.c);
    lines.push(`learned first: ${order.length === 0 ? `no class reaches ${r.threshold}` : order.map((e) => `${e.c} (${e.first})`).join(', ')}`);
  });
  lines.push('', 'k99 (SVD directions holding 99% of the variance; rows: step)');
  lines.push('step'.padEnd(8) + r.layers.map((l) => l.padStart(Math.max(6, l.length) + 1)).join(''));
  r.steps.forEach((s, t) => lines.push(String(s).padEnd(8) + r.k99[t].map((k, l) => String(k).padStart(Math.max(6, r.layers[l].length) + 1)).join('')));
  return lines.join('\n');
}

/** `svcca-lens classes BUNDLE`: the result, its JSON (with provenance) and text. */
export async function classesCommand(bundle: Bundle & { name: string }, run: string | undefined, flags: ClassFlags, options: AnalysisOptions) {
  const result = await computeClassSensitivity(
    {
      bundle,
      run,
      layers: flags.layer === undefined ? undefined : [flags.layer],
      target: flags.target ?? 'auto',
      logitsLayer: flags.logits,
      threshold: flags.threshold,
    },
    options,
  );
  const readRun = chosenRun(bundle, run);
  const read = dynamicsEntries(bundle.entries, [...new Set([...result.layers, ...(result.logitsLayer ? [result.logitsLayer] : [])])], readRun);
  // Built only for --json (commands.ts): the content hash reads the arrays again.
  const json = async () => ({
    analysis: 'class-sensitivity',
    ...result,
    bundle: bundle.name,
    run: readRun,
    options: { keep: options.keep, epsilon: options.epsilon, layout: options.layout, convReduction: result.convReduction },
    conventions: {
      keep: options.keep,
      epsilon: options.epsilon,
      convReduction: result.convReduction,
      summary: 'multiple correlation ‖Z y‖/‖y‖ of each layer (after the SVD step) with each class target; float64 CPU',
      backend: 'cpu',
      precision: 'float64',
    },
    inputHash: await inputHash(read),
    inputArrays: read.length,
    computed: {
      backend: 'cpu',
      precision: 'float64',
      reason: 'class sensitivity always runs in float64 on the CPU (its work is one SVD step per layer and checkpoint)',
    },
    app: appInfo(),
  });
  return { json, text: classesText(result), warnings: [...result.warnings] };
}

function sweepText(s: SweepK): string {
  const lines = [`sweep over k (SVD directions kept on both sides; k99: ${s.k99[0]} / ${s.k99[1]}; max k ${s.maxK})`, 'k        similarity'];
  // Compact: every k up to 10, then the k99s, then about 20 more on a log scale, always the last.
  const marks = new Set<number>([...s.k99, s.maxK]);
  const shown = s.points.filter((p, i) => p.k <= 10 || marks.has(p.k) || i % Math.max(1, Math.ceil(s.points.length / 20)) === 0);
  for (const p of shown) lines.push(`${String(p.k).padEnd(9)}${p.similarity.toFixed(4)}${s.k99.includes(p.k) ? '   ← k99' : ''}`);
  return lines.join('\n');
}

/** `compare A B --sweep-k`: conv layers flattened (mean-pooled with --conv meanpool), as class sensitivity reads them. */
export function pairSweepK(a: Activation, b: Activation, options: AnalysisOptions) {
  const reduction = options.convReduction === 'meanpool' ? 'meanpool' : 'flatten';
  const [pa, pb] = [prepare(a, options), prepare(b, options)];
  const sweep = sweepK(reduceToMatrix(pa.rep, reduction), reduceToMatrix(pb.rep, reduction));
  const warnings: string[] = [];
  if ((pa.rep.kind === 'conv' || pb.rep.kind === 'conv') && options.convReduction !== reduction) {
    warnings.push(
      `--sweep-k: conv layers are ${reduction === 'flatten' ? 'flattened' : 'mean-pooled'} for the sweep (the ${options.convReduction} reduction has no single SVD to sweep)`,
    );
  }
  return { json: { sweepK: sweep.points, k99: sweep.k99 }, text: sweepText(sweep), warnings };
}
