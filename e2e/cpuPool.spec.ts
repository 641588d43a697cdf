// The browser's CPU path on a pool of module workers (worker/cpuPool.ts, nested in the analysis
// worker): with ?threads=2 and Backend forced to CPU, the preview server's COOP/COEP headers make the
// page cross-origin isolated (shared memory), the job's provenance says it ran on 2 threads, the
// numbers are exactly those of the one-thread path in the same browser, and equal the CLI's on the
// same file to 1e-9 (Chromium's relaxed-SIMD products fuse multiply-adds; Node 20's do not).

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { npzBundle } from './bundles';
import { computeBundle, dynamicsView } from './explorer';
import { expect, test } from './fixtures';

const run = promisify(execFile);

async function exportDynamics(page: Page, url: string, bundle: ReturnType<typeof npzBundle>) {
  await page.goto(url);
  await computeBundle(page, [bundle]);
  await expect(page.getByLabel('Backend')).toHaveValue('cpu');
  const [download] = await Promise.all([page.waitForEvent('download'), dynamicsView(page).getByRole('button', { name: 'Export JSON' }).click()]);
  return JSON.parse(readFileSync(await download.path(), 'utf8'));
}

test('?threads=2: the CPU path runs on two worker threads, with the one-thread numbers and the CLI’s', async ({ page }, testInfo) => {
  const bundle = npzBundle('odd.npz', { layers: ['a', 'b', 'c', 'd'], steps: [0, 10, 20], datapoints: 701, neurons: [37, 50, 29, 41] });
  const file = testInfo.outputPath('odd.npz');
  writeFileSync(file, bundle.buffer);
  const cli = run('node', ['bin/svcca-lens.mjs', 'dynamics', file, '--json', '--threads', '2'], { encoding: 'utf8', maxBuffer: 1 << 24 });

  const pooled = await exportDynamics(page, '/?threads=2#backend=cpu', bundle);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const single = await exportDynamics(page, '/?threads=1#backend=cpu', bundle);
  const reference = JSON.parse((await cli).stdout);

  expect(pooled.provenance).toMatchObject({ backend: 'cpu', arithmetic: 'float64', products: 'wasm-relaxed-simd', threads: 2 });
  expect(single.provenance.threads).toBe(1);
  expect(reference.provenance.threads).toBe(2);
  // Same kernels, same order of summation in every factor and pair: not one bit differs.
  expect(pooled.values).toEqual(single.values);

  const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
  const a = flat(pooled.values);
  const b = flat(reference.values);
  expect(a.length).toBe(3 * 4 * 4);
  expect(a.length).toBe(b.length);
  a.forEach((v, k) => expect(Math.abs(v - b[k]), `value ${k}: ${v} vs ${b[k]}`).toBeLessThan(1e-9));
});
