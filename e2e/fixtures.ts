// Shared pieces of the end-to-end tests: seeded activations written as real .npy files, a page
// that fails the test on console errors or requests leaving its origin, and small page helpers.

import { test as base, expect } from '@playwright/test';
import type { Page } from '@playwright/test';
import { encodeNpy } from '../src/io/npy';
import { randn as randnMatrix } from '../src/math/random';

/** Seeded normals from the portable generator of the semantics doc (src/math/random.ts), as a flat array. */
export function randn(seed: number, count: number): Float64Array {
  return randnMatrix(seed, 1, count).data;
}

export const DATAPOINTS = 400;
export const NEURONS_X = 20;
export const NEURONS_Y = 15;

/** X: 400 datapoints × 20 neurons, datapoints first (as PyTorch saves a linear layer's output). */
export function activationsX(seed = 1): { shape: number[]; data: Float32Array } {
  return { shape: [DATAPOINTS, NEURONS_X], data: Float32Array.from(randn(seed, DATAPOINTS * NEURONS_X)) };
}

/** Y = X·W + 0.5·noise: 400 × 15, a random linear map of X plus noise. */
export function activationsY(seed = 2): { shape: number[]; data: Float32Array } {
  const x = randn(1, DATAPOINTS * NEURONS_X);
  const w = randn(seed, NEURONS_X * NEURONS_Y);
  const noise = randn(seed + 100, DATAPOINTS * NEURONS_Y);
  const y = new Float32Array(DATAPOINTS * NEURONS_Y);
  for (let p = 0; p < DATAPOINTS; p++) {
    for (let j = 0; j < NEURONS_Y; j++) {
      let s = 0;
      for (let i = 0; i < NEURONS_X; i++) s += x[p * NEURONS_X + i] * w[i * NEURONS_Y + j];
      y[p * NEURONS_Y + j] = s + 0.5 * noise[p * NEURONS_Y + j];
    }
  }
  return { shape: [DATAPOINTS, NEURONS_Y], data: y };
}

export interface FilePayload {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

export function npyFile(name: string, array: { shape: number[]; data: Float32Array | Float64Array }): FilePayload {
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.from(encodeNpy(array.shape, array.data)) };
}

/** A .npy cut off in the middle of its data. */
export function truncatedNpy(name: string): FilePayload {
  const whole = encodeNpy([DATAPOINTS, NEURONS_X], activationsX(7).data);
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.from(whole.subarray(0, 200)) };
}

/** Loads files through the page's (hidden) file input, as the "Open files" button would. */
export async function openFiles(page: Page, files: FilePayload[]): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(files);
}

/** Drops files on the window with a synthetic DataTransfer, as a drag from the desktop would. */
export async function dropFiles(page: Page, files: FilePayload[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, base64: f.buffer.toString('base64') }));
  const dataTransfer = await page.evaluateHandle((items) => {
    const dt = new DataTransfer();
    for (const { name, base64 } of items) {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], name));
    }
    return dt;
  }, payload);
  await page.dispatchEvent('body', 'dragenter', { dataTransfer });
  await expect(page.locator('.drop-overlay')).toBeVisible();
  await page.dispatchEvent('body', 'dragover', { dataTransfer });
  await page.dispatchEvent('body', 'drop', { dataTransfer });
}

export const results = (page: Page) => page.getByRole('region', { name: 'Results' });

/** Waits for a finished comparison and returns the displayed similarity. */
export async function shownSimilarity(page: Page): Promise<number> {
  await expect(results(page)).toHaveAttribute('data-status', 'done');
  const text = (await page.getByTestId('similarity').textContent()) ?? '';
  return Number(text.replace('−', '-'));
}

/** Rows of the arrays table, by array name. */
export const arrayRow = (page: Page, name: string) => page.locator(`tr[data-array="${name}"]`);

interface Guard {
  /** Requests to anything but the page's own origin (data: and blob: URLs are local). */
  outside: string[];
  consoleErrors: string[];
}

/** Every test's page is watched: nothing may leave the origin, nothing may log an error. */
export const test = base.extend<{ guard: Guard }>({
  guard: [
    async ({ page, context, baseURL }, use) => {
      const origin = new URL(baseURL!).origin;
      const guard: Guard = { outside: [], consoleErrors: [] };
      context.on('request', (req) => {
        const url = req.url();
        if (url.startsWith('data:') || url.startsWith('blob:')) return;
        if (new URL(url).origin !== origin) guard.outside.push(url);
      });
      page.on('console', (msg) => {
        if (msg.type() === 'error') guard.consoleErrors.push(msg.text());
      });
      page.on('pageerror', (err) => guard.consoleErrors.push(`uncaught: ${err.message}`));
      // No demo unless a test serves one: the app asks for ./demo/index.json when opened without data,
      // and what public/demo holds must not change what other tests see.
      await page.route('**/demo/index.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '[]' }));
      await use(guard);
      expect(guard.outside, 'requests outside the page origin').toEqual([]);
      expect(guard.consoleErrors, 'console errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
