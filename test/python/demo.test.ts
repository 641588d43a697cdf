// The embedded demo (public/demo/, written by scripts/make_demo.py through the Python exporter)
// as the app reads it: index.json entries point at bundles that openBundle accepts, with at least
// two runs sharing the same layers, every run's own checkpoints complete (a run may be stored at
// fewer steps than another: the ResNet's seed1 holds its final checkpoint only), labels and a
// manifest with provenance.
//
// Shape convention: entries report shapes as stored, datapoints first.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openBundle } from '../../src/io/bundle';

const DEMO = fileURLToPath(new URL('../../public/demo', import.meta.url));
const INDEX = join(DEMO, 'index.json');

interface DemoEntry {
  id: string;
  title: string;
  caption: string;
  file: string;
  /** The checkpoint the heatmap opens on (optional). */
  step?: number;
  /** The similarity threshold the caption's freeze steps use, for the convergence chart's markers (optional). */
  threshold?: number;
  /** Every number the caption states, as measured by scripts/make_demo.py (optional; see demoCaption.test.ts). */
  facts?: Record<string, unknown>;
}

/** The demo data the deployed page may carry, in bytes (README, "The demo"). */
const DEMO_DATA_BUDGET = 20_000_000;

const index: DemoEntry[] = existsSync(INDEX) ? JSON.parse(readFileSync(INDEX, 'utf8')) : [];

describe('public/demo', () => {
  it('index.json lists demos with id, title, caption and a file next to it', () => {
    expect(index.length).toBeGreaterThan(0);
    expect(new Set(index.map((e) => e.id)).size).toBe(index.length);
    for (const entry of index) {
      for (const key of ['caption', 'file', 'id', 'title']) expect(entry, key).toHaveProperty(key);
      expect(Object.keys(entry).every((k) => ['caption', 'file', 'id', 'title', 'step', 'threshold', 'facts'].includes(k)), Object.keys(entry).join()).toBe(true);
      expect(entry.file).toMatch(/^[\w.-]+\.npz$/); // relative, same folder: works from any sub-path
      expect(existsSync(join(DEMO, entry.file)), entry.file).toBe(true);
      expect(entry.caption.length).toBeGreaterThan(100);
    }
  });

  it('stays small enough to ship with the page', () => {
    const total = index.reduce((sum, e) => sum + statSync(join(DEMO, e.file)).size, 0);
    expect(total).toBeLessThan(DEMO_DATA_BUDGET);
  });

  for (const entry of index) {
    it(`${entry.file} opens as a bundle of at least two runs over the same layers`, async () => {
      const bytes = new Uint8Array(readFileSync(join(DEMO, entry.file)));
      const bundle = await openBundle(entry.file, [{ path: entry.file, blob: new Blob([bytes]) }]);
      expect(bundle.runs.length).toBeGreaterThanOrEqual(2);
      expect(bundle.runs).not.toContain(null);
      expect(bundle.steps[0]).toBe(0);
      expect(bundle.layers.length).toBeGreaterThanOrEqual(4);
      expect(bundle.unmatched).toEqual([]);
      // Each run complete at its own steps: every layer at every step the run has.
      for (const run of bundle.runs) {
        const own = bundle.entries.filter((e) => e.run === run);
        const steps = new Set(own.map((e) => e.step));
        expect(own.length, `run ${run}`).toBe(steps.size * bundle.layers.length);
      }
      if (entry.step !== undefined) expect(bundle.steps).toContain(entry.step);
      if (entry.threshold !== undefined) expect(entry.threshold > 0 && entry.threshold < 1).toBe(true);

      const manifest = bundle.manifest as {
        runs: string[];
        steps: number[];
        datapoints: number;
        layers: { name: string; shape: number[] }[];
        provenance: Record<string, unknown>;
      };
      expect(manifest.runs).toEqual(bundle.runs);
      expect(manifest.steps).toEqual(bundle.steps);
      expect(manifest.layers.map((l) => l.name)).toEqual(bundle.layers);
      for (const key of ['script', 'command', 'seeds', 'optimizer', 'torch', 'date', 'checkpoint_steps']) {
        expect(manifest.provenance, key).toHaveProperty(key);
      }
      if (bundle.labels) expect(bundle.labels.shape).toEqual([manifest.datapoints]);

      // Every entry has the shape the manifest gives, the same datapoints; one is decoded fully.
      for (const e of bundle.entries) {
        expect(e.shape).toEqual(manifest.layers.find((l) => l.name === e.layer)!.shape);
        expect(e.shape[0]).toBe(manifest.datapoints);
        expect(e.dtype).toBe('<f2');
      }
      const last = bundle.entries[bundle.entries.length - 1];
      const array = await last.load();
      expect(array.data.length).toBe(last.shape.reduce((a, b) => a * b, 1));
      expect(array.data.every((v) => Number.isFinite(v))).toBe(true);
    });
  }
});
