// How much memory a job over a bundle needs at once, from the shapes alone (no data read), and
// whether that fits the bound the app keeps to in a browser tab.
//
// What the engine holds at once (engine.ts loadSide, computeDynamics, computeCross): the arrays are
// read one at a time, so of the arrays only the one in flight counts, as its stored bytes, its
// decoded float32 values, its float64 representation and the matrix its conv reduction makes
// (features × datapoints, float64); on the CPU pool a second one may be factored on a worker while
// the next is read, where the two batches' float64 bytes together are within OVERLAP_BYTES, so the
// two largest such arrays count. The factors of two checkpoints stay (the reference and the one
// being compared, or A's and B's), each about features × datapoints float64 per layer. The factor
// cache (factorCache.ts) keeps at most its own byte bound on top. The size of the file does not
// enter: a 6 GB bundle of small layers fits, a 300 MB file of one huge layer may not. The k99 pass
// (Export JSON, classes.ts) holds on the pool at most OVERLAP_BYTES of float64 layers in flight,
// each with its centred copy and, wider than its datapoints, a transpose: after the job, not
// beside its factors, so it is not in this estimate.

import { formatBytes } from '../io/decode';

/** Float64 bytes of prepared arrays factored together in one backend call (engine.ts loadSide). */
export const FACTOR_BATCH_BYTES = 64 * 2 ** 20;

/**
 * On the CPU pool, the most float64 bytes of two batches (the one in flight on the workers and the
 * next) factored at once (engine.ts loadSide); beyond it, a batch waits for the one before, as on
 * one thread, so a job of huge layers holds one at a time. A fresh CNN's two conv layers (100 and
 * 50 MB as float64) overlap; two 64 MiB float32 arrays (128 MiB each as float64:
 * test/cli/largeFile.test.ts) do not: there the second batch in flight, with its copies (stored,
 * float32, the worker's), took the CLI past 600 MB of RSS.
 */
export const OVERLAP_BYTES = 3 * FACTOR_BATCH_BYTES;

/** What the app aims to stay under in one browser tab (Chromium's renderer runs out at a few GB). */
export const MEMORY_BOUND_BYTES = 2 * 2 ** 30;

export interface LayerFootprint {
  layer: string;
  /** Its largest stored array: bytes in the file and elements. */
  storedBytes: number;
  elements: number;
  /** Features and datapoints the metric sees under the chosen conv reduction. */
  neurons: number;
  datapoints: number;
  conv: boolean;
}

export interface JobMemory {
  /** Bytes needed at once, about. */
  bytes: number;
  /** The array in flight that needs the most, and what it needs. */
  largest: { layer: string; bytes: number } | null;
  /**
   * On the CPU pool, the two arrays that may be in flight at once (see OVERLAP_BYTES) and need the
   * most together, where that is more than `largest` alone; else null.
   */
  together: { layers: [string, string]; bytes: number } | null;
  /** Factors of two checkpoints. */
  factorBytes: number;
}

/** The memory of one array in flight: stored bytes, float32 values, float64 representation, reduced matrix. */
function inFlightBytes(l: LayerFootprint): number {
  return l.storedBytes + l.elements * (4 + 8) + l.neurons * l.datapoints * 8;
}

export function jobMemory(layers: readonly LayerFootprint[]): JobMemory {
  let largest: JobMemory['largest'] = null;
  for (const l of layers) {
    const bytes = inFlightBytes(l);
    if (!largest || bytes > largest.bytes) largest = { layer: l.layer, bytes };
  }
  // The two layers the pool may factor at once (their float64 elements within OVERLAP_BYTES) that need the most together.
  let together: JobMemory['together'] = null;
  for (const [i, a] of layers.entries())
    for (const b of layers.slice(i + 1)) {
      const bytes = inFlightBytes(a) + inFlightBytes(b);
      if ((a.elements + b.elements) * 8 <= OVERLAP_BYTES && bytes > (together?.bytes ?? largest?.bytes ?? 0)) together = { layers: [a.layer, b.layer], bytes };
    }
  const factorBytes =
    2 * layers.reduce((sum, l) => sum + Math.min(l.neurons, l.datapoints) * l.datapoints * 8 + l.neurons * Math.min(l.neurons, l.datapoints) * 8, 0);
  return { bytes: ((together ?? largest)?.bytes ?? 0) + factorBytes, largest, together, factorBytes };
}

/**
 * A plain-language warning when a job would need more than `bound`, saying what takes the memory
 * and what to do about it; null when it fits.
 */
export function memoryWarning(layers: readonly LayerFootprint[], bound = MEMORY_BOUND_BYTES): string | null {
  const memory = jobMemory(layers);
  if (memory.bytes <= bound || !memory.largest) return null;
  const over = `needs about ${formatBytes(memory.bytes)} of memory at once, over the ${formatBytes(bound)} this app keeps to in a browser tab`;
  const largest = layers.find((l) => l.layer === memory.largest!.layer)!;
  if (memory.together && memory.together.bytes >= memory.factorBytes) {
    const [a, b] = memory.together.layers;
    return (
      `this bundle ${over}: layers ${a} and ${b} need ${formatBytes(memory.together.bytes)} while they are read, factored side by side on the CPU threads. ` +
      `Leave one of them out, save them with fewer datapoints, or run the svcca-lens CLI on your machine, which reads the file the same way without the tab's limit`
    );
  }
  if (memory.largest.bytes >= memory.factorBytes) {
    const pool = largest.conv ? ' or pooled over space (e.g. x.mean(axis=(2, 3)) for NCHW)' : '';
    return (
      `this bundle ${over}: layer ${largest.layer} alone needs ${formatBytes(memory.largest.bytes)} while it is read (arrays are read one at a time). ` +
      `Leave that layer out, save it with fewer datapoints${pool}, or run the svcca-lens CLI on your machine, which reads the file the same way without the tab's limit`
    );
  }
  const anyConv = layers.some((l) => l.conv);
  return (
    `this bundle ${over}: the factors of two checkpoints of ${layers.length} layers take ${formatBytes(memory.factorBytes)}. ` +
    `Leave out layers you do not need${anyConv ? ', choose mean-pool for conv layers (C instead of C·H·W features each)' : ''}, or run the svcca-lens CLI on your machine`
  );
}
