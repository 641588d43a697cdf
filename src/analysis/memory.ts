// How much memory a job over a bundle needs at once, from the shapes alone (no data read), and
// whether that fits the bound the app keeps to in a browser tab.
//
// What the engine holds at once (engine.ts loadSide, computeDynamics, computeCross): the arrays are
// read one at a time, so of the arrays only the one in flight counts, as its stored bytes, its
// decoded float32 values, its float64 representation and the matrix its conv reduction makes
// (features × datapoints, float64); the factors of two checkpoints stay (the reference and the one
// being compared, or A's and B's), each about features × datapoints float64 per layer. The factor
// cache (factorCache.ts) keeps at most its own byte bound on top. The size of the file does not
// enter: a 6 GB bundle of small layers fits, a 300 MB file of one huge layer may not.

import { formatBytes } from '../io/decode';

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
  const factorBytes =
    2 * layers.reduce((sum, l) => sum + Math.min(l.neurons, l.datapoints) * l.datapoints * 8 + l.neurons * Math.min(l.neurons, l.datapoints) * 8, 0);
  return { bytes: (largest?.bytes ?? 0) + factorBytes, largest, factorBytes };
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
