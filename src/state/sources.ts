// Data from a URL: ?data=URL (any npz the page may fetch: same origin or CORS-enabled) and the
// embedded demo (./demo/index.json next to the page, when it exists). Errors are one line.

import { DEFAULT_THRESHOLD, appStore, isAbort, message } from './appStore';
import { beginLoad, loadInput } from './explorer';
import type { LoadTicket } from './explorer';

const addError = (line: string) => appStore.setState({ loadErrors: [...appStore.getState().loadErrors, line] });

/** The file name a URL ends with ("digits.npz"), for messages and the bundle's name. */
export function fileNameOf(url: string): string {
  try {
    const last = new URL(url, 'http://x/').pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : 'data.npz';
  } catch {
    return 'data.npz';
  }
}

/** Fetches `url` under `ticket` (a user's load cancels it); null when it failed or was cancelled. */
async function fetchFile(url: string, what: string, ticket: LoadTicket): Promise<File | null> {
  let response: Response;
  try {
    response = await fetch(url, { signal: ticket.signal });
  } catch (e) {
    if (isAbort(e) || ticket.superseded()) return null;
    addError(`${what}: could not be fetched (${message(e)}); it must come from this page's server or one that allows CORS`);
    return null;
  }
  if (!response.ok) {
    addError(`${what}: could not be fetched: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    return null;
  }
  try {
    const blob = await response.blob();
    return ticket.superseded() ? null : new File([blob], fileNameOf(url));
  } catch (e) {
    if (!isAbort(e) && !ticket.superseded()) addError(`${what}: could not be fetched (${message(e)})`);
    return null;
  }
}

/** ?data=URL: fetch a bundle and show it at once. */
export async function loadFromUrl(url: string): Promise<void> {
  const name = fileNameOf(url);
  const ticket = beginLoad('url', name, `fetching ${name}`);
  const file = await fetchFile(url, url, ticket);
  if (file) await loadInput([{ path: file.name, file }], file.name, 'url', undefined, ticket);
  else ticket.finish();
}

export interface DemoEntry {
  id: string;
  title: string;
  caption: string;
  file: string;
  /** The checkpoint the heatmap shows first (optional). */
  step?: number;
  /** The freeze threshold its caption speaks of (optional): the convergence chart marks it. */
  threshold?: number;
}

function isDemo(v: unknown): v is DemoEntry {
  const d = v as DemoEntry;
  return typeof d === 'object' && d !== null && typeof d.file === 'string' && typeof d.caption === 'string';
}

/**
 * Loads the first demo listed in `indexUrl` (an absolute URL), unless the user brought data first.
 * A missing index (404, or an HTML fallback page) is not an error: there is simply no demo.
 */
export async function loadDemo(indexUrl: string): Promise<void> {
  let list: unknown;
  try {
    const response = await fetch(indexUrl);
    if (!response.ok || !(response.headers.get('content-type') ?? '').includes('json')) return;
    list = await response.json();
  } catch {
    return;
  }
  if (!Array.isArray(list) || !isDemo(list[0])) return;
  const demo = list[0];
  // Data the user (or a link) brought first wins; a user's load started later cancels this one.
  const s = appStore.getState();
  if (s.bundles.length > 0 || s.arrays.length > 0 || s.loading !== null) return;
  const url = new URL(demo.file, indexUrl).href;
  const ticket = beginLoad('demo', fileNameOf(url), 'fetching the demo');
  const file = await fetchFile(url, `Demo ${demo.file}`, ticket);
  if (!file) {
    ticket.finish();
    return;
  }
  // The caption's threshold, unless a link chose one (a link's thr differs from the default).
  const threshold = demo.threshold;
  if (typeof threshold === 'number' && threshold >= 0 && threshold <= 1 && appStore.getState().threshold === DEFAULT_THRESHOLD)
    appStore.setState({ threshold });
  await loadInput(
    [{ path: file.name, file }],
    file.name,
    'demo',
    { title: demo.title ?? demo.id ?? file.name, caption: demo.caption, step: typeof demo.step === 'number' ? demo.step : undefined },
    ticket,
  );
}
