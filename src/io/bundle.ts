// Bundles: many layers × training steps (× runs) found in one .npz, one or more .safetensors files,
// or a folder of .npy files, following these naming conventions (N a non-negative integer; a layer
// name may contain '.' and '/'):
//   .npz member or .safetensors tensor   [<run>/]step_<N>/<layer>
//   .npy file in a folder                [<run>/]step_<N>/<layer>.npy
//   .safetensors file                    [<run>/]step_<N>.safetensors   (one tensor per layer)
//   torch.save / pickle entry            the same, with nested keys joined by '.' or '/':
//                                        {"step_10": {"conv1": t}}, {"run": {"step_10": {...}}},
//                                        {"run/step_10/conv1": t}; the first key (or '/'-part of
//                                        a key) that is exactly step_<N> splits run from layer:
//                                        the run is what comes before it, the layer what comes
//                                        after, as written ({"step_10": {"layer1": {"0": t}}} →
//                                        layer "layer1.0", the PyTorch module name)
//   HDF5 dataset                         /[<run>/]step_<N>/<layer> (groups are '/' segments)
//   .safetensors, torch, pickle or HDF5  [<run>/]step_<N>.<ext>   (one array per layer)
//   labels: an entry / dataset `labels` at the top, or labels.npy; manifest.json likewise.
// Several .npz (or .safetensors) files with step_<N>/<layer> members and no run prefix, holding the
// same steps and layers: one run per file, named after the file (one file per seed). Such a file
// beside one whose members have runs is a run named after it too.
// Everything else is listed in `unmatched`, never silently dropped; arrays among it are returned as
// loose arrays by readInput (for "Compare two arrays").
//
// Shape convention: entries report shapes as stored and load() returns arrays as stored (C order);
// nothing is transposed to neurons × datapoints here.

import { checkAborted } from '../cancel';
import { arrayExtension, arrayStem, openArrays, sniffFormat } from './arrays';
import type { ArrayFormat, OpenedArrays } from './arrays';
import { labelsProblem } from './labels';
import { datapointsFromShapes, datapointsOfShape, detectLayout } from './layout';
import { formatShape } from './decode';
import { traversalWarning } from './names';
import { DEFAULT_LIMITS, InputError } from './types';
import type { Bundle, BundleEntry, InputFile, NdArray, ReadLimits } from './types';

const STEP_SEGMENT = /^step_(\d+)$/;

/** A (run, step, layer) hole in a bundle's grid. */
export interface MissingEntry {
  run: string | null;
  step: number;
  layer: string;
}

/** An array that follows no bundle convention: for comparing two arrays directly. */
export interface LooseArray {
  /** "a.npy", "acts.npz:fc1", "model.safetensors:h.3" (the path as given, then the member). */
  source: string;
  /** The file it is in (its path as given). */
  file: string;
  shape: number[];
  dtype: string;
  load(): Promise<NdArray>;
}

/** What a set of files holds: a bundle (possibly with no entries) and the arrays outside it. */
export interface ReadInput {
  /** Its `entries` may be empty: then the files hold only loose arrays (or nothing readable). */
  bundle: Bundle;
  /** Arrays of the files that follow no convention (also listed in bundle.unmatched). */
  loose: LooseArray[];
  /** "FILE:MEMBER: why" for members outside the bundle whose header cannot be read (also listed in
   *  bundle.unmatched): a bundle member that cannot be read refuses the file instead. */
  unreadable: string[];
  /** Warnings about what was read (names inside a file that look like paths leaving it: they are
   *  read as plain names, and flagged). */
  warnings: string[];
  /** "FILE: left out of the study: why" for a file of a one-file-per-run study whose arrays disagree
   *  on the datapoint count (with each other or with the other files): the other runs load without it. */
  excluded: string[];
  /** Closes every file opened for this input (the HDF5 reader's hold on a file); the bundle's
   *  entries and the loose arrays cannot be read afterwards. Idempotent. */
  close(): void;
}

/**
 * Reads the names, shapes and dtypes of every array in `files` (headers only; data is read by each
 * entry's load()). Labels and the manifest are read now. Refuses a set with no bundle entries,
 * listing what was found (readInput takes such a set as loose arrays instead). The files stay open
 * for the entries' load() (the CLI's bundles live as long as the process).
 */
/** A bundle as the CLI opens it, with the reasons of the files it could not read ("FILE: why"). */
export type OpenedBundle = Bundle & { unreadable: string[]; warnings: string[]; excluded: string[] };

export async function openBundle(name: string, files: InputFile[], limits: ReadLimits = DEFAULT_LIMITS): Promise<OpenedBundle> {
  const { bundle, extras, unreadable, warnings, excluded, close } = await readInputWithSources(name, files, limits, undefined, true);
  if (bundle.entries.length === 0) {
    close();
    // Nothing of a bundle, and a file that could not be read: its reader's reason says most.
    if (unreadable.length + excluded.length > 0) throw new InputError(name, `no bundle arrays could be read: ${[...unreadable, ...excluded].join('; ')}`);
    const found = [...bundle.unmatched, ...extras];
    const listed = found.length > 12 ? `${found.slice(0, 12).join(', ')} and ${found.length - 12} more` : found.join(', ');
    throw new InputError(
      name,
      `no arrays named [<run>/]step_<N>/<layer> (in a torch or pickle file also step_<N>.<layer>) and no [<run>/]step_<N>.safetensors/.pt/.pkl/.h5 files (found: ${listed || 'nothing'})`,
    );
  }
  return { ...bundle, unreadable, warnings, excluded };
}

/** Entries of one file before the runs are settled. */
interface FileEntries {
  /** Relative to what was dropped (the dropped folder itself left out). */
  path: string;
  /** Whether its entries carry their own step and layer names (.npz, .safetensors with full names),
   *  as opposed to a file whose path carries them (step_N/layer.npy, step_N.safetensors). */
  selfNamed: boolean;
  entries: BundleEntry[];
}

/**
 * Reads every file of a drop or pick (headers only). Files are taken in the order given; paths are
 * relative to what the user dropped, and a leading folder shared by all of them (the dropped folder
 * itself) is ignored. Each file is opened by its extension (else by its first bytes; a file that is
 * no format we read is unmatched), so a file that cannot be read throws the reader's InputError
 * naming it (empty, not a .npy, truncated archive, …), and closes what was opened before it.
 * On success the caller closes the files (close()) once it no longer needs the entries.
 *
 * Several self-named files (.npz, .safetensors, .pt, .pkl, .h5 with step_<N>/<layer> names) whose entries have no
 * run prefix and overlap (the same step and layer in two files) are one file per run: each becomes
 * a run named after its file (its stem). Files with disjoint entries are parts of the same run.
 *
 * `signal` cancels the read between files.
 */
export async function readInput(name: string, files: InputFile[], limits: ReadLimits = DEFAULT_LIMITS, signal?: AbortSignal): Promise<ReadInput> {
  const { bundle, loose, unreadable, warnings, excluded, close } = await readInputWithSources(name, files, limits, signal);
  return { bundle, loose, unreadable, warnings, excluded, close };
}

/** readInput, and where the labels and the manifest came from (`extras`). */
async function readInputWithSources(
  name: string,
  files: InputFile[],
  limits: ReadLimits = DEFAULT_LIMITS,
  signal?: AbortSignal,
  /** Unreadable files outside the grid are listed, not refused (see below). */
  strays = false,
): Promise<ReadInput & { extras: string[] }> {
  if (files.length === 0) throw new InputError(name, 'nothing to read: no files were given');
  const opened: OpenedArrays[] = [];
  const close = () => {
    for (const file of opened) file.close();
  };
  try {
    return { ...(await readFiles(name, files, limits, opened, signal, strays)), close };
  } catch (error) {
    close(); // nothing of a refused input stays open
    throw error;
  }
}

async function readFiles(
  name: string,
  files: InputFile[],
  limits: ReadLimits,
  openedFiles: OpenedArrays[],
  signal?: AbortSignal,
  strays = false,
): Promise<Omit<ReadInput, 'close'> & { extras: string[] }> {
  const relative = stripCommonFolder(files.map((f) => normalisePath(f.path)));

  const perFile: FileEntries[] = [];
  const loose: LooseArray[] = [];
  const unreadable: string[] = [];
  const unmatched: string[] = [];
  const warnings: string[] = [];
  // Where the labels came from, so a second set can be refused by name; the manifests by where they
  // came from (one file per run: the exporter writes one into every file, each kept under its source).
  const extras: { labels: { source: string; array: NdArray } | null; manifests: Map<string, unknown> } = {
    labels: null,
    manifests: new Map(),
  };
  const setLabels = (source: string, array: NdArray) => {
    if (extras.labels) {
      // One file per run often carries the same labels in every file: that is one set.
      if (sameValues(extras.labels.array, array)) return;
      throw new InputError(name, `two sets of labels: ${extras.labels.source} and ${source}, with different values; keep one`);
    }
    extras.labels = { source, array };
  };
  const setManifest = (source: string, text: string) => {
    try {
      extras.manifests.set(source, JSON.parse(text));
    } catch (error) {
      throw new InputError(source, `is not valid JSON: ${(error as Error).message.split('\n')[0]}`);
    }
  };
  const addLoose = (opened: OpenedArrays, path: string, entryName: string, source: string, shape: number[], dtype: string) => {
    unmatched.push(source);
    loose.push({ source, file: path, shape, dtype, load: () => opened.read(entryName) });
  };

  for (let i = 0; i < files.length; i++) {
    checkAborted(signal);
    const { path, blob } = files[i];
    const rel = relative[i];

    if (rel === 'manifest.json') {
      if (blob.size > limits.maxHeaderBytes) throw new InputError(path, `manifest of ${blob.size} bytes is over the ${limits.maxHeaderBytes}-byte limit`);
      setManifest(path, await blob.text());
      continue;
    }
    const ext = arrayExtension(rel);
    // A file without an extension we read is opened when its first bytes are a format's.
    const format: ArrayFormat | null = ext ? null : await sniffFormat(blob, path, limits);
    if (!ext && !format) {
      unmatched.push(path);
      continue;
    }
    let opened: OpenedArrays;
    try {
      opened = await openArrays(blob, path, limits, format ?? undefined);
    } catch (error) {
      // A file whose name does not say it is arrays, whose first bytes only looked like a format's
      // (a log, a binary of another tool): listed with the reason, never a reason to refuse the drop.
      // With `strays` (the CLI's folders), so is a file that cannot be read among several whose path
      // puts it outside the step × layer grid (a stray bad.npy beside step_<N>/ folders): the good
      // bundle loads, and a warning names it. One alone, or one whose path is a grid position,
      // refuses the input with the reader's reason. (The app's worker reports such a file itself.)
      if (!(error instanceof InputError)) throw error;
      const stem = ext ? rel.slice(0, -ext.length) : rel;
      const inGrid = rel === 'labels.npy' || parseEntryName(stem, false) !== null || parseStepFile(stem) !== null;
      if (ext && (!strays || files.length === 1 || inGrid)) throw error;
      unmatched.push(path);
      unreadable.push(error.message);
      continue;
    }
    openedFiles.push(opened);
    const withoutExt = ext ? rel.slice(0, -ext.length) : rel;
    if (opened.format === 'npy') {
      const entry = opened.entries[0];
      const where = parseEntryName(withoutExt, false);
      if (rel === 'labels.npy') setLabels(path, await opened.read(entry.name));
      else if (where)
        perFile.push({
          path: rel,
          selfNamed: false,
          entries: [{ ...where, source: path, shape: entry.shape, dtype: entry.dtype, load: () => opened.read(entry.name) }],
        });
      else addLoose(opened, path, entry.name, path, entry.shape, entry.dtype);
      continue;
    }
    const names = [...opened.entries.map((e) => e.name), ...opened.unreadable.map((u) => u.name), ...opened.others];
    const flagged = traversalWarning(path, names);
    if (flagged) warnings.push(flagged);
    // step_<N>.safetensors (.pt, .pkl, .h5) holds the layers of one step; any other file holds full entry names.
    const fileStep = opened.format !== 'npz' ? parseStepFile(withoutExt) : null;
    const dotted = opened.dottedNames;
    const found: FileEntries = { path: rel, selfNamed: fileStep === null, entries: [] };
    for (const entry of opened.entries) {
      const source = `${path}:${entry.name}`;
      const where = fileStep ? { ...fileStep, layer: entry.name } : parseEntryName(entry.name, dotted);
      if (entry.name === 'labels') setLabels(source, await opened.read('labels'));
      else if (where) found.entries.push({ ...where, source, shape: entry.shape, dtype: entry.dtype, load: () => opened.read(entry.name) });
      else addLoose(opened, path, entry.name, source, entry.shape, entry.dtype);
    }
    for (const { name: member, error, listOnly } of opened.unreadable) {
      // A member that should have been part of the bundle: its reason refuses the file (naming it).
      if (!listOnly && (member === 'labels' || (!fileStep && parseEntryName(member, dotted)))) throw error;
      unmatched.push(`${path}:${member}`);
      unreadable.push(error.message);
    }
    for (const other of opened.others) {
      if (other === 'manifest.json') setManifest(`${path}:${other}`, await opened.readText(other));
      else unmatched.push(`${path}:${other}`);
    }
    if (found.entries.length > 0) perFile.push(found);
  }
  checkAborted(signal);

  const perRun = runPerFile(perFile);
  const excluded: string[] = [];
  if (perRun) {
    for (const file of disagreeingFiles(perFile)) {
      excluded.push(`${file.source}: left out of the study: ${file.why}`);
    }
  }
  const out = new Set(excluded.map((line) => line.slice(0, line.indexOf(': left out of the study'))));
  // A file left out holds none of the study (its entries go, so the runs are the good files).
  const entries = (perRun ?? perFile.flatMap((f) => f.entries)).filter((e) => !out.has(fileOfSource(e.source)));
  // Labels that are not one integer class per datapoint are left out, with a warning naming them.
  let labels = extras.labels?.array ?? null;
  if (extras.labels && labels) {
    const problem = labelsProblem(labels, entries.length > 0 ? datapointsFromShapes(entries.map((e) => e.shape)) : undefined);
    if (problem) {
      warnings.push(`${extras.labels.source}: ${problem}; the labels are left out (the arrays load without them)`);
      labels = null;
    }
  }
  return {
    bundle: assemble(name, entries, unmatched, labels, oneManifest(extras.manifests)),
    loose,
    unreadable,
    warnings,
    excluded,
    extras: [...(extras.labels ? [extras.labels.source] : []), ...extras.manifests.keys()],
  };
}

/**
 * One run per file, when the files are self-named, have no run prefixes and overlap: the entries
 * with each file's run set (its stem; its path without extension where two stems are equal). Beside
 * a file whose arrays have runs (`seed0/step_<N>/…`, two seeds the exporter wrote together), a
 * self-named file without run prefixes (a third seed saved on its own) is likewise a run named after
 * it, not a run without a name. null when the files are to be merged as they are.
 */
function runPerFile(perFile: FileEntries[]): BundleEntry[] | null {
  if (perFile.length < 2) return null;
  const unprefixed = (f: FileEntries) => f.selfNamed && f.entries.every((e) => e.run === null);
  if (perFile.some((f) => f.entries.some((e) => e.run !== null)) && perFile.some(unprefixed)) {
    const runs = fileRunNames(perFile.map((f) => f.path));
    return perFile.flatMap((file, i) => (unprefixed(file) ? file.entries.map((e) => ({ ...e, run: runs[i] })) : file.entries));
  }
  if (!perFile.every(unprefixed)) return null;
  const seen = new Set<string>();
  let overlap = false;
  for (const f of perFile) {
    const mine = new Set(f.entries.map((e) => entryKey(null, e.step, e.layer)));
    for (const key of mine) {
      if (seen.has(key)) overlap = true;
    }
    for (const key of mine) seen.add(key);
  }
  if (!overlap) return null;
  const runs = fileRunNames(perFile.map((f) => f.path));
  return perFile.flatMap((file, i) => file.entries.map((e) => ({ ...e, run: runs[i] })));
}

/** A run named after its file: the file's stem, or its path without extension where two stems are equal. */
function fileRunNames(paths: string[]): string[] {
  const stems = paths.map((path) => arrayStem(path));
  return stems.map((stem, i) => (stems.indexOf(stem) === stems.lastIndexOf(stem) ? stem : withoutExtension(normalisePath(paths[i]))));
}

/** The file an entry's source names ("a.npz:step_0/fc1" → "a.npz"). */
function fileOfSource(source: string): string {
  const colon = source.indexOf(':');
  return colon < 0 ? source : source.slice(0, colon);
}

/**
 * The files of a one-file-per-run study that cannot be one of its runs: a file whose arrays disagree
 * on the datapoint count with each other, or all hold another count than the other files' (another
 * probe set). The study's count is the one most arrays have (each array's datapoint axis detected
 * knowing that count, as the engine reads it); each file is named with its first disagreeing array.
 */
function disagreeingFiles(perFile: FileEntries[]): { source: string; why: string }[] {
  const all = perFile.flatMap((f) => f.entries);
  const guess = (shape: readonly number[], hint?: number) => datapointsOfShape(shape, detectLayout(shape, hint).layout);
  const tally = new Map<number, number>();
  for (const e of all) tally.set(guess(e.shape), (tally.get(guess(e.shape)) ?? 0) + 1);
  const study = [...tally.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (study === undefined || tally.size === 1) return [];
  const found: { source: string; why: string }[] = [];
  for (const file of perFile) {
    const bad = file.entries.find((e) => guess(e.shape, study) !== study);
    if (!bad) continue;
    const member = bad.source.slice(fileOfSource(bad.source).length + 1) || bad.source;
    const good = file.entries.find((e) => guess(e.shape, study) === study);
    const others = good ? `${good.source.slice(fileOfSource(good.source).length + 1)} and the other files' arrays have` : `the other files' arrays have`;
    found.push({
      source: fileOfSource(bad.source),
      why: `array ${member} (shape ${formatShape(bad.shape)}) has ${guess(bad.shape, study)} datapoints but ${others} ${study}; every array of a study must hold the same probe inputs in the same order (the other runs load without this file)`,
    });
  }
  return found;
}

function withoutExtension(path: string): string {
  const ext = arrayExtension(path);
  return ext ? path.slice(0, -ext.length) : path;
}

function sameValues(a: NdArray, b: NdArray): boolean {
  if (a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
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
/** The bundle's manifest: the one read, or several (one file per run) as one object keyed by where each came from. */
function oneManifest(manifests: Map<string, unknown>): unknown {
  if (manifests.size === 0) return null;
  if (manifests.size === 1) return [...manifests.values()][0];
  return Object.fromEntries(manifests);
}

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
      throw new InputError(
        name,
        `${other.source} and ${entry.source} are both ${run}step ${entry.step}, layer ${entry.layer}: each array must appear once; ` +
          'open the files one at a time, or name their members <run>/step_<N>/<layer> so that each file is its own run',
      );
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

/**
 * `[<run>/]step_<N>/<layer>` → its parts (the first step_<N> segment splits run from layer), or
 * null. With `dotted` (torch/pickle names: nested keys joined with '.'), '.' separates segments
 * too, and run and layer keep their separators as written: "runA.step_10.layer1.0.conv" → run
 * "runA", layer "layer1.0.conv"; "step_10/model/fc" → layer "model/fc".
 */
function parseEntryName(name: string, dotted: boolean): { run: string | null; step: number; layer: string } | null {
  // Segments at even indices, the separators between them at odd ones.
  const parts = name.split(dotted ? /([./])/ : /(\/)/);
  if (parts.some((s, i) => i % 2 === 0 && s === '')) return null;
  for (let at = 0; at < parts.length; at += 2) {
    const step = parseStep(parts[at]);
    if (step === null) continue;
    if (at === parts.length - 1) return null;
    return { run: at === 0 ? null : parts.slice(0, at - 1).join(''), step, layer: parts.slice(at + 2).join('') };
  }
  return null;
}

/** `[<run>/]step_<N>` (a safetensors, torch, pickle or HDF5 file path without its extension) → run and step, or null. */
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
