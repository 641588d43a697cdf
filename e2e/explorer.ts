// Page helpers of the explorer's end-to-end tests.

import { readFileSync } from 'node:fs';
import type { Locator, Page } from '@playwright/test';
import { expect } from './fixtures';
import type { FilePayload } from './fixtures';

export const dynamicsView = (page: Page) => page.locator('section[aria-labelledby="dynamics-heading"]');
export const crossView = (page: Page) => page.locator('section[aria-labelledby="cross-heading"]');
export const dynamicsHeatmap = (page: Page) => page.getByRole('img', { name: /^Learning dynamics heatmap/ });
export const pairDetail = (page: Page) => page.getByRole('region', { name: 'Pair detail' });
export const figureOf = (chart: Locator) => chart.locator('xpath=ancestor::figure[1]');

/** Waits until a view's job has finished. */
export async function finished(view: Locator): Promise<void> {
  await expect(view).toHaveAttribute('data-status', 'done');
}

/**
 * Opens files through the page's input and waits for the dynamics: a bundle whose preview raises
 * no question (layouts read from the shapes, nothing refused) computes at once. `firstStep`
 * (default true) then moves the checkpoint slider to the first checkpoint, where the tests written
 * before the app opened on a mid-training checkpoint start (firstScreen.spec.ts tests the default).
 */
export async function computeBundle(page: Page, files: FilePayload[], firstStep = true): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(files);
  await finished(dynamicsView(page));
  if (firstStep) await page.getByRole('slider', { name: 'Checkpoint' }).fill('0');
}

/** The value of heatmap cell (i, j) as drawn (data-value of its rect), null if not computed. */
export async function cellValue(page: Page, i: number, j: number, cols: number): Promise<number | null> {
  const v = await dynamicsHeatmap(page)
    .locator('g.cells rect')
    .nth(i * cols + j)
    .getAttribute('data-value');
  return v === null ? null : Number(v);
}

/**
 * Drops a folder on the window the way a desktop drag does: a DataTransfer whose items are
 * directory entries (File and Directory Entries API), read with readEntries in batches.
 */
export async function dropFolder(page: Page, folder: string, files: { path: string; buffer: Buffer }[]): Promise<void> {
  const payload = files.map((f) => ({ path: f.path, base64: f.buffer.toString('base64') }));
  await page.evaluate(
    ({ folder, payload }) => {
      type Node = { name: string; fullPath: string; isFile: boolean; isDirectory: boolean; children?: Node[]; file?: File };
      const root: Node = { name: folder, fullPath: `/${folder}`, isFile: false, isDirectory: true, children: [] };
      for (const { path, base64 } of payload) {
        const parts = path.split('/').slice(1);
        let dir = root;
        parts.forEach((part, k) => {
          const fullPath = `${dir.fullPath}/${part}`;
          if (k === parts.length - 1) {
            const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
            dir.children!.push({ name: part, fullPath, isFile: true, isDirectory: false, file: new File([bytes], part) });
          } else {
            let next = dir.children!.find((c) => c.name === part);
            if (!next) {
              next = { name: part, fullPath, isFile: false, isDirectory: true, children: [] };
              dir.children!.push(next);
            }
            dir = next;
          }
        });
      }
      const entry = (node: Node): unknown => ({
        name: node.name,
        fullPath: node.fullPath,
        isFile: node.isFile,
        isDirectory: node.isDirectory,
        file: (ok: (f: File) => void) => setTimeout(() => ok(node.file!), 0),
        createReader: () => {
          // Batches of 2, then an empty batch: as Chromium answers (in batches of 100).
          let at = 0;
          return {
            readEntries: (ok: (e: unknown[]) => void) =>
              setTimeout(() => {
                const batch = node.children!.slice(at, at + 2).map(entry);
                at += 2;
                ok(batch);
              }, 0),
          };
        },
      });
      const item = { kind: 'file', type: '', webkitGetAsEntry: () => entry(root), getAsFile: () => null };
      const dataTransfer = { items: [item], files: [], types: ['Files'], dropEffect: 'copy' };
      const event = new Event('drop', { bubbles: true, cancelable: true });
      Object.defineProperty(event, 'dataTransfer', { value: dataTransfer });
      window.dispatchEvent(event);
    },
    { folder, payload },
  );
}

/**
 * Serves a demo: the real digits CNN (test/fixtures/real: conv1, conv2, conv3, fc1, logits × 8
 * checkpoints, two runs) under a demo entry (extra index.json fields in `entry`), so checks of the
 * demo flow run in seconds; the shipped ResNet demo is loaded by deploy.spec.ts. Without this the
 * fixtures serve an empty demo list, so other tests see no demo.
 */
export async function withDigitsDemo(page: Page, entry: Record<string, unknown> = {}): Promise<void> {
  const index = [{ id: 'digits-cnn', title: 'Digits CNN', caption: 'A small CNN on 8×8 digits.', file: 'digits-cnn.npz', ...entry }];
  await page.route('**/demo/index.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(index) }));
  await page.route('**/demo/digits-cnn.npz', (route) =>
    route.fulfill({ status: 200, contentType: 'application/octet-stream', body: readFileSync('test/fixtures/real/digits-cnn.npz') }),
  );
}

/** The shipped demo (public/demo/fashion-resnet.npz: the ResNet on Fashion-MNIST over training, two seeds), served as the page's demo. */
export async function withShippedDemo(page: Page): Promise<void> {
  const index = JSON.parse(readFileSync('public/demo/index.json', 'utf8')).filter((e: { file: string }) => e.file === 'fashion-resnet.npz');
  await page.route('**/demo/index.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(index) }));
  await page.route('**/demo/fashion-resnet.npz', (route) =>
    route.fulfill({ status: 200, contentType: 'application/octet-stream', body: readFileSync('public/demo/fashion-resnet.npz') }),
  );
}
