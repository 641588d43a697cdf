// `node bin/run-ts.mjs scripts/bench-baseline.ts [--permutations P] [--metric M] [--conv R] [--null auto|gaussian|permutation] [--compare-permutation] [--diagonal-only] [--repeat N] [--json FILE]`
//
// What the chance level (src/analysis/baseline.ts) adds to a learning-dynamics job (the
// target: P = 20 adds at most 50%), as ratios measured in one run: the demo's first run
// (public/demo, CPU float64 path, one thread) computed without a baseline, with the baseline of
// the convergence curves' cells ('diagonal': each layer against its own reference) and with the
// baseline of every cell ('all'), under the null --null names (default auto: the Gaussian null for
// cca and svcca). --compare-permutation also times both with the permutation null (minutes through
// the DFT). The jobs run interleaved N times (--repeat, default 3; permutation jobs once) after a
// warm-up job and the fastest run of each counts; the CPU time of this process is reported beside the wall clock (on a
// shared machine the CPU time is what an idle machine's wall clock would be, and the fastest of a
// few runs what is left of the noise other processes add), and the ratios are of CPU times.

import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cpuBackend } from '../src/analysis/backend';
import { computeDynamics } from '../src/analysis/engine';
import { METRICS } from '../src/analysis/metricDefs';
import {
  BASELINE_NULLS,
  CONV_REDUCTIONS,
  DEFAULT_OPTIONS,
  type AnalysisOptions,
  type BaselineNull,
  type BaselineRequest,
  type ConvReduction,
  type Metric,
} from '../src/analysis/types';
import { openBundlePath } from '../src/io/node';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEMO = join(ROOT, 'public', 'demo');
const args = process.argv.slice(2);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const permutations = Number(value('--permutations') ?? 20);
const metric = (value('--metric') ?? DEFAULT_OPTIONS.metric) as Metric;
const conv = (value('--conv') ?? DEFAULT_OPTIONS.convReduction) as ConvReduction;
const nullKind = (value('--null') ?? 'auto') as BaselineNull;
const repeat = Math.max(1, Number(value('--repeat') ?? 3));
if (!METRICS.includes(metric) || !CONV_REDUCTIONS.includes(conv) || !BASELINE_NULLS.includes(nullKind))
  throw new Error(`--metric one of ${METRICS.join(', ')}; --conv one of ${CONV_REDUCTIONS.join(', ')}; --null one of ${BASELINE_NULLS.join(', ')}`);

const clock = () => ({ wall: performance.now() / 1000, cpu: (process.cpuUsage().user + process.cpuUsage().system) / 1e6 });
const since = (start: { wall: number; cpu: number }) => {
  const now = clock();
  return { wall: +(now.wall - start.wall).toFixed(2), cpu: +(now.cpu - start.cpu).toFixed(2) };
};

const entry = (JSON.parse(readFileSync(join(DEMO, 'index.json'), 'utf8')) as { file: string }[])[0];
const bundle = await openBundlePath(join(DEMO, entry.file));
const options: AnalysisOptions = { ...DEFAULT_OPTIONS, metric, convReduction: conv, backend: 'cpu' };
const run = bundle.runs[0];

/** Every timed job draws from a seed of its own: the Gaussian null's memo of block draws
 *  (src/math/canonicalNull.ts) must not carry one job's draws into the next. */
let seed = 0;

async function once(request: BaselineRequest | null) {
  const baseline = request ? { ...request, seed: ++seed } : null;
  const start = clock();
  const result = await computeDynamics({ bundle, run, baseline }, options, {}, cpuBackend);
  const nulls = result.baseline?.flat(2).reduce((n, b) => (b?.null === 'gaussian' ? n + 1 : n), 0) ?? 0;
  return { time: since(start), cells: result.values.length * result.layers.length ** 2, gaussianCells: nulls };
}

type Timed = Awaited<ReturnType<typeof once>>;
const faster = (a: Timed | undefined, b: Timed) => (a && a.time.cpu <= b.time.cpu ? a : b);

const loadBefore = loadavg()[0];
await once(null); // warm-up: JIT, file reads

/** The jobs interleaved (without, diagonal, every cell) `repeat` times, the fastest of each counts:
 *  a job's time depends on what ran before it (JIT, garbage collection), so no kind runs only first. */
const requests: Record<string, BaselineRequest | null> = {
  plain: null,
  diagonal: { permutations, seed: 1, cells: 'diagonal', null: nullKind },
  ...(args.includes('--diagonal-only') ? {} : { all: { permutations, seed: 1, cells: 'all', null: nullKind } }),
};
const best: Record<string, Timed> = {};
for (let r = 0; r < repeat; r++) for (const [name, request] of Object.entries(requests)) best[name] = faster(best[name], await once(request));
const plain = best.plain;
const ratio = (t: { cpu: number }) => +(t.cpu / plain.time.cpu).toFixed(3);

/** Diagonal and every cell under one null, as ratios to the job without. */
function summary(kind: BaselineNull, diagonal: Timed, all: Timed | undefined) {
  return {
    null: kind,
    seconds: { diagonal: diagonal.time, all: all?.time ?? null },
    /** Cells the Gaussian null took ('all'; the rest were permuted). */
    gaussianCells: all?.gaussianCells ?? diagonal.gaussianCells,
    /** Job time with the baseline / job time without (CPU time): 1.5 is the target, "at most 50% extra". */
    ratio: { diagonal: ratio(diagonal.time), all: all ? ratio(all.time) : null },
  };
}

const main = summary(nullKind, best.diagonal, best.all);
// --compare-permutation: the permutation null once each (P times the comparisons: minutes through the DFT).
let permutation = null;
if (args.includes('--compare-permutation') && nullKind !== 'permutation') {
  const diagonal = await once({ ...requests.diagonal!, null: 'permutation' });
  const all = requests.all ? await once({ ...requests.all, null: 'permutation' }) : undefined;
  permutation = summary('permutation', diagonal, all);
}
const report = {
  bundle: entry.file,
  run,
  metric,
  convReduction: conv,
  permutations,
  repeat,
  cells: plain.cells,
  seconds: { plain: plain.time },
  nulls: permutation ? [main, permutation] : [main],
  load: { before: loadBefore, after: loadavg()[0] },
};
console.log(JSON.stringify(report, null, 2));
const out = value('--json');
if (out) writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
