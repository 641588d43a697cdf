// Conv reduction `positions` on a real CNN bundle (the shipped digits run, opened as one's own):
// conv layers at 4×4, a conv layer at 2×2 and dense layers. Only pairs with the same datapoint count
// compute; the others are blank cells (not "not computed yet") whose tooltip and drill-down say
// why; exports hold null (JSON) and empty cells (CSV) and equal the CLI's numbers. The drill-down
// draws at most 2 000 datapoints per direction and the top 10 direction pairs until asked for more.

import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { dynamicsView, pairDetail } from './explorer';
import { expect, test } from './fixtures';

const run = promisify(execFile);
const CNN = 'test/fixtures/real/digits-cnn.npz';
const LAYERS = ['conv1', 'conv2', 'conv3', 'fc1', 'logits'];
/** Datapoints under positions: conv1, conv2 (400·4·4), conv3 (400·2·2), fc1 and logits (400). */
const SIZE = [6400, 6400, 1600, 400, 400];

async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

test('positions with conv and dense layers: blank cells with the reason, nulls in exports equal to the CLI, a bounded drill-down', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  const file = testInfo.outputPath('my-cnn.npz');
  copyFileSync(CNN, file);
  const cli = run('node', ['bin/svcca-lens.mjs', 'dynamics', file, '--conv', 'positions', '--run', 'cnn-seed0', '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });

  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(file);
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await page.getByLabel('Conv layers').selectOption('positions');

  // The preview no longer refuses: it says which cells will be empty and why.
  const preview = page.getByRole('region', { name: 'my-cnn.npz' });
  await expect(preview).toContainText(
    'layers at different sizes under positions: layer conv1, layer conv2 (N·H·W = 6\u202f400 datapoints); layer conv3 (N·H·W = 1\u202f600 datapoints); layer fc1, layer logits (400 datapoints)',
  );
  await expect(preview).toContainText('positions compares layers at the same spatial size only; choose mean-pool or flatten to compare them');
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const view = dynamicsView(page);
  await expect(view.getByRole('alert')).toHaveCount(0);

  // 9 cells compute (conv1/conv2 × conv1/conv2, conv3 × conv3, fc1/logits × fc1/logits); 16 are blank.
  const heat = view.locator('svg.chart.heatmap:not(.multiples)');
  await expect(heat.locator('g.cells rect[data-value]')).toHaveCount(9);
  await expect(heat.locator('g.cells g.blank-cell')).toHaveCount(16);
  await expect(heat.locator('g.cells rect.pending')).toHaveCount(0);
  // One warning names the pairs.
  await expect(view).toContainText(
    'positions compares layers at the same spatial size only; choose mean-pool or flatten to compare them; the cells between these groups (8 pairs) are left empty',
  );

  // Hovering a blank cell (conv1 × fc1: row 0, column 3) says why it is empty.
  const cell = heat.locator('g.cells > *').nth(3);
  await cell.hover();
  const tip = view.locator('.tooltip');
  await expect(tip).toBeVisible();
  await expect(tip).toContainText('SVCCA: not comparable under positions: layer conv1 (N·H·W = 6\u202f400 datapoints) and layer fc1 (400 datapoints)');
  // Clicking it opens the drill-down with the reason, nothing computed.
  await cell.click();
  await expect(pairDetail(page).getByRole('alert')).toContainText('Not comparable under positions: layer conv1');

  // Exports: JSON null where blank, equal to the CLI's numbers elsewhere; CSV cells empty, and said why.
  const json = await downloaded(page, () => view.getByRole('button', { name: 'Export JSON' }).click());
  expect(json.name).toBe('my-cnn_cnn-seed0-dynamics-svcca-positions-cpu-f64.json');
  const app = JSON.parse(json.bytes.toString('utf8'));
  const reference = JSON.parse((await cli).stdout);
  expect(app.layers).toEqual(LAYERS);
  expect(app.options.convReduction).toBe('positions');
  expect(app.values).toHaveLength(reference.values.length);
  app.values.forEach((grid: (number | null)[][], t: number) =>
    grid.forEach((row, i) =>
      row.forEach((v, j) => {
        const cli = reference.values[t][i][j];
        if (SIZE[i] !== SIZE[j]) {
          expect(v, `values[${t}][${i}][${j}]`).toBeNull();
          expect(cli, `CLI values[${t}][${i}][${j}]`).toBeNull();
        } else {
          expect(Math.abs(v! - cli), `values[${t}][${i}][${j}]`).toBeLessThanOrEqual(1e-6);
        }
      }),
    ),
  );
  const figure = view.locator('figure').first();
  const csv = await downloaded(page, () => figure.getByRole('button', { name: 'Export CSV of the current matrix' }).click());
  const text = csv.bytes.toString('utf8');
  expect(text).toContain('# empty cells: conv1 × conv3, conv1 × fc1,');
  const rows = text.split('\n').filter((l) => l && !l.startsWith('#'));
  expect(rows[0].split(',')[0]).toMatch(/^layer at step/);
  const conv1Row = rows.find((l) => l.startsWith('conv1,'))!.split(',');
  expect(conv1Row.slice(1).map((c) => c !== '')).toEqual([true, true, false, false, false]);
  const svg = await downloaded(page, () => figure.getByRole('button', { name: 'Export heatmap as SVG' }).click());
  expect((svg.bytes.toString('utf8').match(/class="blank-cell"/g) ?? []).length).toBe(16);

  // Drill-down of conv1 × conv1: 6 400 datapoints under positions, 2 000 drawn, and it says so.
  const first = heat.locator('g.cells > *').nth(0);
  await first.click();
  const detail = pairDetail(page);
  await expect(detail.locator('figcaption, .caption').filter({ hasText: 'direction pairs' }).first()).toContainText(
    '2\u202f000 of 6\u202f400 datapoints shown (evenly spaced)',
    { timeout: 60_000 },
  );

  // Under CCA fc1 × fc1 has a direction pair per neuron (64): the top 10, then all on request.
  await page.getByLabel('Metric').selectOption('cca');
  await expect(dynamicsView(page)).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const fc1 = heat.locator('g.cells > *').nth(3 * 5 + 3);
  await fc1.click();
  await expect(detail.locator('svg.directions .panel-title')).toHaveCount(10, { timeout: 60_000 });
  const more = detail.getByTestId('more-directions');
  await expect(more).toContainText(/^Top 10 of \d+ direction pairs shown\./);
  const all = Number(/of (\d+) direction/.exec((await more.textContent())!)![1]);
  await more.getByRole('button', { name: `Show all ${all}` }).click();
  await expect(detail.locator('svg.directions .panel-title')).toHaveCount(all, { timeout: 60_000 });
  await expect(more).toHaveCount(0);
});
