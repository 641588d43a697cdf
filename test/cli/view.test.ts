// `svcca-lens view PATH…` spawned as a user runs it: it serves the app and the given files on
// 127.0.0.1, prints the URL that loads them, serves nothing else, and stops on Ctrl+C (SIGINT).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy';
import viteConfig from '../../vite.config';

const bin = join(__dirname, '../../bin/svcca-lens.mjs');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcca-view-'));
  // A stand-in for dist/ (the real build is the e2e test's business), so this test needs no build.
  mkdirSync(join(dir, 'dist', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html><title>SVCCA Lens</title>');
  writeFileSync(join(dir, 'dist', 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'not to be served');
  mkdirSync(join(dir, 'runs', 'step_10'), { recursive: true });
  writeFileSync(join(dir, 'runs', 'step_10', 'fc 1.npy'), encodeNpy([4, 2], new Float32Array([1, 2, 3, 4, 5, 6, 7, 8])));
  writeFileSync(join(dir, 'runs', 'step_10', 'train.log'), 'a training log: not served');
  writeFileSync(join(dir, 'runs', '.hidden.npy'), 'hidden');
  writeFileSync(join(dir, 'labels.npy'), encodeNpy([4], new Float64Array([0, 1, 0, 1])));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `view` and resolves with the URL it prints. */
function startView(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [bin, 'view', ...args], { cwd: dir, env: { ...process.env, SVCCA_LENS_DIST: join(dir, 'dist') } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30_000);
    child.stdout.on('data', () => {
      const url = out.match(/^(http:\/\/127\.0\.0\.1:\d+\/\S*)$/m)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, output: () => out });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

describe('svcca-lens view', () => {
  it('serves the app and the files from 127.0.0.1, lists them for ?inputs=, and stops on SIGINT', async () => {
    const { child, url, output } = await startView(['runs', 'labels.npy', '--port', '0']);
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?inputs=_view\/inputs\.json$/);
      expect(output()).toContain('2 files');
      const base = url.slice(0, url.indexOf('?'));
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('SVCCA Lens');
      expect((await fetch(`${base}assets/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
      const listUrl = new URL('_view/inputs.json', base);
      const list = await (await fetch(listUrl)).json();
      // As one drop of the folder and the file: the folder's files under its name; no hidden file, no log.
      expect(list).toEqual({
        name: '2 files',
        files: [
          { path: 'runs/step_10/fc 1.npy', url: 'files/0/step_10/fc%201.npy' },
          { path: 'labels.npy', url: 'files/1/labels.npy' },
        ],
      });
      const npy = Buffer.from(await (await fetch(new URL(list.files[0].url, listUrl))).arrayBuffer());
      expect(npy.equals(readFileSync(join(dir, 'runs', 'step_10', 'fc 1.npy')))).toBe(true);
      // Nothing else: not the folder's other files, not the files beside dist/.
      expect((await fetch(new URL('_view/files/0/step_10/train.log', base))).status).toBe(404);
      expect((await fetch(`${base}_view/files/0/.hidden.npy`)).status).toBe(404);
      expect((await fetch(`${base}secret.txt`)).status).toBe(404);
      expect((await fetch(`${base}%2e%2e/secret.txt`)).status).toBe(404);
      expect((await fetch(url, { method: 'POST' })).status).toBe(405);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });

  it('sends the cross-origin isolation headers of vite dev and preview on everything it serves, so the page gets shared memory', async () => {
    // The headers vite.config.ts gives `vite preview` (and docs/deploying.md gives a host), lower-cased as fetch reports them.
    const expected = Object.fromEntries(Object.entries(viteConfig.preview?.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
    expect(expected).toEqual({ 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    expect(viteConfig.server?.headers).toEqual(viteConfig.preview?.headers);
    const { child, url } = await startView(['runs', '--port', '0']);
    try {
      const base = url.slice(0, url.indexOf('?'));
      const list = new URL('_view/inputs.json', base);
      // The page, a script (module workers are scripts too), the list, a file, and an error.
      for (const target of [url, `${base}assets/app.js`, list.href, new URL('files/0/step_10/fc%201.npy', list).href, `${base}secret.txt`]) {
        for (const method of ['GET', 'HEAD']) {
          const response = await fetch(target, { method });
          for (const [name, value] of Object.entries(expected))
            expect(`${method} ${target} ${name}: ${response.headers.get(name)}`).toBe(`${method} ${target} ${name}: ${value}`);
          await response.arrayBuffer();
        }
      }
    } finally {
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
  });

  it('names a missing path, and a port in use, in one line with status 2', async () => {
    const missing = spawn(process.execPath, [bin, 'view', 'nope.npz'], { cwd: dir, env: { ...process.env, SVCCA_LENS_DIST: join(dir, 'dist') } });
    let err = '';
    missing.stderr.on('data', (d) => (err += d));
    expect(await new Promise((r) => missing.on('exit', r))).toBe(2);
    expect(err.trim()).toBe('svcca-lens: nope.npz: no such file or folder (see svcca-lens --help)');

    const first = await startView(['labels.npy', '--port', '0']);
    try {
      const port = new URL(first.url).port;
      const second = spawn(process.execPath, [bin, 'view', 'labels.npy', '--port', port], {
        cwd: dir,
        env: { ...process.env, SVCCA_LENS_DIST: join(dir, 'dist') },
      });
      let err2 = '';
      second.stderr.on('data', (d) => (err2 += d));
      expect(await new Promise((r) => second.on('exit', r))).toBe(2);
      expect(err2).toContain(`port ${port} is in use; choose another with --port N`);
    } finally {
      first.child.kill('SIGINT');
    }
  });
});
