#!/usr/bin/env node
// The demo's first screen, as a visitor sees it: serves the static build (dist/, run `npm run build`
// first) under a sub-path, opens it in Debian's Chromium at 1280 x 800, waits until the demo has
// computed, and saves the viewport (what is above the fold, nothing scrolled) as a PNG. It also
// reports how long the page took: to the first heatmap, and to the whole demo computed.
//
//   node scripts/screenshot-demo.mjs                      # -> docs/screenshots/demo-first-screen.png
//   node scripts/screenshot-demo.mjs --out /tmp/x.png     # elsewhere
//   node scripts/screenshot-demo.mjs --cpu                # without WebGPU: the app's CPU path (timing)
//   node scripts/screenshot-demo.mjs --no-shot            # timing only
//
// Timings are one run on this machine (wall clock, including the download from a local server);
// they are a measurement, not a test.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const PREFIX = '/svcca-lens/';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const out = resolve(value('--out', join(ROOT, 'docs', 'screenshots', 'demo-first-screen.png')));
const width = Number(value('--width', 1280));
const height = Number(value('--height', 800));

const server = createServer(async (request, response) => {
  const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
  if (!path.startsWith(PREFIX)) return response.writeHead(404).end();
  const relative = normalize(path.slice(PREFIX.length) || 'index.html');
  if (relative.startsWith('..')) return response.writeHead(403).end();
  try {
    const body = await readFile(join(DIST, relative));
    response.writeHead(200, { 'content-type': TYPES[extname(relative)] ?? 'application/octet-stream' }).end(body);
  } catch {
    response.writeHead(404).end();
  }
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const url = `http://127.0.0.1:${server.address().port}${PREFIX}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [...(flag('--cpu') ? [] : ['--enable-unsafe-webgpu']), '--no-sandbox', '--disable-background-networking', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1, colorScheme: 'light' });
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  const started = Date.now();
  await page.goto(url);
  const heatmap = page.getByRole('img', { name: /^Learning dynamics heatmap/ });
  await heatmap.waitFor({ state: 'visible', timeout: 180_000 });
  const firstHeatmap = (Date.now() - started) / 1000;
  // Computed: no job is running any more (the progress bar of a running job is gone).
  await page.locator('.job-status.running').first().waitFor({ state: 'detached', timeout: 300_000 });
  const computed = (Date.now() - started) / 1000;
  const backend =
    (await page
      .locator('[data-testid="dynamics-backend"]')
      .textContent()
      .catch(() => null)) ?? 'unknown';
  console.log(
    `${url} at ${width}x${height}${flag('--cpu') ? ' (WebGPU off)' : ''}: first heatmap after ${firstHeatmap.toFixed(1)} s, demo computed after ${computed.toFixed(1)} s; ${backend.trim()}`,
  );
  if (errors.length) console.log(`console errors: ${errors.join(' | ')}`);
  if (!flag('--no-shot')) {
    await page.evaluate('window.scrollTo(0, 0)'); // runs in the page (a string: the page's globals, not Node's)
    await page.waitForTimeout(300); // let the last frame paint
    await page.screenshot({ path: out, animations: 'disabled' });
    console.log(`wrote ${out}`);
  }
} finally {
  await browser.close();
  server.close();
}
