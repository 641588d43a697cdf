// Export: the JSON of the learning dynamics and across-runs views equals what the CLI computes for
// the same file and settings; CSV of the current matrix; PNG and SVG of a chart.

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { npzBundle } from './bundles';
import { computeBundle, crossView, dynamicsHeatmap, dynamicsView, figureOf, finished } from './explorer';
import { expect, test } from './fixtures';

const run = promisify(execFile);

async function cli(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('node', ['bin/svcca-lens.mjs', ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(stdout);
}

async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

type Conventions = { backendReason?: string; backend: string };

/**
 * Same schema, same conventions and warnings, same provenance (bundle, run, options, app version,
 * and the content hash of the arrays read), values equal to 1e-9. Only the sentence saying why the
 * CPU ran (`conventions.backendReason`, `computed.reason`) may differ: the CLI and the browser look
 * for a GPU in different places; and `provenance.products`, the WebAssembly product kernel each engine has.
 */
function expectSameResult(app: Record<string, unknown>, cliResult: Record<string, unknown>, matrixKey: 'values') {
  // Every key, `k99` (per-checkpoint intrinsic dimensionality, whole numbers) included: the app's
  // dynamics Export JSON carries it as `dynamics --json` does.
  const reference = cliResult;
  expect(Object.keys(app).sort()).toEqual(Object.keys(reference).sort());
  const ca = app.conventions as Conventions;
  const cr = reference.conventions as Conventions;
  expect(ca.backendReason).toMatch(/^CPU \(float64\)/);
  expect(cr.backendReason).toMatch(/^CPU \(float64\)/);
  for (const key of Object.keys(reference)) {
    if (key === matrixKey) continue;
    // provenance.products: the WebAssembly kernel variant (Chromium has relaxed SIMD, Node 20 not);
    // provenance.threads: the CPU pool of each (one per core but one in the browser, one per core in the CLI).
    const strip = (v: unknown) =>
      key === 'conventions'
        ? { ...(v as Conventions), backendReason: undefined }
        : key === 'computed'
          ? { ...(v as { reason: string }), reason: undefined }
          : key === 'provenance'
            ? { ...(v as { products: string }), products: undefined, threads: undefined }
            : v;
    expect(strip(app[key]), key).toEqual(strip(reference[key]));
  }
  const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
  const a = flat(app[matrixKey]);
  const b = flat(reference[matrixKey]);
  expect(a.length).toBe(b.length);
  a.forEach((v, k) => expect(Math.abs(v - b[k]), `value ${k}`).toBeLessThan(1e-9));
}

test('Export JSON of the learning dynamics equals `svcca-lens dynamics --json` on the same file', async ({ page }, testInfo) => {
  const bundle = npzBundle('toy.npz');
  const file = testInfo.outputPath('toy.npz');
  writeFileSync(file, bundle.buffer);
  const reference = cli(['dynamics', file]);
  await page.goto('/');
  await computeBundle(page, [bundle]);
  const app = await downloaded(page, () => dynamicsView(page).getByRole('button', { name: 'Export JSON' }).click());
  expect(app.name).toBe('toy-dynamics-svcca-cpu-f64.json');
  const exported = JSON.parse(app.bytes.toString('utf8'));
  expectSameResult(exported, await reference, 'values');
  expect(exported).toMatchObject({ bundle: 'toy.npz', run: null, leftOut: [], inputArrays: 30, app: { name: 'svcca-lens', version: '0.1.0' } });
  expect(exported.options).toEqual({
    metric: 'svcca',
    keep: { kind: 'variance', fraction: 0.99 },
    epsilon: 1e-10,
    layout: 'auto',
    convLayout: null,
    convReduction: null,
    pwccaVariant: null,
  });
  expect(exported.inputHash).toMatch(/^[0-9a-f]{12}$/);
  expect(exported.computed.reason).toMatch(/^CPU \(float64\)/);

  // Other settings: CCA, ε = 1e-6, reference step 400.
  const other = cli(['dynamics', file, '--metric', 'cca', '--epsilon', '1e-6', '--reference', '400']);
  await page.getByLabel('Metric').selectOption('cca');
  await page.getByLabel('Epsilon').fill('1e-6');
  await page.getByRole('combobox', { name: /^Reference step/ }).selectOption('400');
  await finished(dynamicsView(page));
  await expect(dynamicsHeatmap(page)).toHaveAccessibleName(/CCA of each layer at step 0 against each layer at the reference step 400/);
  const again = await downloaded(page, () => dynamicsView(page).getByRole('button', { name: 'Export JSON' }).click());
  expectSameResult(JSON.parse(again.bytes.toString('utf8')), await other, 'values');
});

test('Export JSON of the across-runs view equals `svcca-lens cross --json`', async ({ page }, testInfo) => {
  const bundle = npzBundle('runs.npz', { runs: ['a', 'b'], steps: [0, 100, 200] });
  const file = testInfo.outputPath('runs.npz');
  writeFileSync(file, bundle.buffer);
  const reference = cli(['cross', file, file, '--run-a', 'a', '--run-b', 'b', '--step', '100', '--metric', 'pwcca']);
  await page.goto('/');
  await computeBundle(page, [bundle]);
  await page.getByLabel('Metric').selectOption('pwcca');
  await page.getByRole('tab', { name: 'Across runs' }).click();
  await page.getByRole('combobox', { name: /^Step/ }).selectOption('100');
  await finished(crossView(page));
  await expect(crossView(page)).toContainText('PWCCA · step 100');
  const app = await downloaded(page, () => crossView(page).getByRole('button', { name: 'Export JSON' }).click());
  expect(app.name).toBe('runs_a-vs-b-cross-pwcca-cpu-f64.json');
  expectSameResult(JSON.parse(app.bytes.toString('utf8')), await reference, 'values');
});

test('CSV of the current matrix, PNG and SVG of a chart with its legend and caption', async ({ page }) => {
  await page.goto('/');
  await computeBundle(page, [npzBundle('toy.npz')]);
  await page.getByRole('slider', { name: 'Checkpoint' }).fill('2');
  const figure = figureOf(dynamicsHeatmap(page));

  const csv = await downloaded(page, () => figure.getByRole('button', { name: 'Export CSV of the current matrix' }).click());
  expect(csv.name).toBe('toy-dynamics-svcca-cpu-f64-step-200.csv');
  const all = csv.bytes.toString('utf8').trim().split('\n');
  // What it is, as "# key: value" lines first (pandas: read_csv(path, comment='#')).
  const comments = all.filter((l) => l.startsWith('# '));
  expect(comments).toEqual(expect.arrayContaining(['# bundle: toy.npz', '# metric: svcca', '# step shown: 200', '# app: svcca-lens 0.1.0']));
  expect(comments.find((l) => l.startsWith('# input hash: '))).toMatch(/^# input hash: [0-9a-f]{12} /);
  const lines = all.filter((l) => !l.startsWith('#'));
  expect(lines[0]).toBe('layer at step 200 \\ layer at step 1600,conv1,conv2,fc1,fc2,logits');
  expect(lines).toHaveLength(6);
  const shown = Number(
    await dynamicsHeatmap(page)
      .locator('g.cells rect')
      .nth(2 * 5 + 1)
      .getAttribute('data-value'),
  );
  expect(Number(lines[3].split(',')[2])).toBe(shown);

  const svg = await downloaded(page, () => figure.getByRole('button', { name: 'Export heatmap as SVG' }).click());
  expect(svg.name).toBe('toy-dynamics-svcca-cpu-f64-step-200.svg');
  const text = svg.bytes.toString('utf8');
  expect(text).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  expect(text).toContain('linearGradient'); // the legend
  expect(text).toContain('SVCCA similarity of each layer at step 200'); // the caption
  expect(text.match(/<rect[^>]*fill="rgb|<rect[^>]*fill="#/g)?.length ?? 0).toBeGreaterThanOrEqual(25);
  expect(text).not.toContain('var(--');
  const metadata = JSON.parse(
    text
      .match(/<metadata id="svcca-lens-export">([^<]*)<\/metadata>/)![1]
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&'),
  );
  expect(metadata).toMatchObject({ bundle: 'toy.npz', metric: 'svcca', 'step shown': '200', app: 'svcca-lens 0.1.0' });
  const footer = [...text.matchAll(/<text[^>]*class="export-footer"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]).join(' ');
  expect(footer).toMatch(/^toy\.npz · svcca · variance 0\.99 · ε 1e-10 · inputs [0-9a-f]{12} · svcca-lens 0\.1\.0$/);

  const png = await downloaded(page, () => figure.getByRole('button', { name: 'Export heatmap as PNG' }).click());
  expect(png.name).toBe('toy-dynamics-svcca-cpu-f64-step-200.png');
  expect(png.bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  const pngText = png.bytes.toString('latin1');
  expect(pngText).toContain('tEXtbundle\0toy.npz');
  expect(pngText).toMatch(/tEXtinput hash\0[0-9a-f]{12}/);
  const width = png.bytes.readUInt32BE(16);
  const height = png.bytes.readUInt32BE(20);
  expect(width).toBeGreaterThan(400);
  expect(height).toBeGreaterThan(400); // chart + caption, at 2×

  const curves = await downloaded(page, () => page.getByRole('button', { name: 'Export convergence curves as SVG' }).click());
  expect(curves.bytes.toString('utf8')).toContain('conv1'); // the legend's layer names
});

test("With the GPU backend chosen, the worker computes on WebGPU: the exported values equal the CLI's float64 within f32 tolerance, under a file name of their own", async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  const bundle = npzBundle('toy.npz');
  const file = testInfo.outputPath('toy.npz');
  writeFileSync(file, bundle.buffer);
  const reference = cli(['dynamics', file, '--backend', 'cpu']);
  await page.goto('/');
  await computeBundle(page, [bundle]);
  // The same view exported from the CPU job (auto on SwiftShader) and from the GPU job: two file names,
  // so that saving both keeps both.
  const exportJson = () => downloaded(page, () => dynamicsView(page).getByRole('button', { name: 'Export JSON' }).click());
  expect((await exportJson()).name).toBe('toy-dynamics-svcca-cpu-f64.json');
  await page.getByLabel('Backend').selectOption('webgpu');
  await finished(dynamicsView(page));
  const gpu = await exportJson();
  expect(gpu.name).toBe('toy-dynamics-svcca-gpu-f32.json');
  const csv = await downloaded(page, () => figureOf(dynamicsHeatmap(page)).getByRole('button', { name: 'Export CSV of the current matrix' }).click());
  expect(csv.name).toBe('toy-dynamics-svcca-gpu-f32-step-0.csv');
  const app = JSON.parse(gpu.bytes.toString('utf8'));
  const conventions = app.conventions as Conventions;
  expect(conventions.backend).toBe('webgpu');
  expect(conventions.backendReason).toMatch(/^WebGPU \(float32\) on .*as chosen/);
  const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
  const expected = flat((await reference).values);
  const got = flat(app.values);
  expect(got.length).toBe(expected.length);
  got.forEach((v, k) => expect(Math.abs(v - expected[k]), `value ${k}`).toBeLessThanOrEqual(1e-4));
});
