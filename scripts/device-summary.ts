// `node bin/run-ts.mjs scripts/device-summary.ts OUT_DIR [--peak-gflops G]` (on the GPU machine:
// `./node summary.mjs OUT_DIR`, bundled by scripts/device-bench.sh prepare): the last stage of a
// device run. Reads what the run left in OUT_DIR (sizes.json, bench-*.json, torch-reference.json,
// parity.json, stages.jsonl) and prints one table with every GPU target of the speed issue as a
// ratio measured in that run: per dynamics job and for the pair, svcca-lens against PyTorch f32
// (factor once, batched eigh) and GPU busy; the product kernel against the f32 peak and PyTorch's
// SGEMM; the 512 × 512 eigendecomposition; the parity verdict. A part that did not finish says so
// (its stage's exit status and limit). Writes the same as summary.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// ---------------------------------------------------------------------------------------------
// What the run's files hold (only the fields read here).

export interface Stage {
  stage: string;
  status: 'ok' | 'failed' | 'timeout' | 'skipped';
  rc: number | null;
  seconds: number;
  limit: number;
}

interface SizeSet {
  sizes: string;
  products: [number, number][];
  eigen: number[];
  pair: { n: number; m: number };
  jobs: { name: string; widths: number[]; steps: number; datapoints: number }[];
}

interface BenchJob {
  name: string;
  gpuSeconds: number;
  gpuMillisecondsByStage: Record<string, number> | null;
  maxDelta: number | null;
  [counter: string]: unknown;
}

interface BenchFile {
  result: {
    adapter: string;
    software: boolean;
    timestamps: boolean;
    products: { n: number; m: number; seconds: number; gflops: number }[];
    eigen: { n: number; strategy: string; chosen: boolean; seconds: number }[];
    pair: { n: number; m: number; seconds: number; coldSeconds: number };
    jobs: BenchJob[];
  };
}

interface TorchJob {
  name: string;
  torch_f32_s?: number;
  torch_f64_s?: number;
  numpy_f64_s?: number;
  torch_per_pair_f32_s?: number;
  torch_per_pair_pairs_timed?: number;
  torch_per_pair_pairs?: number;
}

interface TorchFile {
  torch: string | null;
  device: string;
  cuda?: boolean;
  complete?: boolean;
  jobs: TorchJob[];
  pair_factored_f32_s?: number;
  products?: { n: number; m: number; seconds: number; gflops: number }[];
  product_1024x10000_f32_gflops?: number;
  eigh?: { n: number; seconds: number }[];
  [key: string]: unknown;
}

interface ParityFile {
  adapter: string;
  complete: boolean;
  reports: Record<string, { cases: { delta: number; float64: boolean }[]; contract: number }>;
}

export interface DeviceRun {
  stages: Stage[];
  sizes: SizeSet | null;
  smoke: BenchFile | null;
  products: BenchFile | null;
  pair: BenchFile | null;
  eigen: BenchFile | null;
  /** By the job's index in sizes.jobs. */
  jobs: Map<number, BenchFile>;
  torch: TorchFile | null;
  parity: ParityFile | null;
}

function readJson<T>(dir: string, file: string): T | null {
  const path = join(dir, file);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null; // cut while being written (the writers replace whole files, but an older one may not)
  }
}

/** The reference's two stages (--part core, then --part extras) as one: the extras' fields added to each job. */
function mergeTorch(core: TorchFile | null, extras: TorchFile | null): TorchFile | null {
  if (!core || !extras) return core ?? extras;
  return { ...core, jobs: core.jobs.map((job) => ({ ...extras.jobs.find((e) => e.name === job.name), ...job })) };
}

/** Everything a device run left in `dir`; what is missing is null. */
export function readDeviceRun(dir: string): DeviceRun {
  const stagesPath = join(dir, 'stages.jsonl');
  const stages = existsSync(stagesPath)
    ? readFileSync(stagesPath, 'utf8')
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as Stage)
    : [];
  const sizes = readJson<SizeSet>(dir, 'sizes.json');
  const jobs = new Map<number, BenchFile>();
  sizes?.jobs.forEach((_, i) => {
    const file = readJson<BenchFile>(dir, `bench-job-${i}.json`);
    if (file) jobs.set(i, file);
  });
  return {
    stages,
    sizes,
    smoke: readJson(dir, 'bench-smoke.json'),
    products: readJson(dir, 'bench-products.json'),
    pair: readJson(dir, 'bench-pair.json'),
    eigen: readJson(dir, 'bench-eigen.json'),
    jobs,
    torch: mergeTorch(readJson(dir, 'torch-reference.json'), readJson(dir, 'torch-extras.json')),
    parity: readJson(dir, 'parity.json'),
  };
}

// ---------------------------------------------------------------------------------------------
// The targets.

export interface SummaryRow {
  what: string;
  ours: string;
  reference: string;
  ratio: string;
  target: string;
  verdict: string;
}

/** GPU-busy share of a job's wall time, from its timestamp queries (null without them). */
export function gpuBusy(job: BenchJob): number | null {
  if (!job.gpuMillisecondsByStage) return null;
  const ms = Object.values(job.gpuMillisecondsByStage).reduce((a, b) => a + b, 0);
  return ms / 1000 / job.gpuSeconds;
}

/** Numeric fields of a job whose name speaks of dispatches, submissions or readbacks (the engine's counters, when it reports them);
 *  the per-label breakdown (`byLabel`) stays in the JSON: one line per job keeps the summary readable. */
export function counters(job: BenchJob): [string, number][] {
  const found: [string, number][] = [];
  const visit = (value: unknown, path: string) => {
    if (typeof value === 'number' && /dispatch|submi|readback/i.test(path)) found.push([path, value]);
    else if (value && typeof value === 'object' && !Array.isArray(value) && !path.endsWith('byLabel'))
      for (const [key, inner] of Object.entries(value)) visit(inner, path ? `${path}.${key}` : key);
  };
  visit(job, '');
  return found;
}

const seconds = (s: number) => (s >= 10 ? `${s.toFixed(1)} s` : s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(s >= 0.1 ? 0 : 1)} ms`);
const percent = (x: number) => `${(x * 100).toFixed(0)}%`;
const times = (x: number) => `${x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : Number(x.toPrecision(2))}×`;
const gflops = (g: number) => (g >= 1000 ? `${Number((g / 1000).toPrecision(3))} TFLOP/s` : `${Number(g.toPrecision(3))} GFLOP/s`);

/** A plain-text table, every column left-aligned (cells here are phrases, not only numbers). */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Why a stage's figure is missing: its stage's end, or "not run". */
function missing(run: DeviceRun, stage: string): string {
  const s = run.stages.find((x) => x.stage === stage);
  if (!s) return 'not run';
  if (s.status === 'timeout') return `did not finish within its ${s.limit} s`;
  if (s.status === 'skipped') return 'skipped (budget spent)';
  if (s.status === 'failed') return `failed (exit ${s.rc}; see ${stage}.log)`;
  return 'no result';
}

/**
 * Every GPU target as a row: met / NOT met only where both sides are what the target is about
 * (full sizes, a hardware adapter, PyTorch on CUDA); otherwise "not judged (why)" beside the figures.
 */
export function summarize(run: DeviceRun, peakGflops: number | null): { header: string[]; rows: SummaryRow[] } {
  const rows: SummaryRow[] = [];
  const benchFiles = [run.products, run.pair, run.eigen, ...run.jobs.values(), run.smoke].filter((f): f is BenchFile => f !== null);
  const adapter = benchFiles[0]?.result.adapter ?? 'no adapter reported (see smoke.log)';
  const software = benchFiles.some((f) => f.result.software);
  const torch = run.torch;
  const fullSizes = run.sizes?.sizes === 'FULL';
  const notJudged = !fullSizes ? `not judged (${run.sizes?.sizes ?? 'unknown'} sizes)` : software ? 'not judged (software adapter)' : null;
  const torchNotJudged = torch && torch.cuda === false ? 'not judged (PyTorch not on CUDA)' : null;
  const judge = (ok: boolean, needsTorch = false) => notJudged ?? (needsTorch ? torchNotJudged : null) ?? (ok ? 'met' : 'NOT met');
  const header = [
    `svcca-lens on ${adapter}${software ? ' (software)' : ''}`,
    `reference: ${torch ? `PyTorch ${torch.torch ?? '—'} on ${torch.device}${torch.complete === false ? ' (cut short)' : ''}` : 'no PyTorch figures (see torch.log)'}`,
    `sizes: ${run.sizes?.sizes ?? 'unknown (no sizes.json)'}; speed = PyTorch f32 seconds / svcca-lens seconds (≥ 1: svcca-lens is faster)`,
  ];

  // Every dynamics job, smallest first, and the pair: ≥ 2× PyTorch f32's speed; GPU busy ≥ 70%.
  const jobOrder = (run.sizes?.jobs ?? []).map((job, index) => ({ job, index }));
  jobOrder.sort(
    (a, b) =>
      a.job.widths.reduce((s, w) => s + w, 0) * a.job.steps * a.job.datapoints - b.job.widths.reduce((s, w) => s + w, 0) * b.job.steps * b.job.datapoints,
  );
  for (const { job, index } of jobOrder) {
    const ours = run.jobs.get(index)?.result.jobs.find((j) => j.name === job.name) ?? null;
    const reference = torch?.jobs.find((j) => j.name === job.name)?.torch_f32_s ?? null;
    const row: SummaryRow = {
      what: job.name,
      ours: ours ? seconds(ours.gpuSeconds) : missing(run, `job-${index}`),
      reference: reference !== null ? `${seconds(reference)} PyTorch f32` : 'no PyTorch figure',
      ratio: ours && reference !== null ? times(reference / ours.gpuSeconds) : '—',
      target: '≥ 2× PyTorch',
      verdict: ours && reference !== null ? judge(reference / ours.gpuSeconds >= 2, true) : 'NOT met (no figure)',
    };
    rows.push(row);
    const busy = ours ? gpuBusy(ours) : null;
    rows.push({
      what: '  GPU busy, share of its wall time',
      ours: busy !== null ? `${percent(busy)} (${seconds(busy * ours!.gpuSeconds)} of GPU time)` : ours ? 'no timestamp-query' : '—',
      reference: '',
      ratio: '',
      target: '≥ 70%',
      verdict: busy !== null ? judge(busy >= 0.7) : ours ? 'not judged (no timestamps)' : 'NOT met (no figure)',
    });
  }
  const pair = run.pair?.result.pair ?? null;
  const pairSize = run.sizes?.pair;
  const pairReference = torch?.pair_factored_f32_s ?? null;
  rows.push({
    what: `one SVCCA pair${pairSize ? `, n = ${pairSize.n}, m = ${pairSize.m}` : ''}`,
    ours: pair ? `${seconds(pair.seconds)} (cold ${seconds(pair.coldSeconds)})` : missing(run, 'pair'),
    reference: pairReference !== null ? `${seconds(pairReference)} PyTorch f32` : 'no PyTorch figure',
    ratio: pair && pairReference !== null ? times(pairReference / pair.seconds) : '—',
    target: '≥ 2× PyTorch',
    verdict: pair && pairReference !== null ? judge(pairReference / pair.seconds >= 2, true) : 'NOT met (no figure)',
  });

  // The product kernel at 1024 × 10 000 (else the largest size measured): ≥ 30% of the f32 peak.
  const products = run.products?.result.products ?? [];
  const largest =
    products.find((p) => p.n === 1024 && p.m === 10_000) ??
    products.reduce<(typeof products)[number] | null>((a, p) => (!a || p.n * p.n * p.m > a.n * a.n * a.m ? p : a), null);
  const sgemm = largest ? (torch?.products?.find((p) => p.n === largest.n && p.m === largest.m)?.gflops ?? null) : null;
  rows.push({
    what: `product X·Yᵀ${largest ? `, ${largest.n} × ${largest.m}` : ''}`,
    ours: largest ? gflops(largest.gflops) : missing(run, 'products'),
    reference: sgemm !== null ? `SGEMM ${gflops(sgemm)} PyTorch` : 'no PyTorch figure',
    ratio:
      largest && peakGflops
        ? `${percent(largest.gflops / peakGflops)} of the ${gflops(peakGflops)} peak${sgemm ? `; ${times(largest.gflops / sgemm)} SGEMM` : ''}`
        : '—',
    target: '≥ 30% of the f32 peak',
    verdict: largest ? (peakGflops ? judge(largest.gflops >= 0.3 * peakGflops) : 'not judged (no --peak-gflops)') : 'NOT met (no figure)',
  });

  // The eigendecomposition at the largest size, as the engine chooses its driver.
  const eigen = run.eigen?.result.eigen ?? [];
  const eigenN = eigen.reduce((n, e) => Math.max(n, e.n), 0);
  const fastest = eigen.filter((e) => e.n === eigenN).reduce<(typeof eigen)[number] | null>((a, e) => (!a || e.seconds < a.seconds ? e : a), null);
  // The driver the engine chooses at that size (the fastest where the benchmark marks none).
  const chosen = eigen.find((e) => e.n === eigenN && e.chosen) ?? fastest;
  const eigh = torch?.eigh?.find((e) => e.n === eigenN)?.seconds ?? null;
  rows.push({
    what: `eigendecomposition${eigenN ? ` ${eigenN} × ${eigenN}` : ''}, with vectors`,
    ours: chosen
      ? `${seconds(chosen.seconds)} (${chosen.strategy}${fastest && fastest !== chosen ? `; fastest ${fastest.strategy} ${seconds(fastest.seconds)}` : ''})`
      : missing(run, 'eigen'),
    reference: eigh !== null ? `eigh ${seconds(eigh)} PyTorch` : 'no PyTorch figure',
    ratio: chosen && eigh !== null ? times(eigh / chosen.seconds) : '—',
    target: eigenN === 512 ? '≤ 30 ms' : '—',
    verdict: chosen && eigenN === 512 ? judge(chosen.seconds <= 0.03) : chosen ? 'not judged (not 512)' : 'NOT met (no figure)',
  });

  // Parity: every value of the GPU within the precision contract of the float64 path.
  const parity = run.parity;
  if (parity) {
    const cases = Object.values(parity.reports).flatMap((r) => r.cases);
    const contract = Math.min(...Object.values(parity.reports).map((r) => r.contract));
    const outside = cases.filter((c) => !(c.delta <= contract)).length;
    const worst = cases.reduce((w, c) => Math.max(w, c.delta), 0);
    const fellBack = cases.filter((c) => c.float64).length;
    const verdict = outside > 0 ? 'FAIL' : parity.complete ? 'PASS' : 'incomplete';
    rows.push({
      what: `precision parity, GPU against float64 (${Object.keys(parity.reports).join(' + ')})`,
      ours: `${verdict}: ${cases.length} values, worst |Δ| ${worst.toExponential(1)}, ${outside} outside, ${fellBack} in float64`,
      reference: '',
      ratio: '',
      target: `every |Δ| ≤ ${contract}`,
      verdict: outside > 0 ? 'NOT met' : parity.complete ? 'met' : `NOT met (${missing(run, 'parity')})`,
    });
  } else {
    rows.push({
      what: 'precision parity, GPU against float64',
      ours: missing(run, 'parity'),
      reference: '',
      ratio: '',
      target: 'every |Δ| within the contract',
      verdict: 'NOT met (no figure)',
    });
  }
  return { header, rows };
}

/** What a researcher on that machine would run instead, per job: every column of the reference. */
function referenceTable(run: DeviceRun): string | null {
  const torch = run.torch;
  if (!torch || !run.sizes) return null;
  const cell = (s: number | undefined) => (s === undefined ? '—' : seconds(s));
  return textTable(
    ['job', 'svcca-lens', 'PyTorch f32', 'PyTorch f64', 'numpy f64', 'PyTorch per-pair loop'],
    run.sizes.jobs.map((job, index) => {
      const t = torch.jobs.find((j) => j.name === job.name);
      const ours = run.jobs.get(index)?.result.jobs[0];
      const sampled = t?.torch_per_pair_pairs_timed !== undefined && t.torch_per_pair_pairs_timed < (t.torch_per_pair_pairs ?? 0);
      return [
        job.name,
        ours ? seconds(ours.gpuSeconds) : '—',
        cell(t?.torch_f32_s),
        cell(t?.torch_f64_s),
        cell(t?.numpy_f64_s),
        `${cell(t?.torch_per_pair_f32_s)}${sampled ? ` (${t.torch_per_pair_pairs_timed} of ${t.torch_per_pair_pairs} pairs)` : ''}`,
      ];
    }),
  );
}

export function formatSummary(run: DeviceRun, peakGflops: number | null): string {
  const { header, rows } = summarize(run, peakGflops);
  const lines = [`DEVICE RUN SUMMARY`, ...header, ''];
  lines.push(
    textTable(
      ['measured', 'svcca-lens', 'reference', 'speed / share', 'target', 'verdict'],
      rows.map((r) => [r.what, r.ours, r.reference, r.ratio, r.target, r.verdict]),
    ),
  );
  const reference = referenceTable(run);
  if (reference) lines.push('', reference);
  const counted = [...run.jobs.values()]
    .flatMap((f) => f.result.jobs)
    .map((j) => [j.name, counters(j)] as const)
    .filter(([, c]) => c.length > 0);
  for (const [name, found] of counted) lines.push(`counters, ${name}: ${found.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (run.stages.length > 0)
    lines.push(
      '',
      `stages: ${run.stages.map((s) => `${s.stage} ${s.status}${s.status === 'skipped' ? '' : ` ${s.seconds} s`}${s.status === 'timeout' ? ` (limit ${s.limit} s)` : ''}`).join(', ')}`,
    );
  const met = rows.filter((r) => r.verdict === 'met').length;
  const notMet = rows.filter((r) => r.verdict.startsWith('NOT met')).length;
  lines.push(`targets: ${met} met, ${notMet} not met, ${rows.length - met - notMet} not judged`);
  return lines.join('\n');
}

function main(argv: string[]): number {
  const dir = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--peak-gflops');
  if (!dir) {
    console.error('usage: device-summary OUT_DIR [--peak-gflops G]');
    return 2;
  }
  const peakIndex = argv.indexOf('--peak-gflops');
  const peakGflops = peakIndex >= 0 ? Number(argv[peakIndex + 1]) : null;
  const run = readDeviceRun(dir);
  console.log(formatSummary(run, peakGflops));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ peakGflops, ...summarize(run, peakGflops), stages: run.stages }, null, 1));
  return 0;
}

// Run as a script (bundled: summary.mjs; or through bin/run-ts.mjs), not when a test imports it.
if (process.argv[1] && /device-summary\.ts$|summary\.mjs$/.test(process.argv[1])) process.exitCode = main(process.argv.slice(2));
