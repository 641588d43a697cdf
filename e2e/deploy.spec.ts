// The static build deployed under a nested sub-path of a plain static server (as GitHub Pages or any
// host serves it): the demo renders with no click, nothing is requested outside the page's origin,
// the Content-Security-Policy holds and the console stays free of errors.
import { createServer, type Server } from 'node:http';
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

const PREFIX = '/nested/deeper/svcca/';
/** The deployed build's size budget (README, "Deploying"): the scripts a visitor's first visit
 *  downloads (the app's entry chunks and its worker), the chunks loaded only when a format needs
 *  them (h5wasm, the HDF5 reader, on the first HDF5 file), the demo data, and everything deployed. */
const BUDGET = { firstVisitScript: 1_000_000, lazyScript: 5_200_000, demoData: 20_000_000, total: 26_500_000 };
const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
let server: Server;
let origin = '';

test.beforeAll(async () => {
  server = createServer(
    (request, response) =>
      void (async () => {
        const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
        if (!path.startsWith(PREFIX)) {
          response.writeHead(404).end('not under the deployment prefix');
          return;
        }
        const relative = normalize(path.slice(PREFIX.length) || 'index.html');
        if (relative.startsWith('..')) {
          response.writeHead(403).end();
          return;
        }
        try {
          const body = await readFile(join(DIST, relative));
          response.writeHead(200, { 'content-type': TYPES[extname(relative)] ?? 'application/octet-stream' }).end(body);
        } catch {
          response.writeHead(404).end('not found');
        }
      })(),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

test.afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('the build served from a nested sub-path opens on the demo, stays on its origin, logs no errors', async ({ page }) => {
  test.setTimeout(240_000);
  const offOrigin: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== origin) offOrigin.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}${PREFIX}`);
  // The Content-Security-Policy of the build is in force.
  await expect(page.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveAttribute('content', /script-src 'self'/);
  const opened = Date.now();
  await expect(page.getByText(/^Demo:/)).toBeVisible({ timeout: 30_000 });
  // The real demo (public/demo, fetched relative to the page: the ResNet on Fashion-MNIST) computes
  // to a heatmap and curves. Generous timeouts: the CPU path on a busy 2-core machine. The time is
  // recorded as an annotation (a measurement, not an assertion); the whole demo's time is measured by
  // scripts/bench-demo.ts and scripts/screenshot-demo.mjs, not here (a loaded machine made it > 3 min).
  await expect(page.getByRole('img', { name: /^Learning dynamics heatmap/ })).toBeVisible({ timeout: 150_000 });
  test.info().annotations.push({ type: 'first heatmap after', description: `${((Date.now() - opened) / 1000).toFixed(1)} s` });
  await expect(page.getByRole('img', { name: /convergence/i }).first()).toBeVisible();
  await expect(page.getByText('fashion-resnet.npz').first()).toBeVisible();
  // The demo's index names its opening checkpoint and its caption's threshold; the views follow them.
  await expect(page.getByText(/stays at or above 0\.9\b/).first()).toBeVisible();
  await expect(page.getByRole('slider', { name: 'Checkpoint' })).toHaveAttribute('aria-valuetext', /^step 280,/);
  expect(offOrigin).toEqual([]);
  expect(errors).toEqual([]);
});

test('the build stays within its size budget (scripts, demo data, everything deployed)', async () => {
  const files: { path: string; size: number }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else files.push({ path: path.slice(DIST.length + 1), size: (await stat(path)).size });
    }
  };
  await walk(DIST);
  const sum = (pick: (path: string) => boolean) => files.filter((f) => pick(f.path)).reduce((a, f) => a + f.size, 0);
  // What the app page loads at once: the scripts index.html names (entry, modulepreloads), the
  // workers they start (new URL(`x.js`, import.meta.url)), and what those import statically. A chunk
  // reached only through import() (h5wasm) is loaded when a file needs it, not on a first visit.
  const firstVisit = new Set<string>();
  const html = await readFile(join(DIST, 'index.html'), 'utf8');
  const queue = [...html.matchAll(/(?:src|href)="\.\/(assets\/[\w.-]+\.js)"/g)].map((m) => m[1]);
  while (queue.length > 0) {
    const path = queue.pop()!;
    if (firstVisit.has(path)) continue;
    firstVisit.add(path);
    const code = await readFile(join(DIST, path), 'utf8');
    const statics = [...code.matchAll(/(?:from|import)\s*["'`]\.\/([\w.-]+\.js)["'`]/g), ...code.matchAll(/new URL\(["'`](?:\.\/)?([\w.-]+\.js)["'`]/g)];
    for (const m of statics) queue.push(`assets/${m[1]}`);
  }
  const otherPages = new Set([...(await readFile(join(DIST, 'gpu-check.html'), 'utf8')).matchAll(/src="\.\/(assets\/[\w.-]+\.js)"/g)].map((m) => m[1]));
  const lazy = files.filter((f) => f.path.endsWith('.js') && !firstVisit.has(f.path) && !otherPages.has(f.path));
  const firstVisitScript = sum((p) => firstVisit.has(p));
  const lazyScript = lazy.reduce((a, f) => a + f.size, 0);
  const demoData = sum((p) => p.startsWith('demo/'));
  const total = sum(() => true);
  test.info().annotations.push({
    type: 'sizes',
    description: `first-visit scripts ${firstVisitScript} B (${[...firstVisit].join(', ')}), loaded on demand ${lazyScript} B (${lazy.map((f) => `${f.path} ${f.size} B`).join(', ')}), demo data ${demoData} B, everything ${total} B`,
  });
  expect(demoData, 'the demo ships with the build').toBeGreaterThan(0);
  expect(
    [...firstVisit].some((p) => /analysisWorker/.test(p)),
    'the worker counts as first-visit script',
  ).toBe(true);
  // h5wasm (the HDF5 C library as WebAssembly, inlined) is its own chunk, never in an entry or the worker.
  expect(lazy.map((f) => f.path).filter((p) => /hdf5/.test(p))).toHaveLength(1);
  expect(firstVisitScript).toBeLessThanOrEqual(BUDGET.firstVisitScript);
  expect(lazyScript).toBeLessThanOrEqual(BUDGET.lazyScript);
  expect(demoData).toBeLessThanOrEqual(BUDGET.demoData);
  expect(total).toBeLessThanOrEqual(BUDGET.total);
});
