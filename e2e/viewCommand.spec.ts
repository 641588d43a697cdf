// `svcca-lens view PATH…` as a researcher runs it on their own files: it serves the built app on
// 127.0.0.1 and the URL it prints opens the app with the files loaded and computed. No request
// leaves that origin.

import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { test as base, expect } from '@playwright/test';

base('svcca-lens view FILE prints a URL that shows the file, computed, from 127.0.0.1 only', async ({ page }, testInfo) => {
  base.setTimeout(120_000);
  const file = testInfo.outputPath('digits_runA.npz');
  copyFileSync('test/fixtures/real/digits-mlp.npz', file);
  const child = spawn(process.execPath, ['bin/svcca-lens.mjs', 'view', file, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL: ${out}`)), 60_000);
      const onData = (d: Buffer) => {
        out += d;
        const m = out.match(/^(http:\/\/127\.0\.0\.1:\d+\/\?inputs=\S+)$/m);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`view exited with ${code}: ${out}`)));
    });
    expect(out).toContain('digits_runA.npz (1 file), served on 127.0.0.1 only');
    const origin = new URL(url).origin;
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) outside.push(r.url());
    });
    await page.goto(url);
    const view = page.locator('section[aria-labelledby="dynamics-heading"]');
    await expect(view).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await expect(view.locator('.card-head .sub')).toContainText('digits_runA.npz');
    await expect(page.getByTestId('demo-caption')).toHaveCount(0); // the user's file, not the demo
    await expect(view.locator('g.cells rect[data-value]')).toHaveCount(16);
    // view sends vite preview's COOP/COEP headers: the page may use SharedArrayBuffer (the CPU pool's shared factors).
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(outside).toEqual([]);
  } finally {
    child.kill('SIGINT');
  }
});
