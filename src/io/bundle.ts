// Bundles: many layers × training steps (× runs) found in one .npz, one or more .safetensors files,
// or a folder of .npy files, following these naming conventions (N a non-negative integer; a layer
// name may contain '.' and '/'):
//   .npz member or .safetensors tensor   [<run>/]step_<N>/<layer>
//   .npy file in a folder                [<run>/]step_<N>/<layer>.npy
//   .safetensors file                    [<run>/]step_<N>.safetensors   (one tensor per layer)
//   labels: an npz member / tensor `labels`, or labels.npy at the top; manifest.json likewise.
// Everything else is listed in `unmatched`, never silently dropped.
//
// Shape convention: entries report shapes as stored and load() returns arrays as stored (C order);
// nothing is transposed to neurons × datapoints here.

import { openNpy } from './npy';
import { openNpz } from './npz';
import { openSafetensors } from './safetensors';
import { DEFAULT_LIMITS, InputError } from './types';
import type { Bundle, BundleEntry, InputFile, NdArray, ReadLimits } from './types';

const STEP_SEGMENT = /^step_(\d+)$/;

/** A (run, step, layer) hole in a bundle's grid. */
export interface MissingEntry {
  run: string | null;
  step: number;
  layer: string;
}

/**
 * Reads the names, shapes and dtypes of every array in `files` (headers only; data is read by each
 * entry's load()). Labels and the manifest are read now. Files are taken in the order given; paths
 * are relative to what the user dropped, and a leading folder shared by all of them (the dropped
 * folder itself) is ignored.
 */
export async function openBundle(name: string, files: InputFile[], limits: ReadLimits = DEFAULT_LIMITS): Promise<Bundle> {
  if (files.length === 0) throw new InputError(name, 'nothing to read: no files were given');
  const relative = stripCommonFolder(files.map((f) => normalisePath(f.path)));

  const entries: BundleEntry[] = [];
  const unmatched: string[] = [];
  // Where the labels and the manifest came from, so a second one can be refused by name.
  const extras: { labels: { source: string; array: NdArray } | null; manifest: { source: string; value: unknown } | null } = {
    labels: null,
    manifest: null,
  };
  const setLabels = (source: string, array: NdArray) => {
    if (extras.labels) throw new InputError(name, `two sets of labels: ${extras.labels.source} and ${source}`);
    extras.labels = { source, array };
  };
  const setManifest = (source: string, text: string) => {
    if (extras.manifest) throw new InputError(name, `two manifests: ${extras.manifest.source} and ${source}`);
    try {
      extras.manifest = { source, value: JSON.parse(text) };
    } catch (error) {
      throw new InputError(source, `is not valid JSON: ${(error as Error).message.split('\n')[0]}`);
    }
  };

  for (let i = 0; i < files.length; i++) {
    const { path, blob } = files[i];
    const rel = relative[i];
    const lower = rel.toLowerCase();

    if (rel === 'manifest.json') {
      if (blob.size > limits.maxHeaderBytes) throw new InputError(path, `manifest of ${blob.size} bytes is over the ${limits.maxHeaderBytes}-byte limit`);
      setManifest(path, await blob.text());
    } else if (lower.endsWith('.npz')) {
      const npz = await openNpz(blob, path, limits);
      const found = await Promise.all(
        npz.members.map(async (member) => {
          const where = parseEntryName(member.name);
          return { member, where, header: where ? await npz.header(member.name) : null };
        }),
      );
      for (const { member, where, header } of found) {
        const source = `${path}:${member.name}`;
        if (member.name === 'labels') setLabels(source, await npz.read('labels'));
        else if (where && header) entries.push({ ...where, source, shape: header.shape, dtype: header.dtype, load: () => npz.read(member.name) });
        else unmatched.push(source);
      }
      for (const member of npz.otherMembers) {
        if (member.path === 'manifest.json') setManifest(`${path}:${member.path}`, await npz.readText(member.path));
        else unmatched.push(`${path}:${member.path}`);
      }
    } else if (lower.endsWith('.safetensors')) {
      const file = await openSafetensors(blob, path, limits);
      // step_<N>.safetensors holds the layers of one step; any other name holds full entry names.
      const fileStep = parseStepFile(rel.slice(0, -'.safetensors'.length));
      for (const tensor of file.tensors) {
        const source = `${path}:${tensor.name}`;
        const where = fileStep ? { ...fileStep, layer: tensor.name } : parseEntryName(tensor.name);
        if (tensor.name === 'labels') setLabels(source, await file.read('labels'));
        else if (where) entries.push({ ...where, source, shape: tensor.shape, dtype: tensor.dtype, load: () => file.read(tensor.name) });
        else unmatched.push(source);
      }
    } else if (lower.endsWith('.npy')) {
      const where = parseEntryName(rel.slice(0, -'.npy'.length));
      if (rel === 'labels.npy') {
        setLabels(path, await (await openNpy(blob, path, limits)).read());
      } else if (where) {
        const npy = await openNpy(blob, path, limits);
        entries.push({ ...where, source: path, shape: npy.header.shape, dtype: npy.header.dtype, load: () => npy.read() });
      } else {
        unmatched.push(path);
      }
    } else {
      unmatched.push(path);
    }
  }

  if (entries.length === 0) {
    const found = [...unmatched, ...(extras.labels ? [extras.labels.source] : []), ...(extras.manifest ? [extras.manifest.source] : [])];
    const listed = found.length > 12 ? `${found.slice(0, 12).join(', ')} and ${found.length - 12} more` : found.join(', ');
    throw new InputError(
      name,
      `no arrays named [<run>/]step_<N>/<layer> or [<run>/]step_<N>.safetensors found (found: ${listed || 'nothing'})`,
    );
  }
  return assemble(name, entries, unmatched, extras.labels?.array ?? null, extras.manifest?.value ?? null);
}

/** For each run, every (step, layer) of the bundle's grid that has no entry, in run, step, layer order. */
export function listMissing(bundle: Bundle): MissingEntry[] {
  const present = new Set(bundle.entries.map((e) => entryKey(e.run, e.step, e.layer)));
  const missing: MissingEntry[] = [];
  for (const run of bundle.runs) {
    for (const step of bundle.steps) {
      for (const layer of bundle.layers) {
        if (!present.has(entryKey(run, step, layer))) missing.push({ run, step, layer });
      }
    }
  }
  return missing;
}

/** Orders runs and layers by first appearance and steps numerically; refuses duplicate entries. */
function assemble(name: string, entries: BundleEntry[], unmatched: string[], labels: NdArray | null, manifest: unknown): Bundle {
  const runs: (string | null)[] = [];
  const layers: string[] = [];
  const steps = new Set<number>();
  const seen = new Map<string, BundleEntry>();
  for (const entry of entries) {
    if (!runs.includes(entry.run)) runs.push(entry.run);
    if (!layers.includes(entry.layer)) layers.push(entry.layer);
    steps.add(entry.step);
    const key = entryKey(entry.run, entry.step, entry.layer);
    const other = seen.get(key);
    if (other) {
      const run = entry.run === null ? '' : `run ${entry.run}, `;
      throw new InputError(name, `${other.source} and ${entry.source} are both ${run}step ${entry.step}, layer ${entry.layer}`);
    }
    seen.set(key, entry);
  }
  const runIndex = new Map(runs.map((r, i) => [r, i]));
  const layerIndex = new Map(layers.map((l, i) => [l, i]));
  const sorted = [...entries].sort(
    (a, b) => runIndex.get(a.run)! - runIndex.get(b.run)! || a.step - b.step || layerIndex.get(a.layer)! - layerIndex.get(b.layer)!,
  );
  return { name, runs, steps: [...steps].sort((a, b) => a - b), layers, entries: sorted, unmatched, labels, manifest };
}

function entryKey(run: string | null, step: number, layer: string): string {
  return JSON.stringify([run, step, layer]);
}

/** `[<run>/]step_<N>/<layer>` → its parts (the first step_<N> segment splits run from layer), or null. */
function parseEntryName(name: string): { run: string | null; step: number; layer: string } | null {
  const segments = name.split('/');
  if (segments.some((s) => s === '')) return null;
  const at = segments.findIndex((s) => STEP_SEGMENT.test(s));
  if (at < 0 || at === segments.length - 1) return null;
  const step = parseStep(segments[at]);
  if (step === null) return null;
  return { run: at === 0 ? null : segments.slice(0, at).join('/'), step, layer: segments.slice(at + 1).join('/') };
}

/** `[<run>/]step_<N>` (a safetensors file path without its extension) → run and step, or null. */
function parseStepFile(path: string): { run: string | null; step: number } | null {
  const segments = path.split('/');
  const step = parseStep(segments[segments.length - 1]);
  if (step === null || segments.some((s) => s === '')) return null;
  return { run: segments.length === 1 ? null : segments.slice(0, -1).join('/'), step };
}

function parseStep(segment: string): number | null {
  const match = STEP_SEGMENT.exec(segment);
  if (!match) return null;
  const step = Number(match[1]);
  return Number.isSafeInteger(step) ? step : null;
}

/** Forward slashes, no leading "./" or "/". */
function normalisePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
}

/**
 * Drops the first folder when every path starts with the same one: a dropped folder's files arrive
 * as "folder/…". A shared step_<N> folder is kept, since it carries the step.
 */
function stripCommonFolder(paths: string[]): string[] {
  const first = paths[0].split('/')[0];
  const shared = paths.every((p) => p.includes('/') && p.split('/')[0] === first);
  if (!shared || STEP_SEGMENT.test(first)) return paths;
  return paths.map((p) => p.slice(first.length + 1));
}
