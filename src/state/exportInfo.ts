// What an export says about itself: the fields written into every CSV (as leading "# key: value"
// lines), SVG (<metadata> and a footer line), PNG (tEXt chunks and the same footer) and the base of
// its file name ("digits_runA-dynamics-svcca-flatten"). Built from a grid job: its request (bundle,
// run, options, left-out layers) and, once finished, its result's provenance (content hash of the
// arrays read, which processor computed it). Pure.
//
// The file name says what tells two exports of the same view apart, so that exporting a CPU and a
// GPU job (or SVCCA and CKA, or k = 20 and 99% variance) never overwrites one with the other:
// bundle_run-view-metric[-conv reduction][-keep][-eps][-pwcca variant][-ref step]-backend-precision,
// e.g. "digits_runA-dynamics-svcca-flatten-k20-gpu-f32". Options at their defaults are left out.

import { arrayExtension } from '../io/formats';
import { optionsUsed, usesEpsilon, type OptionsUsed } from '../analysis/metricDefs';
import type { CrossExport, DynamicsExport } from '../analysis/provenance';
import { anyConv } from '../analysis/rules';
import { POSITIONS_ADVICE } from '../analysis/positions';
import { DEFAULT_OPTIONS, type AnalysisOptions, type Conventions } from '../analysis/types';
import { APP_NAME, APP_VERSION } from '../version';
import type { BundleInfo, CrossJobRequest, DynamicsJobRequest } from '../worker/protocol';
import type { GridJob } from './appStore';

export interface ExportInfo {
  /** File name without extension or the part that names one chart ("-step-100", "-convergence"). */
  base: string;
  /** Ordered "key → value" pairs, written into every export. */
  fields: [string, string][];
}

/** "digits_runA.npz" → "digits_runA" (any extension openArrays reads: "ckpt.pt" → "ckpt"); a folder name stays as it is. */
export function stem(name: string): string {
  const ext = arrayExtension(name);
  return ext ? name.slice(0, -ext.length) : name;
}

/** A file-name-safe part ("run 1/a" → "run-1-a"), keeping case, digits, dot, dash and underscore. */
export function filePart(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

const describeKeep = (keep: DynamicsExport['options']['keep']) =>
  keep === null ? null : keep.kind === 'variance' ? `variance ${keep.fraction}` : `k = ${keep.k}`;

function nameOf(bundles: readonly BundleInfo[], id: string): string {
  return bundles.find((b) => b.id === id)?.name ?? id;
}

function entriesOf(bundles: readonly BundleInfo[], id: string, dropped: readonly string[]) {
  const out = new Set(dropped);
  return (bundles.find((b) => b.id === id)?.entries ?? []).filter((e) => !out.has(e.layer));
}

/** "cpu-f64", "gpu-f32": which processor computed the numbers and in which precision (file names). */
export function computedPart(backend: 'cpu' | 'webgpu', precision: 'float64' | 'float32'): string {
  return `${backend === 'webgpu' ? 'gpu' : 'cpu'}-${precision === 'float64' ? 'f64' : 'f32'}`;
}

/**
 * The same before a job has finished: what the Backend setting asked for (CPU runs float64, GPU
 * float32), null for auto, which picks only when the job starts.
 */
export function requestedPart(backend: AnalysisOptions['backend']): string | null {
  return backend === 'cpu' ? computedPart('cpu', 'float64') : backend === 'webgpu' ? computedPart('webgpu', 'float32') : null;
}

/** The options a job's numbers depend on that differ from the defaults, as file-name parts ("k20", "v0.9", "eps1e-6", "paper"). */
export function optionParts(used: Pick<OptionsUsed, 'keep' | 'epsilon' | 'pwccaVariant'>): string[] {
  const d = DEFAULT_OPTIONS;
  const parts: string[] = [];
  const keep = used.keep;
  if (keep && !(keep.kind === 'variance' && d.keep.kind === 'variance' && keep.fraction === d.keep.fraction))
    parts.push(keep.kind === 'variance' ? `v${keep.fraction}` : `k${keep.k}`);
  if (used.epsilon !== null && used.epsilon !== d.epsilon) parts.push(`eps${used.epsilon}`);
  if (used.pwccaVariant !== null && used.pwccaVariant !== d.pwccaVariant) parts.push(used.pwccaVariant);
  return parts;
}

/**
 * The end of a pair's export file names (Compare two arrays, the drill-down): metric, conv
 * reduction, options off their defaults, backend and precision ("svcca-dft-k20-gpu-f32").
 */
export function pairExportTag(c: Conventions): string {
  const used = { keep: c.keep, epsilon: usesEpsilon(c.metric) ? c.epsilon : null, pwccaVariant: c.pwccaVariant };
  return [c.metric, c.convReduction, ...optionParts(used), computedPart(c.backend, c.precision)].filter((p) => p !== null).join('-');
}

/** The export description of a grid job (null when there is no job). */
export function gridExportInfo(job: GridJob | null, bundles: readonly BundleInfo[]): ExportInfo | null {
  if (!job) return null;
  const fields: [string, string][] = [];
  const add = (key: string, value: string | number | null | undefined) => {
    if (value !== null && value !== undefined && value !== '') fields.push([key, String(value)]);
  };
  const result = job.status === 'done' ? (job.result as (DynamicsExport | CrossExport) | null) : null;
  let base: string;
  let conv: boolean;
  const options = job.request.options;
  if (job.kind === 'dynamics') {
    const r = job.request as DynamicsJobRequest;
    const bundle = nameOf(bundles, r.bundle);
    conv = anyConv(entriesOf(bundles, r.bundle, r.dropped));
    base = filePart(`${stem(bundle)}${r.run === null ? '' : `_${r.run}`}`);
    add('view', 'learning dynamics: values[t][i][j] = sim(layer i at steps[t], layer j at the reference step)');
    add('bundle', bundle);
    add('run', r.run);
    add('steps', job.steps.join(' '));
    add('reference step', job.reference);
    add('left out', r.dropped.join(' '));
  } else {
    const r = job.request as CrossJobRequest;
    const a = nameOf(bundles, r.a.bundle);
    const b = nameOf(bundles, r.b.bundle);
    conv = anyConv(entriesOf(bundles, r.a.bundle, r.a.dropped)) || anyConv(entriesOf(bundles, r.b.bundle, r.b.dropped));
    const side = (name: string, run: string | null) => `${stem(name)}${run === null ? '' : `_${run}`}`;
    base = filePart(r.a.bundle === r.b.bundle ? `${side(a, r.a.run)}-vs-${r.b.run ?? 'self'}` : `${side(a, r.a.run)}-vs-${side(b, r.b.run)}`);
    add('view', "across runs: values[i][j] = sim(A's layer i, B's layer j) at one step");
    add('bundle A', a);
    add('run A', r.a.run);
    add('bundle B', b);
    add('run B', r.b.run);
    add('step', job.steps[0]);
    add('left out', [...r.a.dropped.map((l) => `A:${l}`), ...r.b.dropped.map((l) => `B:${l}`)].join(' '));
  }
  const used = result?.options ?? optionsUsed(options, conv);
  add('metric', used.metric);
  add('keep', describeKeep(used.keep));
  add('epsilon', used.epsilon);
  add('layout', used.layout);
  add('conv layout', used.convLayout);
  add('conv reduction', used.convReduction);
  add('pwcca variant', used.pwccaVariant);
  if (job.blank) {
    const empty = job.blank.flatMap((row, i) => row.flatMap((why, j) => (why ? [`${job.rows[i]} × ${job.cols[j]}`] : [])));
    add('empty cells', `${empty.join(', ')}: not comparable under positions (${POSITIONS_ADVICE})`);
  }
  add('computed on', result?.computed.reason ?? job.backend ?? (job.status === 'done' ? null : `not finished (${job.status})`));
  add('input hash', result ? `${result.inputHash} (SHA-256 of the ${result.inputArrays} arrays read, first 12 hex digits)` : null);
  add('app', `${APP_NAME} ${APP_VERSION}`);
  const kind = job.kind === 'dynamics' ? 'dynamics' : 'cross';
  // A reference step other than the last one changes every number of a dynamics grid.
  const lastStep = job.steps[job.steps.length - 1];
  const reference = job.kind === 'dynamics' && job.reference !== null && job.reference !== lastStep ? `ref${job.reference}` : null;
  const computed = result ? computedPart(result.computed.backend, result.computed.precision) : requestedPart(options.backend);
  const parts = [base, kind, used.metric, used.convReduction, ...optionParts(used), reference, computed];
  return { base: filePart(parts.filter((p) => p !== null && p !== '').join('-')), fields };
}

/** The fields as one short line for a chart's footer. */
export function footerLine(info: ExportInfo): string {
  const pick = (k: string) => info.fields.find(([key]) => key === k)?.[1];
  const hash = pick('input hash')?.split(' ')[0];
  const parts = [
    pick('bundle') ?? `${pick('bundle A')} × ${pick('bundle B')}`,
    pick('run') ? `run ${pick('run')}` : pick('run A') ? `runs ${pick('run A')} × ${pick('run B')}` : null,
    pick('metric'),
    pick('conv reduction') ? `conv ${pick('conv reduction')}` : null,
    pick('keep'),
    pick('epsilon') ? `ε ${pick('epsilon')}` : null,
    hash ? `inputs ${hash}` : null,
    pick('app'),
  ];
  return parts.filter(Boolean).join(' · ');
}
