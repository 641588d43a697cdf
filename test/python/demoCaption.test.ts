// The default demo's caption against its bundle: every number the caption states is recomputed
// here from public/demo/fashion-resnet.npz with the CLI's own functions (computeDynamics and
// computeCross on the CPU backend, the CLI's defaults: SVCCA, 99% variance, conv layers through the
// DFT), in-process, and the ordering the caption claims is checked. To stay fast it computes only
// the entries the caption needs (each layer against itself, layer by layer on one-layer views of
// the bundle, and the few stripe pairs) rather than the whole layer x layer grid at every step; a
// pair's similarity does not depend on which other layers are in the grid. scripts/make_demo.py wrote the
// caption from `svcca-lens dynamics` / `cross` and kept the numbers in index.json's `facts`; this
// test does not trust those either: it recomputes them, compares, and then checks that each number
// in the caption text is one of the recomputed numbers (or a fact of the recipe from the manifest).
//
// Shape convention: dynamics values[t][i][j] = SVCCA of layer i at steps[t] with layer j at the
// last step; the diagonal [t][i][i] is each layer's similarity to its own final state.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/analysis/backend';
import { computeCross, computeDynamics } from '../../src/analysis/engine';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { openBundlePath } from '../../src/io/node';
import type { Bundle } from '../../src/io/types';

const DEMO = fileURLToPath(new URL('../../public/demo', import.meta.url));
const ENTRY_ID = 'fashion-resnet';
/** facts are rounded to 4 decimals by make_demo.py; the engine is the same code, so only rounding differs. */
const FACT_ROUNDING = 1e-4;
const THRESHOLDS = ['0.9', '0.95'] as const;
/** Progress from initialisation is only counted for layers starting below this (as demo_dynamics.py). */
const PROGRESS_START_BELOW = 0.9;
/** Similarities closer than this say nothing about which layer is ahead (as demo_dynamics.py). */
const TIE = 0.005;

interface Facts {
  steps: number[];
  layers: string[];
  stages: Record<string, string>;
  diagonal: Record<string, number[]>;
  freeze: Record<string, Record<string, number | null>>;
  at_init: Record<string, number>;
  bottom_up_pairs_raw: [number, number];
  bottom_up_pairs_progress: [number, number];
  shown_step: number;
  at_shown_step: Record<string, number>;
  stripes: Record<string, { outputs: number; inner: number }>;
  cross_step: number;
  cross: Record<string, number>;
  test_accuracy: Record<string, number>;
}

interface Entry {
  id: string;
  title: string;
  caption: string;
  file: string;
  step: number;
  facts: Facts;
}

const index: Entry[] = JSON.parse(readFileSync(join(DEMO, 'index.json'), 'utf8'));
const entry = index.find((e) => e.id === ENTRY_ID);

/** The first step from which the curve never drops below the threshold again (null: it ends below). */
function firstStaying(steps: number[], curve: number[], threshold: number): number | null {
  if (curve[curve.length - 1] < threshold) return null;
  let t = curve.length - 1;
  while (t > 0 && curve[t - 1] >= threshold) t--;
  return steps[t];
}

/** [pairs i < j with values[i] ahead of values[j], informative pairs]. */
function countPairs(values: (number | null)[]): [number, number] {
  let ahead = 0;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    for (let j = i + 1; j < values.length; j++) {
      const a = values[i];
      const b = values[j];
      if (a === null || b === null || Math.abs(a - b) <= TIE) continue;
      total++;
      if (a > b) ahead++;
    }
  }
  return [ahead, total];
}

const fixed2 = (v: number) => v.toFixed(2);
const percent = (v: number) => `${(v * 100).toFixed(1)}%`;

describe.skipIf(!entry)(`public/demo ${ENTRY_ID}: the caption, recomputed from the bundle`, () => {
  const e = entry!;
  const f = e.facts;
  let bundle: Bundle;
  let steps: number[];
  let layers: string[];
  let diagonal: Record<string, number[]>;
  let last: number[][];
  let cross: Record<string, number>;
  let crossStep: number;

  /** The bundle restricted to some layers (the same arrays). */
  const only = (names: string[]): Bundle => ({ ...bundle, layers: names, entries: bundle.entries.filter((x) => names.includes(x.layer)) });

  beforeAll(async () => {
    bundle = await openBundlePath(join(DEMO, e.file));
    layers = bundle.layers;
    diagonal = {};
    cross = {};
    for (const layer of layers) {
      const dynamics = await computeDynamics({ bundle: only([layer]), run: 'seed0' }, DEFAULT_OPTIONS, {}, cpuBackend);
      steps = dynamics.steps;
      diagonal[layer] = dynamics.values.map((row) => row[0][0]!);
      const c = await computeCross({ a: { bundle: only([layer]), run: 'seed0' }, b: { bundle: only([layer]), run: 'seed1' } }, DEFAULT_OPTIONS, {}, cpuBackend);
      expect(c.step).not.toBeNull();
      crossStep = c.step!;
      cross[layer] = c.values[0][0]!;
    }
    // The final network's layer x layer similarities between the stripe layers (the heatmap's last step).
    const stripeLayers = layers.filter((l) => /^s[23]b[12]/.test(l));
    const final = await computeCross({ a: { bundle: only(stripeLayers), run: 'seed0' }, b: { bundle: only(stripeLayers), run: 'seed0' }, step: steps[steps.length - 1] }, DEFAULT_OPTIONS, {}, cpuBackend);
    last = layers.map((a) => layers.map((b) => (stripeLayers.includes(a) && stripeLayers.includes(b) ? final.values[stripeLayers.indexOf(a)][stripeLayers.indexOf(b)]! : NaN)));
  }, 240_000);

  it('the measured facts are what svcca-lens computes from the shipped bundle', () => {
    expect(steps).toEqual(f.steps);
    expect(layers).toEqual(f.layers);
    for (const l of layers) {
      diagonal[l].forEach((v, t) => expect(Math.abs(v - f.diagonal[l][t]), `${l} at step ${steps[t]}`).toBeLessThanOrEqual(FACT_ROUNDING));
    }
    for (const th of THRESHOLDS) {
      for (const l of layers) expect(firstStaying(steps, diagonal[l], Number(th)), `${l} >= ${th}`).toBe(f.freeze[th][l]);
    }
    const stages = Object.values(f.stages);
    const middle = steps.slice(1, -1).map((_, k) => k + 1);
    const raw: [number, number] = [0, 0];
    const moved: [number, number] = [0, 0];
    for (const t of middle) {
      const [a, n] = countPairs(stages.map((l) => diagonal[l][t]));
      raw[0] += a;
      raw[1] += n;
      const [pa, pn] = countPairs(stages.map((l) => (diagonal[l][0] < PROGRESS_START_BELOW ? (diagonal[l][t] - diagonal[l][0]) / (1 - diagonal[l][0]) : null)));
      moved[0] += pa;
      moved[1] += pn;
    }
    expect(raw).toEqual(f.bottom_up_pairs_raw);
    expect(moved).toEqual(f.bottom_up_pairs_progress);
    const at = (l: string) => layers.indexOf(l);
    for (const [label, { outputs, inner }] of Object.entries(f.stripes)) {
      const n = label.replace('stage ', '');
      expect(Math.abs(last[at(`s${n}b2`)][at(`s${n}b1`)] - outputs), label).toBeLessThanOrEqual(FACT_ROUNDING);
      expect(Math.abs(last[at(`s${n}b2-inner`)][at(`s${n}b1-inner`)] - inner), label).toBeLessThanOrEqual(FACT_ROUNDING);
    }
    expect(crossStep).toBe(f.cross_step);
    for (const l of layers) expect(Math.abs(cross[l] - f.cross[l]), `cross ${l}`).toBeLessThanOrEqual(FACT_ROUNDING);
  });

  it('the heatmap opens on the step where stage 1 has settled, and the caption orders the stages as measured', () => {
    const stages = Object.values(f.stages);
    const settle = stages.map((l) => firstStaying(steps, diagonal[l], 0.9));
    expect(e.step).toBe(f.shown_step);
    expect(e.step).toBe(settle[1]);
    const ordered = settle.every((s, i) => s !== null && (i === 0 || s >= settle[i - 1]!));
    // The caption claims a bottom-up order exactly when the steps are non-decreasing from stem to stage 3.
    expect(e.caption.includes('settles bottom-up')).toBe(ordered);
    expect(e.title.includes('bottom-up')).toBe(ordered);
    expect(ordered, `first steps staying >= 0.9: ${settle.join(', ')}`).toBe(true);
    // The logits, fitted directly by the loss, settle before stage 3.
    expect(firstStaying(steps, diagonal.logits, 0.9)!).toBeLessThan(settle[settle.length - 1]!);
    // The caveat is there when the order does not hold as progress from initialisation.
    const [pa, pn] = f.bottom_up_pairs_progress;
    if (pa / pn < 0.75) expect(e.caption).toMatch(/cannot be told apart/);
  });

  it('every number in the caption is a recomputed one or a fact of the recipe', () => {
    const stages = Object.entries(f.stages);
    const manifest = bundle.manifest as { datapoints: number; provenance: { test_accuracy: Record<string, number>; steps: number } };
    // Accuracy on the 10,000 test images is not in the bundle: the manifest records it; the bundle's
    // logits at the last step must agree with the manifest's probe accuracy (same network).
    expect(manifest.provenance.test_accuracy).toEqual(f.test_accuracy);
    const expected: string[] = [];
    for (const th of THRESHOLDS) for (const [label, l] of stages) expected.push(`${f.freeze[th][l]} (${label})`);
    expected.push(percent(f.test_accuracy.seed0), percent(f.test_accuracy.seed1));
    expected.push(`at step ${e.step}`, `at step ${firstStaying(steps, diagonal.logits, 0.9)}`);
    for (const [label, l] of stages) expected.push(`${label} ${fixed2(diagonal[l][steps.indexOf(e.step)])}`);
    const [first, top] = [stages[0], stages[stages.length - 1]];
    expected.push(`${first[0]} already scores ${fixed2(diagonal[first[1]][0])}`, `${top[0]} ${fixed2(diagonal[top[1]][0])}`);
    expected.push(`${f.bottom_up_pairs_progress[0]} of ${f.bottom_up_pairs_progress[1]}`, `${f.bottom_up_pairs_raw[0]} of ${f.bottom_up_pairs_raw[1]}`);
    for (const [label, v] of Object.entries(f.stripes)) expected.push(`${label} block outputs ${fixed2(v.outputs)}`, `inner activations ${fixed2(v.inner)}`);
    for (const [label, l] of stages) expected.push(`${label} ${fixed2(cross[l])}`);
    expected.push(`logits ${fixed2(cross.logits)}`, `step ${crossStep} only`);
    for (const text of expected) expect(e.caption, text).toContain(text);

    // Nothing else numeric: each number in the caption is one of the above or of the recipe.
    const recipe = new Set(['16', '28', '32', '64', '14', '7', '4', '3', '2', '175,258', String(manifest.provenance.steps), String(manifest.datapoints), String(steps.length), '0.9', '0.95', '1']);
    const allowed = new Set([...recipe, ...expected.flatMap((t) => t.match(/\d[\d.,]*%?/g) ?? []).map((t) => t.replace(/[.,]$/, ''))]);
    const found = (e.caption.match(/(?<![\w.])\d[\d.,]*%?/g) ?? []).map((t) => t.replace(/[.,]$/, ''));
    expect(found.filter((t) => !allowed.has(t))).toEqual([]);
  });

  it('the probe accuracy in the manifest is what the bundle’s logits give', async () => {
    const manifest = bundle.manifest as { provenance: { probe_accuracy: Record<string, Record<string, number>> } };
    const labels = bundle.labels!.data;
    for (const run of ['seed0', 'seed1']) {
      const logits = bundle.entries.find((x) => x.run === run && x.step === f.cross_step && x.layer === 'logits')!;
      const array = await logits.load();
      const [n, classes] = array.shape;
      let correct = 0;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (array.data[i * classes + c] > array.data[i * classes + best]) best = c;
        if (best === labels[i]) correct++;
      }
      // float16 logits may flip a near-tie: within one image of the float32 accuracy.
      expect(Math.abs(correct / n - manifest.provenance.probe_accuracy[run][String(f.cross_step)]), run).toBeLessThanOrEqual(1 / n + 1e-9);
    }
  });
});

it('the default demo (first entry of public/demo/index.json) is the ResNet', () => {
  expect(existsSync(join(DEMO, 'index.json'))).toBe(true);
  expect(index[0].id).toBe(ENTRY_ID);
});
