// The chance level on the shipped demo (public/demo: the ResNet on Fashion-MNIST over training, two
// seeds), as a researcher uses it: turn it on, see the convergence curves' chance bands, the
// heatmap above chance (similarity − chance, then z) with cells without a chance level hatched,
// the tooltip, the exports (CSV with the chance columns, JSON, SVG, PNG) in the learning-dynamics
// and across-runs views, the URL that keeps it, and the app's numbers equal to
// `svcca-lens dynamics/cross --baseline 20 --baseline-cells diagonal` on the same file.
// Only the diagonal cells get a chance level (the app's default: every cell would cost L times
// more), and the link leaves out 9 of the 14 layers (the app's own left-out layers, #drop=), so that
// the spec stays short on a CPU: the kept layers' numbers do not depend on the others, and are
// compared with the CLI's on all 14.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Locator, Page } from '@playwright/test';
import { crossView, dynamicsHeatmap, dynamicsView, figureOf, withShippedDemo } from './explorer';
import { expect, test } from './fixtures';

const run = promisify(execFile);
const DEMO = 'public/demo/fashion-resnet.npz';
/** The layers kept: the stem, the last block of each stage, the logits. */
const KEPT = ['stem', 's1b2', 's2b2', 's3b2', 'logits'];
const LEFT_OUT = ['s1b1-inner', 's1b1', 's1b2-inner', 's2b1-inner', 's2b1', 's2b2-inner', 's3b1-inner', 's3b1', 's3b2-inner'];
const LAYERS = KEPT.length;
/** The browser's relaxed-SIMD products fuse multiply-adds, Node's do not: equal to 1e-9, not bit for bit (as classes.spec.ts). */
const TOLERANCE = 1e-9;

interface Chance {
  mean: number;
  sd: number;
  z: number | null;
  p: number;
  permutations: number;
  seed: number;
}

async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  const bytes = readFileSync(await download.path());
  return { name: download.suggestedFilename(), text: bytes.toString('utf8'), bytes };
}

async function cli(args: string[]): Promise<{ values: unknown; baseline: unknown }> {
  return JSON.parse(
    (await run('node', ['bin/svcca-lens.mjs', ...args, '--baseline', '20', '--baseline-cells', 'diagonal', '--json'], { maxBuffer: 1 << 26 })).stdout,
  );
}

/** Numbers (and nulls) of nested arrays and chance objects, in order: mean, sd, z, p of each chance level. */
function flat(v: unknown): (number | null)[] {
  if (Array.isArray(v)) return v.flatMap(flat);
  if (v !== null && typeof v === 'object') {
    const c = v as Chance;
    return [c.mean, c.sd, c.z, c.p, c.permutations, c.seed];
  }
  return [v as number | null];
}

/** The CLI's grid (all 14 layers: `layers`) cut to the kept layers. */
function kept<T>(grid: T[][], layers: string[]): T[][] {
  const at = KEPT.map((l) => layers.indexOf(l));
  return at.map((i) => at.map((j) => grid[i][j]));
}

function expectClose(app: unknown, reference: unknown, what: string): void {
  const [a, b] = [flat(app), flat(reference)];
  expect(a.length, what).toBe(b.length);
  a.forEach((v, k) => {
    if (v === null || b[k] === null) expect(v, `${what} ${k}`).toBe(b[k]);
    else expect(Math.abs(v - b[k]), `${what} ${k}`).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(b[k])));
  });
}

/** The long CSV's lines (no "#" lines) as cells. */
const csvRows = (text: string) =>
  text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(','));

/** Hovers heatmap cell (i, j) of a LAYERS × LAYERS grid and returns the tooltip's text. */
async function tooltipOf(heatmap: Locator, i: number, j: number): Promise<string> {
  await heatmap
    .locator('g.cells > *')
    .nth(i * LAYERS + j)
    .hover();
  const tip = heatmap.locator('xpath=ancestor::div[contains(@class,"heatmap-wrap")][1]').locator('.tooltip');
  await expect(tip).toBeVisible();
  return (await tip.textContent()) ?? '';
}

test('chance on the shipped demo: bands, heatmap above chance, tooltip, exports and the CLI, in both grid views', async ({ page }) => {
  test.setTimeout(480_000);
  // The CLI's answers, computed while the browser computes its own.
  const cliDynamics = cli(['dynamics', DEMO]);
  const cliCross = cli(['cross', DEMO, DEMO, '--run-a', 'seed0', '--run-b', 'seed1']);
  await withShippedDemo(page);
  await page.goto(`/#drop=${LEFT_OUT.join(',')}`);
  const view = dynamicsView(page);
  // On as soon as the view shows (the job without chance is cancelled and restarts with it).
  await view.getByRole('checkbox', { name: 'Chance level' }).check({ timeout: 60_000 });
  const curves = page.getByRole('img', { name: /^Convergence curves/ });
  await expect(view).toHaveAttribute('data-status', 'done', { timeout: 240_000 });
  await expect(curves.getByTestId('chance-bands').locator('path')).toHaveCount(LAYERS);
  await expect(page).toHaveURL(/#.*chance=1/);

  // Similarity − chance: the diagonal coloured on the diverging scale, the rest hatched (no chance level there).
  await view.getByLabel('Heatmap shows').selectOption('above-chance');
  const heatmap = page.getByRole('img', { name: /^Learning dynamics heatmap: SVCCA − chance/ });
  await expect(heatmap.locator('.legend-title')).toHaveText('SVCCA − chance');
  await expect(heatmap.locator('g.cells g.blank-cell')).toHaveCount(LAYERS * LAYERS - LAYERS);
  await expect(view.getByTestId('chance-missing')).toContainText('computed for the diagonal only');
  await expect(figureOf(heatmap).locator('figcaption')).toContainText('minus its chance level');
  await expect(page).toHaveURL(/#.*chance=1&heat=above-chance/);
  const diagonalTip = await tooltipOf(heatmap, 3, 3);
  expect(diagonalTip).toMatch(/SVCCA − chance = 0\.\d{6}/);
  expect(diagonalTip).toMatch(
    /chance 0\.\d{3} ± 0\.\d{3} \(z [\d.]+, p 0\.\d{3}(, the least 20 draws give)?; 20 draws of the Gaussian null \(independent data, same kept dimensions\)\)/,
  );
  expect(await tooltipOf(heatmap, 3, 4)).toContain('no chance level: only the diagonal cells');

  // The app's numbers are the CLI's: the JSON (values and every chance level), the heatmap CSV, the curves' CSV.
  const reference = (await cliDynamics) as { values: number[][][]; baseline: (Chance | null)[][][]; steps: number[]; layers: string[] };
  const json = JSON.parse((await downloaded(page, () => view.getByRole('button', { name: 'Export JSON' }).click())).text);
  expect(json.layers).toEqual(KEPT);
  expect(json.leftOut).toEqual(LEFT_OUT);
  expectClose(
    json.values,
    reference.values.map((g) => kept(g, reference.layers)),
    'dynamics value',
  );
  expectClose(
    json.baseline,
    reference.baseline.map((g) => kept(g, reference.layers)),
    'dynamics chance',
  );
  const t = reference.steps.indexOf(280); // the demo opens on step 280
  const csv = await downloaded(page, () => figureOf(heatmap).getByRole('button', { name: 'Export CSV of the current matrix' }).click());
  expect(csv.name).toBe('fashion-resnet_seed0-dynamics-svcca-dft-cpu-f64-step-280.csv');
  const rows = csvRows(csv.text);
  expect(rows[0]).toEqual(['layer at step 280', 'layer at step 700', 'svcca', 'chance mean', 'chance sd', 'z', 'p', 'permutations', 'seed']);
  expect(rows).toHaveLength(1 + LAYERS * LAYERS);
  const s2b2 = reference.layers.indexOf('s2b2');
  const line = rows[1 + 2 * LAYERS + 2];
  expect(line.slice(0, 2)).toEqual(['s2b2', 's2b2']);
  expectClose(line.slice(2).map(Number), [reference.values[t][s2b2][s2b2], reference.baseline[t][s2b2][s2b2]], 'CSV s2b2');
  expect(rows[2].slice(0, 2)).toEqual(['stem', 's1b2']);
  expect(rows[2].slice(3).every((c) => c === '')).toBe(true); // no chance level off the diagonal: empty columns
  const curvesCsv = csvRows(
    (await downloaded(page, () => figureOf(curves).getByRole('button', { name: 'Export CSV of the convergence curves' }).click())).text,
  );
  expect(curvesCsv).toHaveLength(1 + LAYERS * reference.steps.length);
  const logits = reference.layers.indexOf('logits');
  const first = curvesCsv.find((r) => r[0] === 'logits' && r[1] === '0')!;
  expectClose(first.slice(2).map(Number), [reference.values[0][logits][logits], reference.baseline[0][logits][logits]], 'curves CSV logits at step 0');
  const svg = await downloaded(page, () =>
    figureOf(heatmap)
      .getByRole('button', { name: /as SVG/ })
      .click(),
  );
  expect(svg.text).toContain('SVCCA − chance');
  expect(svg.text).toContain('blank-cell');
  const png = await downloaded(page, () =>
    figureOf(heatmap)
      .getByRole('button', { name: /as PNG/ })
      .click(),
  );
  expect(png.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(
    (
      await downloaded(page, () =>
        figureOf(curves)
          .getByRole('button', { name: /as SVG/ })
          .click(),
      )
    ).text,
  ).toContain('chance-bands');

  // z: its own scale, and the tooltip leads with it.
  await view.getByLabel('Heatmap shows').selectOption('z');
  const zHeatmap = page.getByRole('img', { name: /^Learning dynamics heatmap: z vs chance/ });
  await expect(zHeatmap.locator('.legend-title')).toHaveText('z vs chance');
  expect(await tooltipOf(zHeatmap, 3, 3)).toMatch(/z = [\d.]+SVCCA = 0\.\d{6}chance/);

  // Across runs: seed0 × seed1 at the last step, with the same chance level and mode.
  await page.getByRole('tab', { name: 'Across runs' }).click();
  const cross = crossView(page);
  await expect(cross).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(page).toHaveURL(/#.*chance=1&heat=z/);
  const crossHeatmap = page.getByRole('img', { name: /^Across-runs heatmap: z vs chance/ });
  await expect(crossHeatmap.locator('g.cells g.blank-cell')).toHaveCount(LAYERS * LAYERS - LAYERS);
  expect(await tooltipOf(crossHeatmap, 0, 0)).toMatch(/^A stem × B stem at step 700z = [\d.]+SVCCA = 0\.\d{6}chance 0\.\d{3}/);
  const crossReference = (await cliCross) as { values: number[][]; baseline: (Chance | null)[][]; layersA: string[] };
  const crossJson = JSON.parse((await downloaded(page, () => cross.getByRole('button', { name: 'Export JSON' }).click())).text);
  expectClose(crossJson.values, kept(crossReference.values, crossReference.layersA), 'cross value');
  expectClose(crossJson.baseline, kept(crossReference.baseline, crossReference.layersA), 'cross chance');
  const crossCsv = csvRows(
    (await downloaded(page, () => figureOf(crossHeatmap).getByRole('button', { name: 'Export CSV of the current matrix' }).click())).text,
  );
  expect(crossCsv[0].slice(0, 3)).toEqual(["A's layer", "B's layer", 'svcca']);
  expect(crossCsv[1].slice(0, 2)).toEqual(['stem', 'stem']);
  expectClose(crossCsv[1].slice(2).map(Number), [crossReference.values[0][0], crossReference.baseline[0][0]], 'cross CSV stem × stem');
  expect(
    (
      await downloaded(page, () =>
        figureOf(crossHeatmap)
          .getByRole('button', { name: /as SVG/ })
          .click(),
      )
    ).text,
  ).toContain('z vs chance');
  const crossPng = await downloaded(page, () =>
    figureOf(crossHeatmap)
      .getByRole('button', { name: /as PNG/ })
      .click(),
  );
  expect(crossPng.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');

  // The link keeps it: a reload opens the across-runs view with the chance level on and z shown.
  await page.reload();
  await expect(crossView(page)).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(crossView(page).getByRole('checkbox', { name: 'Chance level' })).toBeChecked();
  await expect(crossView(page).getByLabel('Heatmap shows')).toHaveValue('z');
  await expect(page.getByRole('img', { name: /^Across-runs heatmap: z vs chance/ })).toBeVisible();

  // Off: the heatmap is the similarity again, nothing hatched.
  await crossView(page).getByRole('checkbox', { name: 'Chance level' }).uncheck();
  await expect(crossView(page)).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(page.getByRole('img', { name: /^Across-runs heatmap: SVCCA of/ }).locator('g.blank-cell')).toHaveCount(0);
  await expect(dynamicsHeatmap(page)).toHaveCount(0);
});
