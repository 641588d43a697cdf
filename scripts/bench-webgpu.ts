// `npm run bench -- --backend webgpu [--quick|--smoke] [--only PARTS] [--list] [--out FILE] [--peak-gflops G] [--runtime chromium|node] [--chromium PATH] [--chromium-flag F]…`
// --only PARTS: a comma list of products, eigen, pair, jobs, job=N (the N-th job of the size set,
// from 0): measures only those (one job per process, so a device run under `timeout` keeps every job
// that finished: scripts/device-bench.sh). --list prints the size set as JSON and exits.
// Runs the WebGPU benchmark in headless Chromium on whatever adapter it offers (SwiftShader here,
// the machine's GPU elsewhere): the browser is where the app runs, so that is what is measured by
// default (Vite's dev server serves scripts/bench-webgpu.html). --runtime node measures the same
// code on Dawn in Node instead (the CLI's engine; no browser needed on the GPU machine). Ends with the
// speed targets judged from this one run (--peak-gflops: the GPU's f32 peak, for the kernel one).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WebgpuBenchConfig, WebgpuBenchResult } from './bench-webgpu-page';
import { renderTable } from './bench-data';
import { judgeTargets } from './bench-targets';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const QUICK: WebgpuBenchConfig = {
  products: [
    [128, 1000],
    [256, 2000],
  ],
  eigen: [32, 64],
  pair: { n: 64, m: 1000 },
  jobs: [
    { name: 'dynamics 4 layers × 4 checkpoints, n = 32, m = 500', widths: [32, 32, 32, 32], steps: 4, datapoints: 500, cpu: true },
    // The first learning-dynamics job of the CPU benchmark, (b) (also in FULL).
    { name: 'dynamics 5 layers × 6 checkpoints, n ≤ 128, m = 2000', widths: [64, 128, 128, 96, 64], steps: 6, datapoints: 2000, cpu: true },
  ],
};

// A few seconds anywhere: checks that the whole pipeline runs (the device script starts with it).
const SMOKE: WebgpuBenchConfig = {
  products: [[64, 256]],
  eigen: [16],
  pair: { n: 16, m: 200 },
  jobs: [{ name: 'dynamics 2 layers × 2 checkpoints, n = 8, m = 100', widths: [8, 8], steps: 2, datapoints: 100, cpu: true }],
};

// The full sizes: for a machine with a real GPU (on SwiftShader this runs for hours).
const FULL: WebgpuBenchConfig = {
  products: [
    [256, 5000],
    [512, 10000],
    [1024, 10000],
  ],
  eigen: [128, 256, 512],
  pair: { n: 512, m: 10000 },
  jobs: [
    { name: 'dynamics 5 layers × 6 checkpoints, n ≤ 128, m = 2000', widths: [64, 128, 128, 96, 64], steps: 6, datapoints: 2000, cpu: true },
    { name: 'dynamics 10 layers × 20 checkpoints, n = 256, m = 5000', widths: new Array(10).fill(256), steps: 20, datapoints: 5000, cpu: false },
    { name: 'dynamics 10 layers × 20 checkpoints, n = 512, m = 5000', widths: new Array(10).fill(512), steps: 20, datapoints: 5000, cpu: false },
  ],
};

/** The pair measured when --only leaves the pair out (the page always measures one): the smallest there is. */
const TOKEN_PAIR = { n: 16, m: 200 };

/**
 * The parts of a size set that `--only` names (null: all of it). Parts left out are empty, except
 * the pair, which becomes TOKEN_PAIR; `only` in the JSON says which parts were asked for.
 */
export function selectParts(config: WebgpuBenchConfig, only: string | null): WebgpuBenchConfig {
  if (only === null) return config;
  const parts = only.split(',').filter(Boolean);
  const jobIndices = new Set<number>();
  for (const part of parts) {
    const job = /^job=(\d+)$/.exec(part);
    if (job) {
      const index = Number(job[1]);
      if (index >= config.jobs.length)
        throw new Error(`--only ${part}: this size set has ${config.jobs.length} jobs (job=0 … job=${config.jobs.length - 1}; --list shows them)`);
      jobIndices.add(index);
    } else if (part === 'jobs') config.jobs.forEach((_, i) => jobIndices.add(i));
    else if (!['products', 'eigen', 'pair'].includes(part)) throw new Error(`--only: unknown part ${part} (products, eigen, pair, jobs, job=N)`);
  }
  if (parts.length === 0) throw new Error('--only needs a comma list of parts: products, eigen, pair, jobs, job=N');
  return {
    products: parts.includes('products') ? config.products : [],
    eigen: parts.includes('eigen') ? config.eigen : [],
    pair: parts.includes('pair') ? config.pair : TOKEN_PAIR,
    jobs: config.jobs.filter((_, i) => jobIndices.has(i)),
  };
}

export async function runWebgpuBench(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const smoke = argv.includes('--smoke');
  const outIndex = argv.indexOf('--out');
  const runtimeIndex = argv.indexOf('--runtime');
  const runtime = runtimeIndex >= 0 ? argv[runtimeIndex + 1] : 'chromium';
  if (runtime !== 'chromium' && runtime !== 'node') throw new Error(`--runtime must be chromium or node, got ${runtime}`);
  const chromiumIndex = argv.indexOf('--chromium');
  const executablePath = chromiumIndex >= 0 ? argv[chromiumIndex + 1] : (process.env.CHROMIUM_PATH ?? '/usr/bin/chromium');
  const extraFlags = argv.flatMap((a, i) => (a === '--chromium-flag' ? [argv[i + 1]] : []));
  const peakIndex = argv.indexOf('--peak-gflops');
  const peakGflops = peakIndex >= 0 ? Number(argv[peakIndex + 1]) : null;
  if (peakGflops !== null && !(peakGflops > 0))
    throw new Error(`--peak-gflops must be a positive number (the GPU's f32 peak in GFLOP/s), got ${argv[peakIndex + 1]}`);
  const onlyIndex = argv.indexOf('--only');
  const only = onlyIndex >= 0 ? argv[onlyIndex + 1] : null;
  const config = selectParts(smoke ? SMOKE : quick ? QUICK : FULL, only);
  const sizes = smoke ? 'SMOKE' : quick ? 'QUICK' : 'FULL';
  if (argv.includes('--list')) {
    console.log(JSON.stringify({ sizes, ...config }));
    return;
  }
  const started = Date.now();
  const result = runtime === 'node' ? await measureInNode(config) : await measureInChromium(config, executablePath, extraFlags);
  const seconds = (Date.now() - started) / 1000;
  console.log(`SVCCA Lens WebGPU benchmark, ${sizes} sizes, in ${runtime === 'node' ? 'Node (Dawn)' : 'headless Chromium'}; adapter: ${result.adapter}`);
  console.log(`(wall-clock timings around onSubmittedWorkDone, generating the synthetic activations left out; ratios are measured in this one run)\n`);
  console.log('Products: GFLOP/s = 2·n²·m / s for both kinds; X·Xᵀ is a Gram (tiles on and above the diagonal only),');
  console.log('so its figure is the rate of a full product doing the same job. "chosen": the kernel runProducts uses on this adapter.');
  console.log(
    renderTable(
      ['product (X, Y: n × m each)', 'kernel', 'split-K', 'seconds', 'GFLOP/s'],
      result.products.map((p) => [
        `${p.kind} ${p.n} × ${p.m}`,
        `${p.kernel}${p.chosen ? ' (chosen)' : ''}`,
        String(p.split),
        p.seconds.toFixed(4),
        p.gflops.toFixed(2),
      ]),
    ),
  );
  console.log('');
  console.log(
    renderTable(
      ['Jacobi eigen n (one matrix, vectors)', 'driver', 'cold s', 'warm s', 'sweeps'],
      result.eigen.map((e) => [String(e.n), `${e.strategy}${e.chosen ? ' (chosen)' : ''}`, e.coldSeconds.toFixed(3), e.seconds.toFixed(4), String(e.sweeps)]),
    ),
  );
  console.log('');
  console.log(
    renderTable(
      ['SVCCA pair', 'cold s', 'warm s', 'similarity'],
      [[`n = ${result.pair.n}, m = ${result.pair.m}`, result.pair.coldSeconds.toFixed(3), result.pair.seconds.toFixed(4), result.pair.similarity.toFixed(6)]],
    ),
  );
  console.log('');
  console.log(
    renderTable(
      ['job', 'GPU s', 'CPU s', 'CPU/GPU', 'GFLOP/s (model)', 'of best product', 'factor / pairs', 'max |Δ| vs CPU'],
      result.jobs.map((j) => [
        j.name,
        j.gpuSeconds.toFixed(2),
        j.cpuSeconds === null ? '—' : j.cpuSeconds.toFixed(2),
        j.gpuVsCpu === null ? '—' : `${j.gpuVsCpu.toFixed(2)}×`,
        j.gflops.toFixed(2),
        `${(j.fractionOfBestProduct * 100).toFixed(0)}%`,
        `${(j.stageFractions.factorize * 100).toFixed(0)}% / ${(j.stageFractions.pairs * 100).toFixed(0)}%`,
        j.maxDelta === null ? '—' : j.maxDelta.toExponential(1),
      ]),
    ),
  );
  console.log('');
  console.log(
    renderTable(
      ['job', 'precision work: host float64 step s (threads)', 'refinement s', 'share of GPU job', 'float64 fallbacks'],
      result.jobs.map((j) => [
        j.name,
        j.precision ? `${j.precision.hostEigenSeconds.toFixed(3)} (${j.precision.hostThreads})` : '—',
        j.precision ? j.precision.refineSeconds.toFixed(3) : '—',
        j.precision ? `${(((j.precision.hostEigenSeconds + j.precision.refineSeconds) / j.gpuSeconds) * 100).toFixed(0)}%` : '—',
        j.precision ? String(j.precision.float64.length) : '—',
      ]),
    ),
  );
  console.log('');
  // Counted by the runtime (src/gpu/runtime.ts traffic()): the same on any adapter, so what a
  // software adapter measures here is what a GPU machine gets.
  const perCheckpoint = (count: number, checkpoints: number) => (count / checkpoints).toFixed(1);
  console.log(
    renderTable(
      ['job', 'dispatches', 'passes', 'submits', 'readbacks', 'per checkpoint: dispatches / submits / readbacks', 'MiB read / uploaded', 'GPU busy'],
      result.jobs.map((j) => [
        j.name,
        String(j.traffic.dispatches),
        String(j.traffic.passes),
        String(j.traffic.submits),
        String(j.traffic.readbacks),
        `${perCheckpoint(j.traffic.dispatches, j.checkpoints)} / ${perCheckpoint(j.traffic.submits, j.checkpoints)} / ${perCheckpoint(j.traffic.readbacks, j.checkpoints)}`,
        `${(j.traffic.bytesRead / 2 ** 20).toFixed(2)} / ${(j.traffic.bytesUploaded / 2 ** 20).toFixed(2)}`,
        j.gpuBusyFraction === null ? '—' : `${(j.gpuBusyFraction * 100).toFixed(0)}%`,
      ]),
    ),
  );
  const largest = result.jobs[result.jobs.length - 1];
  if (largest) {
    console.log(`\nBy label: ${largest.name}`);
    console.log(
      renderTable(
        ['label', 'dispatches', 'passes', 'submits', 'readbacks', 'KiB read', 'KiB uploaded'],
        Object.entries(largest.traffic.byLabel)
          .sort((x, y) => y[1].dispatches - x[1].dispatches || y[1].readbacks - x[1].readbacks)
          .map(([label, c]) => [
            label,
            String(c.dispatches),
            String(c.passes),
            String(c.submits),
            String(c.readbacks),
            (c.bytesRead / 1024).toFixed(1),
            (c.bytesUploaded / 1024).toFixed(1),
          ]),
      ),
    );
  }
  if (result.timestamps) {
    for (const job of result.jobs) {
      const stages = Object.entries(job.gpuMillisecondsByStage ?? {}).sort((a, b) => b[1] - a[1]);
      const total = stages.reduce((sum, [, ms]) => sum + ms, 0);
      console.log(`\nGPU time by stage (timestamp queries): ${job.name}; GPU busy ${(total / 1000).toFixed(2)} s of ${job.gpuSeconds.toFixed(2)} s`);
      console.log(
        renderTable(
          ['stage', 'GPU ms', 'share'],
          stages.map(([stage, ms]) => [stage, ms.toFixed(1), `${((ms / total) * 100).toFixed(0)}%`]),
        ),
      );
    }
  } else {
    console.log('\n(no timestamp-query on this adapter: stage split by wall clock only)');
  }
  console.log(`\nWarm-up runs (two checkpoints of each job, compiling its pipelines): ${result.jobs.map((j) => `${j.warmUpSeconds.toFixed(2)} s`).join(', ')}`);
  // Smoke sizes only check that everything runs: too small for any target to mean anything.
  const targets = smoke || config.products.length === 0 ? [] : judgeTargets(result, peakGflops);
  if (!smoke && targets.length > 0) {
    console.log('\nSpeed targets, from this run');
    console.log(
      renderTable(
        ['target', 'measured', 'verdict'],
        targets.map((t) => [t.target, t.measured, t.verdict]),
      ),
    );
  } else if (!smoke) {
    // judgeTargets reads the best product's GFLOP/s: a run without the products part judges none.
    console.log(`\nSpeed targets: none judged in this run (they need the products part; --only ${only ?? 'all'})`);
  }
  const date = new Date()
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const out = resolve(outIndex >= 0 ? argv[outIndex + 1] : join(ROOT, 'bench-results', `bench-webgpu-${date}-${sizes.toLowerCase()}.json`));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify({ command: ['npm run bench --', ...argv].join(' '), date: new Date().toISOString(), seconds, only, config, result, targets }, null, 2),
  );
  console.log(`\nJSON: ${out}`);
}

/** In Node through Dawn (the optional webgpu package): no browser needed on the GPU machine. */
async function measureInNode(config: WebgpuBenchConfig): Promise<WebgpuBenchResult> {
  const { runWebgpuBenchOn } = await import('./bench-webgpu-page');
  const { nodeGpu } = await import('../src/gpu/node');
  // The GPU path's float64 host step runs on a CPU pool (src/analysis/pool/gramHost.ts), one thread
  // per core, as in the CLI; in the device bundle its worker is poolWorker.mjs next to the bench.
  const { registerCpuBackend } = await import('../src/analysis/backend');
  const { createNodePool } = await import('../src/analysis/pool/node');
  const { workerPregenerator } = await import('./bench/pregenerate');
  const pool = createNodePool();
  registerCpuBackend(pool);
  try {
    // Each job's checkpoints are generated on every core before its runs (not timed).
    return await runWebgpuBenchOn(nodeGpu, config, workerPregenerator());
  } finally {
    registerCpuBackend(null);
    pool.close();
  }
}

/** In headless Chromium (where the app runs), serving the repository with Vite's dev server. */
async function measureInChromium(config: WebgpuBenchConfig, executablePath: string, extraFlags: string[]): Promise<WebgpuBenchResult> {
  // Loaded here, not at the top: --runtime node (and the device bundle, scripts/device-bench.sh) needs neither.
  const { chromium } = await import('@playwright/test');
  const { createServer } = await import('vite');
  const server = await createServer({ root: ROOT, logLevel: 'error', server: { host: '127.0.0.1', port: 0 } });
  await server.listen();
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--enable-unsafe-webgpu',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...extraFlags,
    ],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    await page.goto(`http://127.0.0.1:${port}/scripts/bench-webgpu.html`);
    await page.waitForFunction(() => typeof window.svccaBenchWebgpu === 'function');
    return await page.evaluate((c) => window.svccaBenchWebgpu(c), config);
  } finally {
    await browser.close();
    await server.close();
  }
}
