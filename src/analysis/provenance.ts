// What a grid result was computed from, so that an export (CSV, JSON, PNG, SVG) or the CLI's
// --json says what it is: bundle, run(s), step(s), the options its numbers depend on, which
// processor computed it, the app's version and a short content hash of the arrays it read.
// The hash is SHA-256 over the arrays as the readers decode them (dtype, shape, values), so the
// app and the CLI give the same hash for the same files and an export can be matched to its data.

import { Sha256 } from '../io/sha256';
import { InputError, type Bundle, type BundleEntry, type NdArray } from '../io/types';
import { dimensionsOverTrainingWithGaps } from './classes';
import { knownK99Of } from './engine';
import { APP_NAME, APP_VERSION } from '../version';
import { optionsUsed, type OptionsUsed } from './metricDefs';
import { anyConv } from './rules';
import type { AnalysisOptions, Conventions, CrossResult, DynamicsResult, JobControl } from './types';

// Which options a grid's numbers depend on is the metric registry's rule (metricDefs.optionsUsed).
export { optionsUsed, type OptionsUsed };

/** Which processor computed the numbers and why (the precision branch may add more here). */
export interface Computed {
  backend: Conventions['backend'];
  precision: Conventions['precision'];
  reason: string;
}

/** Fields every exported grid result carries besides the CLI's original schema. */
export interface GridProvenance {
  options: OptionsUsed;
  /** Layers left out of the job (the app's preview checkboxes); [] from the CLI. */
  leftOut: string[];
  /** First 12 hex digits of SHA-256 over the arrays the job read (see inputHash). */
  inputHash: string;
  /** How many arrays the hash covers. */
  inputArrays: number;
  computed: Computed;
  app: { name: string; version: string };
}

export interface DynamicsProvenance extends GridProvenance {
  /** The bundle's file or folder name. */
  bundle: string;
  run: string | null;
  /**
   * k99[t][i]: SVD directions holding 99% of layer i's variance at steps[t], null where the array is
   * bad input (the app's Export JSON and `dynamics --json` alike). Absent from the app's job result
   * where the job did not know every cell (withDynamicsProvenance's 'if-known'): Export JSON then
   * asks the worker for it (dynamicsK99).
   */
  k99?: (number | null)[][];
}

export interface CrossProvenance extends GridProvenance {
  bundleA: string;
  runA: string | null;
  bundleB: string;
  runB: string | null;
}

export type DynamicsExport = DynamicsResult & DynamicsProvenance;
export type CrossExport = CrossResult & CrossProvenance;

const HASH_CHARS = 12;
const entryDigests = new WeakMap<BundleEntry, Promise<string>>();

/** "dtype|shape|", then the values' bytes (little-endian floats): the two parts an array's digest is taken over. */
function digestParts(array: NdArray): [Uint8Array, Uint8Array] {
  const head = new TextEncoder().encode(`${array.dtype}|${array.shape.join(',')}|`);
  return [head, new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength)];
}

/** An incremental SHA-256 (io/sha256.ts, or Node's `crypto.createHash('sha256')`): fed in parts, so nothing is copied. */
export interface IncrementalSha256 {
  update(bytes: Uint8Array): unknown;
  digest(encoding: 'hex'): string;
}

const javascriptSha256 = () => new Sha256();
let makeSha256: () => IncrementalSha256 = javascriptSha256;

/**
 * Registers a faster SHA-256 than the JavaScript one (the CLI registers Node's native hash, ~8× as
 * fast); null goes back to the JavaScript one (the browser's: WebCrypto hashes only one buffer,
 * which would be a copy of the array and its header line). The digests are the same.
 */
export function registerIncrementalSha256(factory: (() => IncrementalSha256) | null): void {
  makeSha256 = factory ?? javascriptSha256;
}

/** SHA-256 of `parts` in order, in hex. */
function sha256(...parts: Uint8Array[]): string {
  const hash = makeSha256();
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** SHA-256 of one array as decoded (digestParts), in hex: hashed where it lies, no copy. */
function arrayDigest(array: NdArray): string {
  return sha256(...digestParts(array));
}

function cacheDigest(entry: BundleEntry, digest: Promise<string>): Promise<string> {
  digest.catch(() => entryDigests.delete(entry));
  entryDigests.set(entry, digest);
  return digest;
}

/** SHA-256 of one array as decoded (see digestParts). Cached per entry. */
function entryDigest(entry: BundleEntry): Promise<string> {
  return entryDigests.get(entry) ?? cacheDigest(entry, entry.load().then(arrayDigest));
}

/**
 * Hashes an array a job has just read (`entry.load()`'s array, before anything changes it), so that
 * inputHash finds its digest and does not read the array again: a dynamics job's export then reads
 * the bundle once (engine.ts DynamicsRequest.onArrayRead). Any size: the hash is fed the array where
 * it lies (before, WebCrypto's copy of it kept arrays over 16 MiB for a second read after the job).
 */
export async function rememberEntryDigest(entry: BundleEntry, array: NdArray): Promise<void> {
  if (entryDigests.has(entry)) return;
  await cacheDigest(
    entry,
    Promise.resolve().then(() => arrayDigest(array)),
  ).catch(() => {});
}

/**
 * A short content hash of the arrays a job reads: SHA-256 over one line per array,
 * "run/step/layer sha256-of-the-array", in the order given, cut to 12 hex digits. Names are
 * included (not the file names): the same arrays under the same run, step and layer hash alike
 * whether they come from an .npz or a folder.
 */
export async function inputHash(entries: readonly BundleEntry[]): Promise<string> {
  const lines: string[] = [];
  for (const e of entries) {
    // An array that cannot be read (a job left it out: its cells are missing) hashes as its message.
    const digest = await entryDigest(e).catch((error: unknown) => {
      if (error instanceof InputError) return `unreadable: ${error.message}`;
      throw error;
    });
    lines.push(`${e.run ?? ''}/${e.step}/${e.layer} ${digest}`);
  }
  return sha256(new TextEncoder().encode(lines.join('\n'))).slice(0, HASH_CHARS);
}

/** The arrays a learning-dynamics job reads, in hash order: steps ascending, layers in bundle order. */
export function dynamicsEntries(entries: readonly BundleEntry[], layers: readonly string[], run: string | null): BundleEntry[] {
  const order = new Map(layers.map((l, k) => [l, k]));
  return entries.filter((e) => e.run === run && order.has(e.layer)).sort((x, y) => x.step - y.step || order.get(x.layer)! - order.get(y.layer)!);
}

/** The arrays a cross job reads: A's layers at the step, then B's. */
export function crossEntries(
  a: { entries: readonly BundleEntry[]; layers: readonly string[]; run: string | null },
  b: { entries: readonly BundleEntry[]; layers: readonly string[]; run: string | null },
  step: number,
): BundleEntry[] {
  const side = (s: typeof a) =>
    s.layers.map((l) => s.entries.find((e) => e.run === s.run && e.step === step && e.layer === l)).filter((e): e is BundleEntry => !!e);
  return [...side(a), ...side(b)];
}

export function computedBy(conventions: Conventions, reason: string): Computed {
  return { backend: conventions.backend, precision: conventions.precision, reason };
}

export const appInfo = () => ({ name: APP_NAME, version: APP_VERSION });

/**
 * Adds the provenance fields to a dynamics result (in place; returns it typed). k99 comes from the
 * cells the job knew as it factored (engine.ts knownK99Of: SVCCA in float64, no extra read or SVD);
 * the cells it did not know (other metrics, the DFT, float32 GPU factors, conv layers under
 * 'positions') are read and factored by the k99 pass (classes.ts), only those.
 */
export async function withDynamicsProvenance(
  result: DynamicsResult,
  /**
   * `k99`: true (the default) fills it, running the pass for the unknown cells; false leaves it []
   * (the CLI's plain-text output, which does not show it); 'if-known' fills it only when the job knew
   * every cell and else leaves it out, for the app, which runs the pass when the user exports JSON.
   */
  job: { bundle: Bundle; run: string | null; options: AnalysisOptions; leftOut: string[]; reason: string; k99?: boolean | 'if-known' },
  control: JobControl = {},
): Promise<DynamicsExport> {
  const read = dynamicsEntries(job.bundle.entries, result.layers, job.run);
  const out = result as DynamicsExport;
  out.bundle = job.bundle.name;
  out.run = job.run;
  out.options = optionsUsed(job.options, anyConv(read));
  out.leftOut = job.leftOut;
  out.inputHash = await inputHash(read);
  out.inputArrays = read.length;
  out.computed = computedBy(result.conventions, job.reason);
  out.app = appInfo();
  const known = knownK99Of(result);
  const whole = known && known.run === job.run ? known.table(result.steps, result.layers) : null;
  if (job.k99 === false) out.k99 = [];
  else if (whole) out.k99 = whole;
  else if (job.k99 !== 'if-known') out.k99 = (await dimensionsOverTrainingWithGaps(job.bundle, job.run, job.options, control, known)).k99;
  return out;
}

export async function withCrossProvenance(
  result: CrossResult,
  job: {
    a: { bundle: string; run: string | null; entries: readonly BundleEntry[]; leftOut: string[] };
    b: { bundle: string; run: string | null; entries: readonly BundleEntry[]; leftOut: string[] };
    options: AnalysisOptions;
    reason: string;
  },
): Promise<CrossExport> {
  const read =
    result.step === null
      ? []
      : crossEntries(
          { entries: job.a.entries, layers: result.layersA, run: job.a.run },
          { entries: job.b.entries, layers: result.layersB, run: job.b.run },
          result.step,
        );
  const out = result as CrossExport;
  out.bundleA = job.a.bundle;
  out.runA = job.a.run;
  out.bundleB = job.b.bundle;
  out.runB = job.b.run;
  out.options = optionsUsed(job.options, anyConv(read));
  out.leftOut = [...job.a.leftOut.map((l) => `A:${l}`), ...job.b.leftOut.map((l) => `B:${l}`)];
  out.inputHash = await inputHash(read);
  out.inputArrays = read.length;
  out.computed = computedBy(result.conventions, job.reason);
  out.app = appInfo();
  return out;
}
