// Many seeds in the built app, on a bundle of three runs: "all runs (mean ± spread)" in the
// learning-dynamics view and "All pairs of runs (mean)" in the across-runs view show the same
// numbers as `svcca-lens dynamics --all-runs` and `cross --all-pairs` on the same file, and their
// Export JSON has the CLI's --json shape; tooltips give mean, sd and n; CSV, JSON, SVG and PNG
// exports carry the runs, the per-run values and the provenance. With the chance level on, the
// freeze steps carry the chance at each run's freeze step and the diagonal whether each layer agrees
// across seeds more than chance, equal to the CLI's `--baseline 20 --baseline-cells diagonal`.

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { npzBundle } from './bundles';
import { computeBundle, crossView, dynamicsView, finished } from './explorer';
import { expect, test } from './fixtures';

const run = promisify(execFile);
const RUNS = ['seed0', 'seed1', 'seed2'];
const SPEC = { runs: RUNS, steps: [0, 100, 200, 400], datapoints: 160 };
/** The app and the CLI run the same float64 code on the same arrays. */
const SAME = 1e-9;

async function cli(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('node', ['bin/svcca-lens.mjs', ...args, '--backend', 'cpu', '--json'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(stdout);
}

async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

type Spread = { mean: number | null; sd: number | null; min: number | null; max: number | null; n: number };
const means = (cells: unknown): (number | null)[] => (Array.isArray(cells) ? cells.flatMap(means) : [(cells as Spread).mean]);

/** The app's Export JSON has the CLI's --json keys, less the hash over every array, plus what only the app has. */
function expectSameShape(app: Record<string, unknown>, cli: Record<string, unknown>) {
  const cliKeys = Object.keys(cli).filter((k) => k !== 'inputHash' && k !== 'inputArrays');
  expect(Object.keys(app).sort()).toEqual([...cliKeys, 'about', 'status', 'results'].sort());
  expect(app.analysis).toBe(cli.analysis);
  expect(app.bundle).toBe(cli.bundle);
  expect(app.options).toEqual(cli.options);
}

function expectSameNumbers(app: (number | null)[], reference: (number | null)[]) {
  expect(app.length).toBe(reference.length);
  app.forEach((v, k) => expect(Math.abs((v as number) - (reference[k] as number)), `cell ${k}`).toBeLessThan(SAME));
}

test('learning dynamics over all runs: mean ± sd per cell and freeze steps per run, as the CLI computes them; exports carry them', async ({
  page,
}, testInfo) => {
  const bundle = npzBundle('seeds.npz', SPEC);
  const file = testInfo.outputPath('seeds.npz');
  writeFileSync(file, bundle.buffer);
  const reference = cli(['dynamics', file, '--all-runs', '--threshold', '0.95']);
  await page.goto('/');
  await computeBundle(page, [bundle]);
  await dynamicsView(page).getByLabel('Run').selectOption({ label: 'all runs (mean ± spread)' });
  const view = page.getByTestId('seeds-dynamics');
  await finished(view);
  await expect(view).toContainText('all runs (mean ± spread) · seed0, seed1, seed2');

  await view.getByLabel('Checkpoint').selectOption({ label: '0' });
  const heatmap = page.getByRole('img', { name: /^Learning dynamics heatmap, mean over 3 runs: SVCCA of each layer at step 0 / });
  const cell = heatmap.locator('g.cells rect').nth(1 * 5 + 1);
  await cell.hover();
  const tip = view.locator('.tooltip');
  await expect(tip).toContainText(/mean 0\.\d{4} ± sd 0\.\d{4}/);
  await expect(tip).toContainText('n = 3 runs');
  await page.mouse.move(0, 0);

  const freeze = page.getByRole('table', { name: 'Freeze steps per run' });
  await expect(freeze.getByRole('columnheader')).toHaveText(['layer', ...RUNS, 'mean ± sd', 'min–max']);
  await expect(freeze.getByRole('row')).toHaveCount(1 + 5);
  await expect(page.getByRole('img', { name: /^Convergence curves, mean ± sd over 3 runs/ }).locator('path.layer-band')).toHaveCount(5);

  const json = JSON.parse((await downloaded(page, () => view.getByRole('button', { name: 'Export JSON' }).click())).bytes.toString('utf8'));
  const cliJson = await reference;
  expectSameNumbers(means(json.cells), means(cliJson.cells));
  expect(json.freeze).toEqual(cliJson.freeze);
  expect(json.runs).toEqual(RUNS);
  expectSameShape(json, cliJson);
  expect(json.inputHashes).toEqual(cliJson.inputHashes);
  expect(json.results.map((r: { run: string; inputHash: string }) => r.run)).toEqual(RUNS);
  expect(json.about.bundle).toBe('seeds.npz');
  expect(json.about.app).toMatch(/^svcca-lens \d/);
  expect(json.about['input hashes']).toMatch(/seed0: [0-9a-f]{12}, seed1: [0-9a-f]{12}, seed2: [0-9a-f]{12}/);

  const csv = await downloaded(page, () => view.getByRole('button', { name: "Export CSV of every run's values and the mean over runs" }).click());
  expect(csv.name).toBe('seeds-dynamics-all-runs-svcca-cpu-f64.csv');
  const text = csv.bytes.toString('utf8');
  expect(text).toContain('# runs: seed0 seed1 seed2');
  expect(text).toContain('step,layer,reference layer,mean,sd,min,max,n,run seed0,run seed1,run seed2');
  expect(text).toContain('layer,freeze mean,freeze sd,freeze min,freeze max,runs frozen,run seed0,run seed1,run seed2');
  expect(text.split('\n').filter((l) => /^\d+,/.test(l))).toHaveLength(4 * 5 * 5);

  const svg = await downloaded(page, () => view.getByRole('button', { name: 'Export mean heatmap as SVG' }).click());
  expect(svg.bytes.toString('utf8')).toContain('seed0 seed1 seed2');
  const png = await downloaded(page, () => view.getByRole('button', { name: 'Export convergence curves over runs as PNG' }).click());
  expect(png.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(png.bytes.includes(Buffer.from('input hashes'))).toBe(true);

  // Back to one run: the ordinary view.
  await view.getByRole('combobox', { name: 'Run', exact: true }).selectOption({ label: 'seed1' });
  await expect(page.getByTestId('seeds-dynamics')).toHaveCount(0);
  await finished(dynamicsView(page));
});

test('across runs over all pairs of runs: mean ± sd per cell and the diagonal, as the CLI computes them', async ({ page }, testInfo) => {
  const bundle = npzBundle('seeds.npz', SPEC);
  const file = testInfo.outputPath('seeds.npz');
  writeFileSync(file, bundle.buffer);
  const reference = cli(['cross', file, '--all-pairs']);
  await page.goto('/');
  await computeBundle(page, [bundle]);
  await page.getByRole('tab', { name: /Across runs/ }).click();
  await finished(crossView(page));
  await crossView(page).getByLabel('All pairs of runs (mean)').check();
  const heatmap = page.getByRole('img', { name: /^Across-runs heatmap, mean over 3 pairs of runs/ });
  await expect(heatmap).toBeVisible();
  await heatmap.locator('g.cells rect').nth(0).hover();
  await expect(crossView(page).locator('.tooltip')).toContainText('n = 3 pairs');
  await page.mouse.move(0, 0);
  const diagonal = page.getByRole('table', { name: 'The same layer across seeds' });
  await expect(diagonal.getByRole('row')).toHaveCount(1 + 5);

  const json = JSON.parse((await downloaded(page, () => crossView(page).getByRole('button', { name: 'Export JSON' }).click())).bytes.toString('utf8'));
  const cliJson = await reference;
  expectSameNumbers(means(json.cells), means(cliJson.cells));
  expect(json.pairs.map((p: { a: string; b: string }) => `${p.a}×${p.b}`)).toEqual(['seed0×seed1', 'seed0×seed2', 'seed1×seed2']);
  expect(json.diagonal.map((d: { layer: string }) => d.layer)).toEqual((cliJson.diagonal as { layer: string }[]).map((d) => d.layer));
  expectSameShape(json, cliJson);
  expect(json.inputHashes).toEqual(cliJson.inputHashes);
  const csv = (
    await downloaded(page, () => crossView(page).getByRole('button', { name: "Export CSV of every run's values and the mean over runs" }).click())
  ).bytes.toString('utf8');
  expect(csv).toContain("A's layer,B's layer,mean,sd,min,max,n,seed0×seed1,seed0×seed2,seed1×seed2");
  const svg = await downloaded(page, () => crossView(page).getByRole('button', { name: 'Export mean over pairs heatmap as SVG' }).click());
  expect(svg.bytes.toString('utf8')).toContain('svcca-lens');
});

test('with the chance level: which layers agree across seeds more than chance, and the chance at each freeze step, as the CLI computes them', async ({
  page,
}, testInfo) => {
  const bundle = npzBundle('seeds.npz', SPEC);
  const file = testInfo.outputPath('seeds.npz');
  writeFileSync(file, bundle.buffer);
  const chance = ['--baseline', '20', '--seed', '1', '--baseline-cells', 'diagonal'];
  const crossReference = cli(['cross', file, '--all-pairs', ...chance]);
  const dynamicsReference = cli(['dynamics', file, '--all-runs', '--threshold', '0.95', ...chance]);
  await page.goto('/');
  await computeBundle(page, [bundle]);

  await page.getByRole('tab', { name: /Across runs/ }).click();
  await finished(crossView(page));
  await crossView(page).getByLabel('All pairs of runs (mean)').check();
  const seeds = page.getByTestId('seeds-cross');
  await seeds.getByLabel('Chance level').check();
  const diagonal = page.getByRole('table', { name: 'The same layer across seeds' });
  await expect(diagonal.getByRole('columnheader')).toHaveText([
    'layer',
    'mean',
    'sd',
    'min–max',
    'chance',
    'z per pair',
    'combined z',
    'p',
    'p (Holm)',
    'above chance across seeds',
  ]);
  await finished(seeds);
  const cross = await crossReference;
  type Diagonal = { layer: string; spread: Spread; chance: { chance: Spread; combinedZ: number; p: number; pHolm: number; aboveChance: boolean } };
  const cliDiagonal = cross.diagonal as Diagonal[];
  // The table shows the CLI's verdicts, layer by layer.
  await expect(diagonal.locator('tbody tr td:last-child')).toHaveText(cliDiagonal.map((d) => (d.chance.aboveChance ? 'yes' : 'no')));
  await expect(diagonal.locator('tbody tr').first().locator('td').nth(3)).toHaveText(
    cliDiagonal[0].chance.chance.mean!.toFixed(3) + ' ± ' + cliDiagonal[0].chance.chance.sd!.toFixed(3),
  );
  await diagonal.scrollIntoViewIfNeeded();
  const heatmap = page.getByRole('img', { name: /^Across-runs heatmap, mean over 3 pairs of runs/ });
  await heatmap.locator('g.cells rect').nth(0).hover();
  await expect(crossView(page).locator('.tooltip')).toContainText('chance 0.');
  await page.mouse.move(0, 0);

  const json = JSON.parse((await downloaded(page, () => seeds.getByRole('button', { name: 'Export JSON' }).click())).bytes.toString('utf8'));
  expectSameShape(json, cross);
  const appDiagonal = json.diagonal as Diagonal[];
  expectSameNumbers(
    appDiagonal.flatMap((d) => [d.chance.chance.mean, d.chance.chance.sd, d.chance.combinedZ, d.chance.p, d.chance.pHolm]),
    cliDiagonal.flatMap((d) => [d.chance.chance.mean, d.chance.chance.sd, d.chance.combinedZ, d.chance.p, d.chance.pHolm]),
  );
  expect(appDiagonal.map((d) => d.chance.aboveChance)).toEqual(cliDiagonal.map((d) => d.chance.aboveChance));
  expect(json.chanceTest).toEqual(cross.chanceTest);
  expect(json.about['chance level']).toContain('20 draws of the default null');
  const csv = (
    await downloaded(page, () => seeds.getByRole('button', { name: "Export CSV of every run's values and the mean over runs" }).click())
  ).bytes.toString('utf8');
  expect(csv).toContain("A's layer,B's layer,mean,sd,min,max,n,seed0×seed1,seed0×seed2,seed1×seed2,chance mean,chance sd over pairs,combined z,p");
  expect(csv).toContain(
    'layer,mean,sd,n,chance mean,chance sd over pairs,chance sd per pair (mean),z mean,z sd,combined z,p,p (Holm),above chance across seeds',
  );
  const rows = csv.split('\n');
  const section = rows.indexOf(
    'layer,mean,sd,n,chance mean,chance sd over pairs,chance sd per pair (mean),z mean,z sd,combined z,p,p (Holm),above chance across seeds',
  );
  cliDiagonal.forEach((d, k) => {
    const cells = rows[section + 1 + k].split(',');
    expect(cells[0]).toBe(d.layer);
    expect(Math.abs(Number(cells[9]) - d.chance.combinedZ)).toBeLessThan(SAME * Math.max(1, Math.abs(d.chance.combinedZ)));
    expect(cells[12]).toBe(d.chance.aboveChance ? 'yes' : 'no');
  });

  // The learning dynamics over runs: the chance at each run's freeze step.
  await page.getByRole('tab', { name: /Learning dynamics/ }).click();
  await dynamicsView(page).getByLabel('Run').selectOption({ label: 'all runs (mean ± spread)' });
  const view = page.getByTestId('seeds-dynamics');
  await expect(view.getByLabel('Chance level')).toBeChecked();
  await finished(view);
  const freeze = page.getByRole('table', { name: 'Freeze steps per run' });
  await expect(freeze.getByRole('columnheader')).toHaveText(['layer', ...RUNS, 'mean ± sd', 'min–max', 'chance at freeze', 'above chance + 2 sd']);
  const dynamics = await dynamicsReference;
  const appFreeze = JSON.parse((await downloaded(page, () => view.getByRole('button', { name: 'Export JSON' }).click())).bytes.toString('utf8'));
  expectSameShape(appFreeze, dynamics);
  type Freeze = {
    layer: string;
    steps: (number | null)[];
    chance: { baselines: ({ mean: number } | null)[]; aboveChance: (boolean | null)[]; aboveChanceRuns: number };
  };
  const cliFreeze = dynamics.freeze as Freeze[];
  (appFreeze.freeze as Freeze[]).forEach((f, k) => {
    expect(f.steps).toEqual(cliFreeze[k].steps);
    expect(f.chance.aboveChance).toEqual(cliFreeze[k].chance.aboveChance);
    expectSameNumbers(
      f.chance.baselines.map((b) => b?.mean ?? null),
      cliFreeze[k].chance.baselines.map((b) => b?.mean ?? null),
    );
  });
  const frozen = cliFreeze.filter((f) => f.chance.aboveChance.some((a) => a !== null));
  expect(frozen.length).toBeGreaterThan(0);
  await expect(
    freeze
      .getByRole('row', { name: new RegExp(`^${frozen[0].layer} `) })
      .locator('td')
      .last(),
  ).toHaveText(`${frozen[0].chance.aboveChanceRuns} of ${frozen[0].chance.aboveChance.filter((a) => a !== null).length} runs`);
});
