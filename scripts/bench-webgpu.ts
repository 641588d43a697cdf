// `npm run bench -- --backend webgpu [--quick] [--out FILE] [--chromium PATH] [--chromium-flag F]…`
// Runs the WebGPU benchmark in headless Chromium on whatever adapter it offers (SwiftShader here,
// the machine's GPU elsewhere). Chromium, not Node: Dawn's Node bindings (npm webgpu 0.6.2) abort
// inside InstanceBase::ProcessEvents on this kind of machine as soon as a kernel runs for a moment.
// Serves the repository with Vite's dev server and opens scripts/bench-webgpu.html.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import type { WebgpuBenchConfig } from './bench-webgpu-page';
import { renderTable } from './bench-data';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const QUICK: WebgpuBenchConfig = {
  products: [
    [128, 1000],
    [256, 2000],
  ],
  eigen: [32, 64],
  jobs: [
    { name: 'dynamics 4 layers × 4 checkpoints, n = 32, m = 500', widths: [32, 32, 32, 32], steps: 4, datapoints: 500, cpu: true },
    // The foundation issue's first learning-dynamics job (also in FULL).
    { name: 'dynamics 5 layers × 6 checkpoints, n ≤ 128, m = 2000', widths: [64, 128, 128, 96, 64], steps: 6, datapoints: 2000, cpu: true },
  ],
};

// The issue's sizes: for a machine with a real GPU (on SwiftShader this runs for a long time).
const FULL: WebgpuBenchConfig = {
  products: [
    [256, 5000],
    [512, 10000],
    [1024, 10000],
  ],
  eigen: [128, 256, 512],
  jobs: [
    { name: 'pair-sized job: 2 layers × 1 checkpoint, n = 512, m = 10000', widths: [512, 512], steps: 1, datapoints: 10000, cpu: true },
    { name: 'dynamics 5 layers × 6 checkpoints, n ≤ 128, m = 2000', widths: [64, 128, 128, 96, 64], steps: 6, datapoints: 2000, cpu: true },
    { name: 'dynamics 10 layers × 20 checkpoints, n = 256, m = 5000', widths: new Array(10).fill(256), steps: 20, datapoints: 5000, cpu: true },
  ],
};

export async function runWebgpuBench(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const outIndex = argv.indexOf('--out');
  const chromiumIndex = argv.indexOf('--chromium');
  const executablePath = chromiumIndex >= 0 ? argv[chromiumIndex + 1] : (process.env.CHROMIUM_PATH ?? '/usr/bin/chromium');
  const extraFlags = argv.flatMap((a, i) => (a === '--chromium-flag' ? [argv[i + 1]] : []));
  const config = quick ? QUICK : FULL;
  const server = await createServer({ root: ROOT, logLevel: 'error', server: { host: '127.0.0.1', port: 0 } });
  await server.listen();
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const browser = await chromium.launch({
    executablePath,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', ...extraFlags],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    await page.goto(`http://127.0.0.1:${port}/scripts/bench-webgpu.html`);
    await page.waitForFunction(() => typeof window.svccaBenchWebgpu === 'function');
    const started = Date.now();
    const result = await page.evaluate((c) => window.svccaBenchWebgpu(c), config);
    const seconds = (Date.now() - started) / 1000;
    console.log(`SVCCA Lens WebGPU benchmark${quick ? ' — QUICK sizes' : ''}; adapter: ${result.adapter}`);
    console.log(`(wall-clock timings around onSubmittedWorkDone; ratios are measured in this one run)\n`);
    console.log(renderTable(['product X·Yᵀ (n × m each)', 'seconds', 'GFLOP/s'], result.products.map((p) => [`${p.n} × ${p.m}`, p.seconds.toFixed(4), p.gflops.toFixed(2)])));
    console.log('');
    console.log(renderTable(['Jacobi eigen n', 'seconds', 'sweeps'], result.eigen.map((e) => [String(e.n), e.seconds.toFixed(3), String(e.sweeps)])));
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
    if (result.timestamps) {
      for (const job of result.jobs) {
        const stages = Object.entries(job.gpuMillisecondsByStage ?? {}).sort((a, b) => b[1] - a[1]);
        const total = stages.reduce((sum, [, ms]) => sum + ms, 0);
        console.log(`\nGPU time by stage (timestamp queries): ${job.name}; GPU busy ${(total / 1000).toFixed(2)} s of ${job.gpuSeconds.toFixed(2)} s`);
        console.log(renderTable(['stage', 'GPU ms', 'share'], stages.map(([stage, ms]) => [stage, ms.toFixed(1), `${((ms / total) * 100).toFixed(0)}%`])));
      }
    } else {
      console.log('\n(no timestamp-query on this adapter: stage split by wall clock only)');
    }
    console.log(`\nWarm-up runs (two checkpoints of each job, compiling its pipelines): ${result.jobs.map((j) => `${j.warmUpSeconds.toFixed(2)} s`).join(', ')}`);
    const date = new Date().toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
    const out = resolve(outIndex >= 0 ? argv[outIndex + 1] : join(ROOT, 'bench-results', `bench-webgpu-${date}${quick ? '-quick' : ''}.json`));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ command: ['npm run bench --', ...argv].join(' '), date: new Date().toISOString(), seconds, config, result }, null, 2));
    console.log(`\nJSON: ${out}`);
  } finally {
    await browser.close();
    await server.close();
  }
}
