// The browser's CPU path runs the WebAssembly SIMD product kernels (src/math/wasmProducts.ts): with
// Backend forced to CPU, the job's provenance names the WebAssembly kernel the worker ran (in this
// Chromium the relaxed-SIMD FMA variant), and the numbers equal those of the CLI (Node 20: plain
// SIMD without FMA, summed in a different order) to 1e-9. Layer widths 37, 50 and 29 over 701
// datapoints are odd sizes for the 4 × 2 register block and the f64x2 pairs, and every Gram product
// is above the size at which multiplyABt hands over to WebAssembly.

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { npzBundle } from './bundles';
import { computeBundle, dynamicsView } from './explorer';
import { expect, test } from './fixtures';

const run = promisify(execFile);

test('Backend CPU: the worker computes with the WebAssembly kernels and agrees with the CLI', async ({ page }, testInfo) => {
  const bundle = npzBundle('odd.npz', { layers: ['a', 'b', 'c'], steps: [0, 10, 20], datapoints: 701, neurons: [37, 50, 29] });
  const file = testInfo.outputPath('odd.npz');
  writeFileSync(file, bundle.buffer);
  const cli = run('node', ['bin/svcca-lens.mjs', 'dynamics', file, '--json'], { encoding: 'utf8', maxBuffer: 1 << 24 });

  await page.goto('/#backend=cpu');
  await computeBundle(page, [bundle]);
  await expect(page.getByLabel('Backend')).toHaveValue('cpu');
  await expect(dynamicsView(page).getByTestId('dynamics-backend')).toHaveText('Computed on the CPU in float64, as chosen under Backend.');
  const [download] = await Promise.all([page.waitForEvent('download'), dynamicsView(page).getByRole('button', { name: 'Export JSON' }).click()]);
  const app = JSON.parse(readFileSync(await download.path(), 'utf8'));
  const reference = JSON.parse((await cli).stdout);

  expect(app.provenance).toMatchObject({ backend: 'cpu', arithmetic: 'float64' });
  // Chromium ≥ 114 has relaxed SIMD; the CLI's Node 20 has SIMD without it.
  expect(app.provenance.products).toBe('wasm-relaxed-simd');
  expect(reference.provenance.products).toMatch(/^wasm-(relaxed-)?simd$/);

  const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
  const a = flat(app.values);
  const b = flat(reference.values);
  expect(a.length).toBe(3 * 3 * 3);
  expect(a.length).toBe(b.length);
  a.forEach((v, k) => expect(Math.abs(v - b[k]), `value ${k}: ${v} vs ${b[k]}`).toBeLessThan(1e-9));
});
