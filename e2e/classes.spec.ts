// The Classes view (paper §4.3: when are classes learned) on the shipped demo (public/demo, the
// ResNet on Fashion-MNIST, which carries labels and a logits layer): the classes × steps heatmap,
// the per-class curves, which classes come first, the k99 heatmap, and their exports equal to
// `svcca-lens classes` on the same file. A bundle without labels says so. The drill-down's k
// sweep (how many directions matter) with its k99 marks and exports.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { npzBundle } from './bundles';
import { computeBundle, dynamicsHeatmap, figureOf, pairDetail } from './explorer';
import { expect, test } from './fixtures';

const run = promisify(execFile);
const DEMO = 'public/demo/fashion-resnet.npz';
const classesView = (page: Page) => page.locator('section[aria-labelledby="classes-heading"]');

async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

/** The shipped demo, served as the page's demo (the fixtures serve an empty demo list otherwise). */
async function withShippedDemo(page: Page): Promise<void> {
  const index = JSON.parse(readFileSync('public/demo/index.json', 'utf8')).filter((e: { file: string }) => e.file === 'fashion-resnet.npz');
  await page.route('**/demo/index.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(index) }));
  await page.route('**/demo/fashion-resnet.npz', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: readFileSync(DEMO) }));
}

test('Classes on the demo: heatmap, curves, learned first, k99; exports equal the CLI', async ({ page }) => {
  test.setTimeout(240_000);
  await withShippedDemo(page);
  await page.goto('/#view=classes');
  await expect(page.getByRole('tab', { name: 'Classes' })).toHaveAttribute('aria-selected', 'true', { timeout: 60_000 });
  const view = classesView(page);
  await expect(view).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  // The demo has a logits layer: auto uses the class logits. Switch to the indicator and the s3b2 layer.
  await page.getByLabel('Class target').selectOption('indicator');
  await expect(view).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await page.getByLabel('Class layer').selectOption('s3b2');
  const heatmap = page.getByRole('img', { name: 'Class sensitivity heatmap of layer s3b2: classes × steps' });
  await expect(heatmap.locator('g.cells rect')).toHaveCount(10 * 14);
  const curves = page.getByRole('img', { name: 'Class sensitivity curves of layer s3b2' });
  await expect(curves).toBeVisible();
  await page.getByLabel('Class threshold').fill('0.9');
  await expect(page.getByTestId('learned-first')).toContainText('first step with ρ ≥ 0.9');
  await expect(page.getByTestId('learned-first')).toContainText(/never: .*class 6/);
  await expect(page.getByRole('img', { name: 'k99 heatmap: layers × steps' }).locator('g.cells rect')).toHaveCount(14 * 14);

  const cli = JSON.parse(
    (await run('node', ['bin/svcca-lens.mjs', 'classes', DEMO, '--target', 'indicator', '--threshold', '0.9', '--json'], { maxBuffer: 1 << 24 })).stdout,
  );
  const figure = figureOf(heatmap);
  const json = JSON.parse((await downloaded(page, () => figure.getByRole('button', { name: 'Export JSON' }).click())).bytes.toString('utf8'));
  // Equal to 1e-9, not bit for bit: the browser's WebAssembly products use fused multiply-adds
  // (relaxed SIMD), Node 20's plain SIMD; the sums differ in their last bits.
  const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
  const [app, reference] = [flat(json.values), flat(cli.values)];
  expect(app.length).toBe(reference.length);
  app.forEach((v, k) => expect(Math.abs(v - reference[k]), `value ${k}`).toBeLessThan(1e-9));
  expect(json.firstStep).toEqual(cli.firstStep);
  expect(json.k99).toEqual(cli.k99);
  expect(json.threshold).toBe(0.9);
  expect(json.inputHash).toBe(cli.inputHash);
  expect(json).toMatchObject({ analysis: 'class-sensitivity', bundle: 'fashion-resnet.npz', run: 'seed0', target: 'indicator' });

  const csv = await downloaded(page, () => figure.getByRole('button', { name: 'Export CSV of the current matrix' }).click());
  expect(csv.name).toBe('fashion-resnet_seed0-classes-s3b2.csv');
  const text = csv.bytes.toString('utf8');
  expect(text).toContain('# bundle: fashion-resnet.npz');
  expect(text).toContain(`# input hash: ${cli.inputHash}`);
  const rows = text.split('\n').filter((l) => l && !l.startsWith('#'));
  expect(rows[0]).toBe('class \\ step (layer s3b2),0,20,40,75,125,200,280,320,360,390,420,490,560,700');
  expect(rows).toHaveLength(11);
  const s3b2 = cli.layers.indexOf('s3b2');
  rows[3]
    .split(',')
    .slice(1)
    .map(Number)
    .forEach((v, t) => expect(Math.abs(v - (cli.values[s3b2][2][t] as number)), `CSV class 2, step ${t}`).toBeLessThan(1e-9));

  const svg = await downloaded(page, () => figure.getByRole('button', { name: 'Export class heatmap as SVG' }).click());
  expect(svg.bytes.toString('utf8')).toContain('fashion-resnet.npz');
  const png = await downloaded(page, () => figure.getByRole('button', { name: 'Export class heatmap as PNG' }).click());
  expect(png.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  const curvesSvg = await downloaded(page, () => figureOf(curves).getByRole('button', { name: 'Export class curves as SVG' }).click());
  expect(curvesSvg.bytes.toString('utf8')).toContain('class 6');
  const k99Csv = await downloaded(page, () =>
    figureOf(page.getByRole('img', { name: 'k99 heatmap: layers × steps' }))
      .getByRole('button', { name: 'Export CSV of the current matrix' })
      .click(),
  );
  expect(
    k99Csv.bytes
      .toString('utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))[1],
  ).toBe(`stem,${cli.k99.map((row: number[]) => row[0]).join(',')}`);
});

test('a bundle without labels: the Classes view says why nothing is shown', async ({ page }) => {
  await page.goto('/');
  await computeBundle(page, [npzBundle('plain.npz', { labels: false })]);
  await page.getByRole('tab', { name: 'Classes' }).click();
  await expect(page.getByTestId('classes-unavailable')).toContainText('plain.npz has no labels');
});

test('the drill-down sweeps k with both k99 marked, and exports the sweep', async ({ page }) => {
  await page.goto('/');
  await computeBundle(page, [npzBundle('toy.npz')]);
  await dynamicsHeatmap(page)
    .locator('g.cells rect')
    .nth(5 * 2 + 2)
    .click();
  const detail = pairDetail(page);
  await expect(detail).toHaveAttribute('data-status', 'done');
  const chart = detail.getByRole('img', { name: 'Similarity against the number of kept directions k' });
  await expect(chart).toBeVisible();
  await expect(chart.locator('g.cut text').first()).toContainText('k99');
  const csv = await downloaded(page, () => detail.getByRole('button', { name: 'Export CSV of the k sweep' }).click());
  const rows = csv.bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  expect(rows[0]).toBe('k,similarity');
  expect(rows[1].startsWith('1,')).toBe(true);
  // The same layer against itself at the same step would be 1 everywhere; here every value is a correlation.
  for (const row of rows.slice(1)) expect(Number(row.split(',')[1])).toBeLessThanOrEqual(1 + 1e-9);
  const json = JSON.parse((await downloaded(page, () => detail.getByRole('button', { name: 'Export JSON of the k sweep' }).click())).bytes.toString('utf8'));
  expect(json.sweepK.length).toBe(rows.length - 1);
  expect(json.k99).toHaveLength(2);
  await downloaded(page, () => detail.getByRole('button', { name: 'Export k sweep as SVG' }).click());
});

test('the Classes view passes axe (WCAG 2 A/AA), light and dark', async ({ page }) => {
  const { default: AxeBuilder } = await import('@axe-core/playwright');
  const check = async (view: string) => {
    const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(
      violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`),
      `axe on ${view}`,
    ).toEqual([]);
  };
  await page.goto('/');
  await computeBundle(page, [npzBundle('toy.npz')]);
  await page.getByRole('tab', { name: 'Classes' }).click();
  await expect(classesView(page)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await check('the Classes view');
  await page.getByLabel('Theme').selectOption('dark');
  await check('the Classes view, dark');
});
