// The chance level in the app (issue 14, items 1 and 5), on the demo flow (the digits CNN served as
// the demo, e2e/explorer.ts withDigitsDemo): the "Chance level" switch computes the convergence
// curves' chance bands (mean ± 2 sd per layer per step), the freeze steps say whether the threshold
// is above chance, the drill-down gives a cell's chance level, and the exports carry it
// (JSON: baseline per cell; SVG/PNG: the bands).

import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { dynamicsHeatmap, dynamicsView, pairDetail, withDigitsDemo } from './explorer';
import { expect, test } from './fixtures';

async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

test('chance bands on the convergence curves, chance at the freeze steps and in the exports', async ({ page }) => {
  test.setTimeout(300_000);
  await withDigitsDemo(page);
  await page.goto('/');
  const view = dynamicsView(page);
  await expect(view).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  const curves = page.getByRole('img', { name: /^Convergence curves/ });
  await expect(curves.getByTestId('chance-bands')).toHaveCount(0);

  await view.getByRole('checkbox', { name: 'Chance level' }).check();
  await expect(view).toHaveAttribute('data-status', 'done', { timeout: 180_000 });
  // One band per layer (conv1, conv2, conv3, fc1, logits), each a closed area.
  const bands = curves.getByTestId('chance-bands').locator('path');
  await expect(bands).toHaveCount(5);
  expect(await bands.first().getAttribute('d')).toMatch(/^M[\d.,-]+L.*Z$/);
  // The freeze list states the chance level at each freeze step.
  await expect(view.getByRole('list', { name: 'Freeze steps' })).toContainText(/chance 0\.\d{3} ± 0\.\d{3}: threshold (above|NOT above) chance \+ 2 sd/);
  await expect(page.getByRole('figure').filter({ has: curves }).locator('figcaption')).toContainText('shaded: chance level');

  // Export JSON: the engine's baseline per cell (the convergence curves' cells; others null).
  const json = await downloaded(page, () => view.getByRole('button', { name: 'Export JSON' }).click());
  const exported = JSON.parse(json.bytes.toString('utf8')) as {
    baseline: ({ mean: number; sd: number; p: number; permutations: number; seed: number } | null)[][][];
    values: number[][][];
  };
  expect(exported.baseline.length).toBe(exported.values.length);
  const diagonal = exported.baseline[0][0][0]!;
  expect(diagonal.permutations).toBe(20);
  expect(diagonal.seed).toBe(1);
  expect(exported.baseline[0][0][1]).toBeNull();
  // A layer against itself at the reference step: far above its chance level.
  const last = exported.values.length - 1;
  expect(exported.values[last][4][4]).toBeGreaterThan(0.99);
  expect(exported.baseline[last][4][4]!.mean).toBeLessThan(0.9);

  // SVG and PNG of the convergence figure carry the bands.
  const figure = page.getByRole('figure').filter({ has: curves });
  const svg = await downloaded(page, () => figure.getByRole('button', { name: /as SVG/ }).click());
  expect(svg.bytes.toString('utf8')).toContain('chance-bands');
  const png = await downloaded(page, () => figure.getByRole('button', { name: /as PNG/ }).click());
  expect(png.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');

  // The drill-down of a cell gives its chance level (the pair on its own, 20 permutations).
  await dynamicsHeatmap(page).locator('g.cells rect').first().click();
  await expect(pairDetail(page).getByTestId('chance')).toHaveText(/^0\.\d{4} ± 0\.\d{4} · z -?[\d.]+ · p 0\.\d{3}(, the least 20 draws give)?$/, {
    timeout: 60_000,
  });

  // Turning it off hides the bands (the job without a baseline is cached or recomputed).
  await view.getByRole('checkbox', { name: 'Chance level' }).uncheck();
  await expect(view).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  await expect(curves.getByTestId('chance-bands')).toHaveCount(0);
});
