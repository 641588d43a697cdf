// `node bin/run-ts.mjs scripts/bench-demo.ts [--json FILE]`
//
// How long the shipped demo (public/demo/index.json's first entry) takes to compute: the learning
// dynamics of its first run (every layer x layer pair at every checkpoint, as the page computes
// them) and the across-runs grid, on the CPU float64 path (the page's path where no GPU is usable;
// the GPU path is measured by scripts/bench-webgpu.ts), in this process, one thread. Reported: the time to factor the reference step and
// compare the first checkpoint (the first complete heatmap row set), the time per checkpoint, the
// total; wall clock and this process's CPU time (on a machine shared with other work the CPU time
// is what an idle machine's wall clock would be), with the load average, so runs can be compared.
// The budget in docs/demo.md: the whole demo within 30 s on the CPU path of a 2-core machine.

import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cpuBackend } from '../src/analysis/backend';
import { computeCross, computeDynamics } from '../src/analysis/engine';
import { DEFAULT_OPTIONS } from '../src/analysis/types';
import { openBundlePath } from '../src/io/node';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEMO = join(ROOT, 'public', 'demo');
const args = process.argv.slice(2);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const backendName = 'cpu';

const clock = () => ({ wall: performance.now() / 1000, cpu: (process.cpuUsage().user + process.cpuUsage().system) / 1e6 });
const since = (start: { wall: number; cpu: number }) => {
  const now = clock();
  return { wall: +(now.wall - start.wall).toFixed(2), cpu: +(now.cpu - start.cpu).toFixed(2) };
};

const entry = (JSON.parse(readFileSync(join(DEMO, 'index.json'), 'utf8')) as { file: string }[])[0];
const backend = cpuBackend;
const loadBefore = loadavg()[0];

const start = clock();
const bundle = await openBundlePath(join(DEMO, entry.file));
const opened = since(start);
const rows: { step: number; wall: number; cpu: number }[] = [];
const dynStart = clock();
const dynamics = await computeDynamics(
  { bundle, run: bundle.runs[0] },
  DEFAULT_OPTIONS,
  { onValues: (t) => rows.push({ step: bundle.steps[t], ...since(dynStart) }) },
  backend,
);
const dynamicsTime = since(dynStart);
const crossStart = clock();
const cross =
  bundle.runs.length > 1 ? await computeCross({ a: { bundle, run: bundle.runs[0] }, b: { bundle, run: bundle.runs[1] } }, DEFAULT_OPTIONS, {}, backend) : null;
const crossTime = since(crossStart);
const total = since(start);

const pairs = dynamics.steps.length * dynamics.layers.length ** 2;
const report = {
  bundle: entry.file,
  backend: backendName,
  machine: { cores: cpus().length, model: cpus()[0]?.model, loadavg1_before: +loadBefore.toFixed(2), loadavg1_after: +loadavg()[0].toFixed(2) },
  shape: { steps: dynamics.steps.length, layers: dynamics.layers.length, datapoints: (bundle.manifest as { datapoints?: number } | null)?.datapoints, pairs },
  open_s: opened,
  first_checkpoint_s: rows[0],
  dynamics_s: dynamicsTime,
  cross_s: cross ? crossTime : null,
  total_s: total,
  per_checkpoint: rows,
};
console.log(
  `${entry.file}, ${backendName} backend, ${report.machine.cores} cores (load ${report.machine.loadavg1_before} → ${report.machine.loadavg1_after}): ` +
    `${dynamics.steps.length} checkpoints × ${dynamics.layers.length}² layers = ${pairs} pairs\n` +
    `  open ${opened.wall} s; first checkpoint (reference factored + step ${rows[0]?.step}) ${rows[0]?.wall} s wall / ${rows[0]?.cpu} s CPU\n` +
    `  learning dynamics ${dynamicsTime.wall} s wall / ${dynamicsTime.cpu} s CPU; across runs ${crossTime.wall} s / ${crossTime.cpu} s\n` +
    `  whole demo ${total.wall} s wall / ${total.cpu} s CPU (budget: 30 s on a 2-core machine's CPU path)`,
);
const out = value('--json');
if (out) writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
