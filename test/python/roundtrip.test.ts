// The Python exporter's output read by the app's reader: test/fixtures/python/roundtrip.npz was
// written by svcca_lens_export.save_bundle (python/tests/make_roundtrip_fixture.py, which also
// wrote roundtrip.expected.json); python/tests/test_roundtrip.py checks the fixture is current.
//
// Shape convention: arrays as stored, datapoints first, C order (what openBundle's load() returns).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listMissing, openBundle } from '../../src/io/bundle';
import { detectLayout } from '../../src/io/layout';
import { openNpz } from '../../src/io/npz';
import type { InputFile } from '../../src/io/types';

const FIXTURES = fileURLToPath(new URL('../fixtures/python', import.meta.url));

interface ExpectedEntry {
  run: string;
  step: number;
  layer: string;
  member: string;
  shape: number[];
  dtype: string;
  values: number[];
}

interface Expected {
  runs: string[];
  steps: number[];
  layers: string[];
  datapoints: number;
  labels: number[];
  entries: ExpectedEntry[];
  manifest: Record<string, unknown> & { writer: Record<string, unknown> };
}

const expected: Expected = JSON.parse(readFileSync(join(FIXTURES, 'roundtrip.expected.json'), 'utf8'));
const bytes = () => new Uint8Array(readFileSync(join(FIXTURES, 'roundtrip.npz')));
const file = (): InputFile => ({ path: 'roundtrip.npz', blob: new Blob([bytes()]) });

describe('a bundle written by svcca_lens_export, read by openBundle', () => {
  it('has the runs, steps and layers the writer was given, nothing unmatched or missing', async () => {
    const bundle = await openBundle('roundtrip.npz', [file()]);
    expect(bundle.runs).toEqual(expected.runs);
    expect(bundle.steps).toEqual(expected.steps);
    expect(bundle.layers).toEqual(expected.layers);
    expect(bundle.unmatched).toEqual([]);
    expect(listMissing(bundle)).toEqual([]);
    expect(bundle.entries.map((e) => e.source)).toEqual(expected.entries.map((e) => `roundtrip.npz:${e.member}`));
  });

  it('reads every array with its shape, dtype and values (float16, exact in float32)', async () => {
    const bundle = await openBundle('roundtrip.npz', [file()]);
    for (const want of expected.entries) {
      const entry = bundle.entries.find((e) => e.run === want.run && e.step === want.step && e.layer === want.layer);
      expect(entry, want.member).toBeDefined();
      expect(entry!.shape).toEqual(want.shape);
      expect(entry!.dtype).toBe(want.dtype);
      const array = await entry!.load();
      expect(array.shape).toEqual(want.shape);
      expect(array.dtype).toBe('<f2');
      expect(array.data).toBeInstanceOf(Float32Array);
      expect(Array.from(array.data)).toEqual(want.values);
    }
  });

  it('reads the labels (int32) and the manifest.json member', async () => {
    const bundle = await openBundle('roundtrip.npz', [file()]);
    expect(bundle.labels!.dtype).toBe('<i4');
    expect(bundle.labels!.shape).toEqual([expected.datapoints]);
    expect(Array.from(bundle.labels!.data)).toEqual(expected.labels);
    const manifest = bundle.manifest as Expected['manifest'];
    const { numpy: _numpy, ...writer } = manifest.writer;
    expect({ ...manifest, writer }).toEqual(expected.manifest);
    expect(manifest.format).toBe('svcca-lens-bundle');
    expect(manifest.runs).toEqual(expected.runs);
    expect(manifest.steps).toEqual(expected.steps);
    expect(manifest.datapoints).toBe(expected.datapoints);
    expect(manifest.layers).toEqual([
      { name: 'features/conv', shape: [6, 2, 3, 3], dtype: 'float16', layout: 'datapoints-first', conv_layout: 'nchw', conv_layout_source: 'given' },
      { name: 'fc.1', shape: [6, 4], dtype: 'float16', layout: 'datapoints-first' },
    ]);
  });

  it('is an uncompressed npz whose manifest is a plain zip member, not an array', async () => {
    const npz = await openNpz(new Blob([bytes()]), 'roundtrip.npz');
    expect(npz.members.every((m) => m.method === 'stored')).toBe(true);
    expect(npz.members.map((m) => m.name)).toContain('labels');
    expect(npz.otherMembers.map((m) => m.path)).toEqual(['manifest.json']);
    expect(JSON.parse(await npz.readText('manifest.json')).writer.name).toBe('svcca_lens_export');
  });

  it('agrees with the app on the conv layout the manifest records', async () => {
    const bundle = await openBundle('roundtrip.npz', [file()]);
    const conv = bundle.entries.find((e) => e.layer === 'features/conv')!;
    expect(detectLayout(conv.shape, expected.datapoints).convLayout).toBe('nchw');
  });
});
