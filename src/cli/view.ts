// `svcca-lens view PATH…`: serves the built app (dist/) and the given files or folders on
// 127.0.0.1 only, and prints the URL that opens the app with them loaded (like
// `tensorboard --logdir`). Nothing leaves the machine: the server answers loopback requests only,
// the page's Content-Security-Policy keeps it on its own origin, and the files are read in the tab.
//
// Routes (all same-origin, so the app needs no CORS and no upload):
//   /…                      the app (dist/)
//   /_view/inputs.json      { name, files: [{ path, url }] }: what to load, as one drop would arrive
//                           (url relative to the list: files/<k>/<rel>)
//   /_view/files/<k>/<rel>  the bytes of the k-th PATH (a file: rel is its name; a folder: a file inside)
// The page is opened as /?inputs=_view/inputs.json (src/state/localInputs.ts reads it).

import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_EXTENSIONS_TEXT, ARRAY_EXTENSIONS, arrayExtension } from '../io/formats';

/** Files the app reads (every extension openArrays reads, and manifest.json); anything else in a folder (logs, images) is not served. */
const SERVED = new Set([...ARRAY_EXTENSIONS, '.json']);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
};

/**
 * Cross-origin isolation, the same two headers as `vite dev`/`vite preview` (vite.config.ts) and a
 * deployed host (docs/deploying.md): the page may then use SharedArrayBuffer, so the CPU pool's
 * workers read the factors from shared memory instead of copies. Everything `view` serves is
 * same-origin, which require-corp allows.
 */
export const CROSS_ORIGIN_ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } as const;

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The built app; SVCCA_LENS_DIST points elsewhere (tests, or a build kept outside the checkout). */
export const DIST = process.env.SVCCA_LENS_DIST ? resolve(process.env.SVCCA_LENS_DIST) : join(REPO_ROOT, 'dist');

export interface ViewInput {
  /** What the app calls the set: the file's or folder's name, else "N files". */
  name: string;
  files: { path: string; url: string; absolute: string }[];
}

function walk(folder: string, prefix: string, out: string[]): void {
  for (const dirent of readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (dirent.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${dirent.name}` : dirent.name;
    if (dirent.isDirectory()) walk(join(folder, dirent.name), rel, out);
    else if (SERVED.has(arrayExtension(dirent.name) ?? extname(dirent.name).toLowerCase())) out.push(rel);
  }
}

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/**
 * The files the app will load, as one drop of these paths would give them: a folder's files as
 * "folder/step_10/fc1.npy", a file by its name. Throws an Error naming a path that is missing.
 */
export function listInputs(paths: readonly string[]): ViewInput {
  const files: ViewInput['files'] = [];
  paths.forEach((given, k) => {
    const path = resolve(given);
    if (!existsSync(path)) throw new Error(`${given}: no such file or folder`);
    const name = basename(path);
    if (statSync(path).isDirectory()) {
      const inside: string[] = [];
      walk(path, '', inside);
      if (inside.length === 0) throw new Error(`${given}: holds no ${ALL_EXTENSIONS_TEXT} files`);
      for (const rel of inside) files.push({ path: `${name}/${rel}`, url: `files/${k}/${encodePath(rel)}`, absolute: join(path, ...rel.split('/')) });
    } else {
      files.push({ path: name, url: `files/${k}/${encodeURIComponent(name)}`, absolute: path });
    }
  });
  const name = paths.length === 1 ? basename(resolve(paths[0])) : `${files.length} files`;
  return { name, files };
}

/** Builds dist/ when it is missing (a fresh checkout), saying so first. */
export function ensureBuilt(log: (line: string) => void): void {
  if (existsSync(join(DIST, 'index.html'))) return;
  log('svcca-lens view: the app is not built yet (no dist/index.html); building it once with `vite build` (about a minute)…');
  const vite = join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const built = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0 || !existsSync(join(DIST, 'index.html'))) throw new Error('building the app failed; run `npm run build` to see why');
}

/** Serves dist/ and the inputs on 127.0.0.1:port (0: any free port). Resolves once listening. */
export function serveView(input: ViewInput, port: number, dist = DIST): Promise<{ server: Server; url: string; port: number }> {
  // Keyed by the decoded path ("/_view/files/0/step_10/fc 1.npy").
  const byPath = new Map(input.files.map((f) => [`/_view/${f.url.split('/').map(decodeURIComponent).join('/')}`, f.absolute]));
  const listing = JSON.stringify({ name: input.name, files: input.files.map(({ path, url }) => ({ path, url })) });
  const server = createServer((req, res) => {
    // On every response (the page, its scripts and workers, the files, the errors).
    for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION)) res.setHeader(name, value);
    const send = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET and HEAD');
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.split('/').map(decodeURIComponent).join('/');
    } catch {
      return send(400, 'bad path');
    }
    const pipeFile = (file: string, type: string) => {
      res.writeHead(200, { 'content-type': type, 'content-length': statSync(file).size, 'cache-control': 'no-store' });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    };
    if (pathname === '/_view/inputs.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(req.method === 'HEAD' ? undefined : listing);
    }
    if (pathname.startsWith('/_view/')) {
      const file = byPath.get(pathname);
      return file ? pipeFile(file, 'application/octet-stream') : send(404, 'not one of the files given to svcca-lens view');
    }
    const target = resolve(dist, `.${pathname.endsWith('/') ? `${pathname}index.html` : pathname}`);
    if (relative(dist, target).startsWith('..') || !target.startsWith(dist + sep)) return send(403, 'outside the app');
    if (!existsSync(target) || !statSync(target).isFile()) return send(404, 'not found');
    pipeFile(target, TYPES[extname(target).toLowerCase()] ?? 'application/octet-stream');
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      ok({ server, port: actual, url: `http://127.0.0.1:${actual}/?inputs=_view/inputs.json` });
    });
  });
}

/** Opens a URL in the default browser (xdg-open, open, start); false when none could be started. */
export function openBrowser(url: string): boolean {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
