// Synthetic bundles whose checkpoints are generated when the engine loads them, and the folder of
// .npy files the numpy reference reads.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { encodeNpy } from '../../src/io/npy';
import type { Bundle, BundleEntry } from '../../src/io/types';
import { ActivationGenerator, type GeneratorSpec } from '../bench-data';
import { cpuSeconds, now } from './args';

export interface LoadEvent {
  step: number;
  layer: number;
  start: number;
  end: number;
  /** Process CPU seconds (user + system) spent in this load: subtracted from our CPU time like the wall time. */
  cpuSeconds: number;
}

export interface SyntheticJob {
  gen: ActivationGenerator;
  bundle: Bundle;
  loads: LoadEvent[];
  layerNames: string[];
}

export const layerName = (l: number) => `layer_${l}`;
export const npyPath = (step: number, layer: number) => `step_${step}/${layerName(layer)}.npy`;

export function writeNpy(dir: string, relative: string, shape: number[], data: Float32Array): void {
  const file = join(dir, relative);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, encodeNpy(shape, data));
}

/** A bundle whose entries generate their checkpoint on load() (and write the .npy files numpy needs). */
export function syntheticJob(spec: GeneratorSpec, dataDir: string | null, needsFile: (step: number, layer: number) => boolean): SyntheticJob {
  const gen = new ActivationGenerator(spec);
  const loads: LoadEvent[] = [];
  const layerNames = spec.widths.map((_, l) => layerName(l));
  const entries: BundleEntry[] = [];
  for (let t = 0; t < spec.steps; t++) {
    spec.widths.forEach((n, l) => {
      const shape = [spec.datapoints, n];
      entries.push({
        run: null,
        step: t,
        layer: layerNames[l],
        source: `synthetic:step_${t}/${layerNames[l]}`,
        shape,
        dtype: '<f4',
        load: async () => {
          const start = now();
          const cpuStart = cpuSeconds();
          const data = gen.generate(l, t);
          if (dataDir !== null && needsFile(t, l)) writeNpy(dataDir, npyPath(t, l), shape, data);
          loads.push({ step: t, layer: l, start, end: now(), cpuSeconds: cpuSeconds() - cpuStart });
          return { shape, dtype: '<f4', data };
        },
      });
    });
  }
  const bundle: Bundle = {
    name: 'synthetic',
    runs: [null],
    steps: Array.from({ length: spec.steps }, (_, t) => t),
    layers: layerNames,
    entries,
    unmatched: [],
    labels: null,
    manifest: null,
  };
  return { gen, bundle, loads, layerNames };
}
