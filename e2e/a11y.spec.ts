// Accessibility: no violations from axe-core at WCAG 2 A/AA on every view, in light and dark.

import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { npzBundle } from './bundles';
import { crossView, dynamicsHeatmap, dynamicsView, finished, pairDetail } from './explorer';
import { activationsX, activationsY, expect, npyFile, openFiles, test } from './fixtures';

async function expectNoViolations(page: Page, view: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  const summary = violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
  expect(summary, `axe on ${view}`).toEqual([]);
}

test('every view of the explorer passes axe (WCAG 2 A/AA), light and dark', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('/');
  await expectNoViolations(page, 'the empty page');

  await page.getByTestId('file-input').setInputFiles([npzBundle('runs.npz', { runs: ['a', 'b'], steps: [0, 100, 200] })]);
  await expect(page.getByRole('region', { name: 'runs.npz' })).toBeVisible();
  await finished(dynamicsView(page));
  await expectNoViolations(page, 'the preview, learning dynamics and convergence curves');
  // The rest as Compute used to leave it: the preview collapsed to one line.
  await page.getByRole('button', { name: 'Hide details' }).click();

  await page.getByLabel('All checkpoints').check();
  await expectNoViolations(page, 'small multiples');
  await page.getByLabel('All checkpoints').uncheck();

  await dynamicsHeatmap(page).locator('g.cells rect').nth(3).click();
  await expect(pairDetail(page)).toHaveAttribute('data-status', 'done');
  await expectNoViolations(page, 'the pair drill-down');

  await page.getByRole('tab', { name: 'Across runs' }).click();
  await finished(crossView(page));
  await expectNoViolations(page, 'across runs');

  await page.getByLabel('Theme').selectOption('dark');
  await expectNoViolations(page, 'across runs, dark');
  await page.getByRole('tab', { name: 'Learning dynamics' }).click();
  await finished(dynamicsView(page));
  await expect(pairDetail(page)).toHaveAttribute('data-status', 'done');
  await expectNoViolations(page, 'learning dynamics and the drill-down, dark');
});

test('the "Compare two arrays" view and the demo caption pass axe', async ({ page }) => {
  const bundle = npzBundle('demo.npz', { steps: [0, 10] });
  await page.route('**/demo/index.json', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify([{ id: 'd', title: 'D', caption: 'a demo.', file: 'demo.npz' }]) }),
  );
  await page.route('**/demo/demo.npz', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: bundle.buffer }));
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/');
  await finished(dynamicsView(page));
  await expect(page.getByTestId('demo-caption')).toBeVisible();
  await expectNoViolations(page, 'the demo, dark (system)');

  await page.emulateMedia({ colorScheme: 'light' });
  await openFiles(page, [npyFile('x.npy', activationsX()), npyFile('y.npy', activationsY())]);
  await expect(page.getByRole('region', { name: 'Results' })).toHaveAttribute('data-status', 'done');
  await expect(page.getByRole('tab', { name: 'Compare two arrays' })).toHaveAttribute('aria-selected', 'true');
  await expectNoViolations(page, 'compare two arrays');
});
