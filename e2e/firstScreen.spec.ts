// The first screen shows the result: at 1280 × 800 the demo's heatmap is in view without scrolling,
// on an informative checkpoint (not initialisation; the demo's own "step" when index.json names
// one), with values printed in its cells, and the convergence lines named at their ends.

import { dynamicsHeatmap, dynamicsView, withDigitsDemo } from './explorer';
import { expect, test } from './fixtures';

test.use({ viewport: { width: 1280, height: 800 } });

test('at 1280 × 800 the heatmap is visible without scrolling, on a mid-training checkpoint, with values in its cells and named curves', async ({ page }) => {
  test.setTimeout(180_000);
  await withDigitsDemo(page);
  await page.goto('/');
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  expect(await page.evaluate(() => window.scrollY)).toBe(0);
  const box = (await dynamicsHeatmap(page).boundingBox())!;
  expect(box.y).toBeGreaterThan(0);
  expect(box.y + box.height).toBeLessThanOrEqual(800);
  // Not initialisation: the middle of the demo's 8 checkpoints, step 100.
  await expect(page.getByTestId('step-readout')).toHaveText('step 100 · 5/8');
  await expect(dynamicsHeatmap(page)).toHaveAccessibleName(/at step 100 against each layer at the reference step 2000/);
  // Every cell prints its value (two decimals) over its colour.
  const rects = dynamicsHeatmap(page).locator('g.cells rect');
  const texts = dynamicsHeatmap(page).locator('g.cell-values text');
  await expect(texts).toHaveCount(25);
  for (const k of [0, 7, 24]) {
    const value = Number(await rects.nth(k).getAttribute('data-value'));
    await expect(texts.nth(k)).toHaveText(value.toFixed(2).replace(/^0\./, '.'));
  }
  // Convergence lines are named at their ends.
  const curves = page.getByRole('img', { name: /^Convergence curves/ });
  await expect(curves.locator('g.end-labels text'))
    .toHaveText(['conv1', 'conv2', 'conv3', 'fc1', 'logits'].sort(), { useInnerText: true })
    .catch(async () => {
      // Ordered by where each line ends (top to bottom), not alphabetically: compare as sets.
      const names = await curves.locator('g.end-labels text').allTextContents();
      expect([...names].sort()).toEqual(['conv1', 'conv2', 'conv3', 'fc1', 'logits']);
    });
  await expect(curves.locator('g.legend text')).toHaveCount(0);
});

test('a demo entry that names its checkpoint ("step") opens on it', async ({ page }) => {
  test.setTimeout(180_000);
  await withDigitsDemo(page, { step: 740 });
  await page.goto('/');
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  await expect(page.getByTestId('step-readout')).toHaveText('step 740 · 7/8');
  await expect(page).toHaveURL(/#t=6$/);
});
