// Per-representation factors kept between jobs, so that changing the reference step, the run or a
// view, or switching a setting back, reuses what was computed instead of re-reading, re-decoding and
// re-factoring every array. Float64 CPU factors only (GPU factors own device buffers and are fast to
// rebuild). Bounded by bytes; the least recently used entries leave first.
//
// A hit also skips loading the array: the cache keeps the Prepared record with a data-free
// representation (dimensions only), which is all that pair checks and warnings read.

import type { BundleEntry } from '../io/types';
import type { Representation } from '../math/reduce';
import { hasSvdStep, metricDef, usesEpsilon } from './metricDefs';
import type { Prepared } from './prepare';
import type { Factor } from './metrics';
import type { AnalysisOptions } from './types';

interface Entry {
  prepared: Prepared;
  factor: Factor;
  bytes: number;
}

const entryIds = new WeakMap<BundleEntry, number>();
let nextEntryId = 1;

/** Identity of a bundle entry: two files with the same name are different entries. */
function entryId(entry: BundleEntry): number {
  let id = entryIds.get(entry);
  if (id === undefined) {
    id = nextEntryId++;
    entryIds.set(entry, id);
  }
  return id;
}

/**
 * What a factor depends on besides the array: the layout, and the options that change the metric's
 * numbers (metricDefs) under the factor it shares (debiased CKA reuses CKA's).
 */
export function factorKey(entry: BundleEntry, options: AnalysisOptions, hint: number | undefined, dft: boolean): string {
  const layout = `${options.layout}|${options.convLayout}|${hint ?? '-'}`;
  if (dft) return `${entryId(entry)}|${layout}|dft`;
  const def = metricDef(options.metric);
  const keep = hasSvdStep(options.metric) ? `|${JSON.stringify(options.keep)}` : '';
  const epsilon = usesEpsilon(options.metric) ? `|${options.epsilon}` : '';
  return `${entryId(entry)}|${layout}|${options.convReduction}|${def.factor}${keep}${epsilon}`;
}

function arraysBytes(value: unknown, seen = new Set<unknown>()): number {
  if (value === null || typeof value !== 'object' || seen.has(value)) return 0;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return value.byteLength;
  let total = 0;
  for (const v of Object.values(value as Record<string, unknown>)) total += arraysBytes(v, seen);
  return total;
}

/** The representation's dimensions without its data (all that pair checks and warnings read). */
export function shapeOnly(rep: Representation): Representation {
  if (rep.kind === 'dense') {
    // From the stored array's sizes where there is one: reading `x` would build the float64 matrix (math/reduce.ts).
    const [rows, cols] = rep.stored ? [rep.stored.neurons, rep.stored.datapoints] : [rep.x.rows, rep.x.cols];
    return { kind: 'dense', x: { rows, cols, data: new Float64Array(0) } };
  }
  // The sizes alone: a spread would read `data` (built on first read, math/reduce.ts storedConv) and keep `stored`.
  const { datapoints, height, width, channels } = rep.conv;
  return { kind: 'conv', conv: { datapoints, height, width, channels, data: new Float64Array(0) } };
}

export class FactorCache {
  private readonly entries = new Map<string, Entry>();
  /** Bytes of typed arrays held. */
  bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes = 512 * 2 ** 20) {}

  get(key: string): { prepared: Prepared; factor: Factor } | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key); // most recently used last
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, prepared: Prepared, factor: Factor): void {
    const bytes = arraysBytes(factor);
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, { prepared: { ...prepared, rep: shapeOnly(prepared.rep) }, factor, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
    }
  }

  /** Drops every factor of these entries (a bundle the user removed): their memory is freed now,
   *  not when the byte bound gets round to them. */
  forget(entries: Iterable<BundleEntry>): void {
    const ids = new Set<string>();
    for (const entry of entries) {
      const id = entryIds.get(entry);
      if (id !== undefined) ids.add(String(id));
    }
    if (ids.size === 0) return;
    for (const [key, entry] of this.entries) {
      if (!ids.has(key.slice(0, key.indexOf('|')))) continue;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }
}
