// What a researcher's pass through the built app asked for: a CPU threads setting (auto or a number,
// kept over a reload, used by the next job); how conv layers were read shown as notes, apart from
// the warnings; the heatmap's exports in a compact row above it, as in the other views; and the
// per-class curves named beside their ends (lines ending together share one label), not stacked
// down the axis.

import { readFileSync } from 'node:fs';
import type { Locator, Page } from '@playwright/test';
import { npzBundle } from './bundles';
import { computeBundle, crossView, dynamicsHeatmap, dynamicsView, figureOf, finished, withDigitsDemo } from './explorer';
import { expect, test } from './fixtures';

async function exportJson(page: Page) {
  const [download] = await Promise.all([page.waitForEvent('download'), dynamicsView(page).getByRole('button', { name: 'Export JSON' }).click()]);
  return JSON.parse(readFileSync(await download.path(), 'utf8'));
}

test('CPU threads: auto by default, a number kept over a reload and run by the next job, auto again clears it', async ({ page }) => {
  test.setTimeout(120_000);
  const bundle = npzBundle('toy.npz');
  await page.goto('/#backend=cpu');
  // The settings row comes with the first data.
  await computeBundle(page, [bundle]);
  const threads = page.getByLabel('CPU threads');
  await expect(threads).toHaveValue('auto');
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const auto = Math.max(1, Math.min(16, cores - 1)); // one per core but one
  // auto (naming the count it gives), then 1 … the cores (at most 16).
  await expect(threads.locator('option')).toHaveCount(1 + Math.min(16, cores));
  await expect(threads.locator('option').first()).toHaveText(`auto (${auto})`);
  expect((await exportJson(page)).provenance.threads).toBe(auto);

  const chosen = Math.min(2, cores);
  await threads.selectOption(String(chosen));
  await page.reload();
  await computeBundle(page, [bundle]);
  await expect(page.getByLabel('CPU threads')).toHaveValue(String(chosen));
  expect((await exportJson(page)).provenance).toMatchObject({ backend: 'cpu', threads: chosen });

  await page.getByLabel('CPU threads').selectOption('auto');
  expect(await page.evaluate(() => localStorage.getItem('svcca-lens-threads'))).toBeNull();
  await page.reload();
  await computeBundle(page, [bundle]);
  await expect(page.getByLabel('CPU threads')).toHaveValue('auto');
});

/** The export buttons of a chart's figure: all on one line, above the chart. */
async function expectExportRowAbove(figure: Locator, chart: Locator): Promise<void> {
  const buttons = figure.getByRole('group', { name: /^Export / }).getByRole('button');
  await expect(buttons).toHaveText(['PNG', 'SVG', 'CSV', 'Export JSON']);
  const boxes = await Promise.all((await buttons.all()).map((b) => b.boundingBox()));
  for (const box of boxes) expect(Math.abs(box!.y - boxes[0]!.y)).toBeLessThan(1);
  const chartBox = (await chart.boundingBox())!;
  expect(boxes[0]!.y + boxes[0]!.height).toBeLessThanOrEqual(chartBox.y);
}

test('conv readings are notes, apart from the warnings; the heatmaps’ exports are a row above them', async ({ page }) => {
  test.setTimeout(180_000);
  await withDigitsDemo(page);
  await page.goto('/');
  await finished(dynamicsView(page));
  const notes = dynamicsView(page).getByRole('list', { name: 'Notes' });
  await expect(notes).toContainText('conv layer stored');
  await expect(notes).toContainText('reduced with dft');
  // Quiet: no warning colour, no ⚠.
  const note = notes.getByRole('listitem').first();
  expect(await note.evaluate((li) => getComputedStyle(li).backgroundColor)).toBe('rgba(0, 0, 0, 0)');
  expect(await note.evaluate((li) => getComputedStyle(li, '::before').content)).toBe('none');
  await expect(dynamicsView(page).getByRole('list', { name: 'Warnings' }).filter({ hasText: 'conv layer stored' })).toHaveCount(0);

  await expectExportRowAbove(figureOf(dynamicsHeatmap(page)), dynamicsHeatmap(page));
  await page.getByRole('tab', { name: 'Across runs' }).click();
  await finished(crossView(page));
  const cross = page.getByRole('img', { name: /^Across-runs heatmap/ });
  await expectExportRowAbove(figureOf(cross), cross);
});

test('per-class curves: the logits’ ten curves, all ending near ρ = 1, share one label beside their end', async ({ page }) => {
  test.setTimeout(180_000);
  await withDigitsDemo(page);
  await page.goto('/#view=classes');
  const view = page.locator('section[aria-labelledby="classes-heading"]');
  await expect(view).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await page.getByLabel('Class layer').selectOption('logits');
  const curves = page.getByRole('img', { name: 'Class sensitivity curves of layer logits' });
  const labels = curves.locator('g.end-labels text');
  await expect(labels).toHaveText(['class 0–9']);
  // Beside the curves' end: within a label's height of the last points, not down the axis.
  const label = (await labels.first().boundingBox())!;
  const ends = await curves
    .locator('g.layer-line')
    .evaluateAll((lines) => lines.map((g) => [...g.querySelectorAll('circle')].at(-1)!.getBoundingClientRect().y));
  expect(ends).toHaveLength(10);
  for (const y of ends) expect(Math.abs(label.y + label.height / 2 - y)).toBeLessThan(14);
  await expect(curves.locator('g.end-labels title')).toHaveText(Array.from({ length: 10 }, (_, c) => `class ${c}`).join(', '));
});
