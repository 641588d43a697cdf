// Orchestration of the explorer's actions against a scripted client: bundles, the preview, grid
// jobs (partials, cancel, supersede, cache, settings that matter), the drill-down, the views.

import { beforeEach, describe, expect, it } from 'vitest';
import { appInfo, computedBy, optionsUsed, type DynamicsExport } from '../../src/analysis/provenance';
import {
  appStore,
  cancelJob,
  closePair,
  confirmBundle,
  loadInput,
  openPair,
  resetAppState,
  runGrid,
  setAnalysisClient,
  setChance,
  setChanceCells,
  setCrossSide,
  setHeatMode,
  setLayerDropped,
  setOptions,
  setReference,
  setStepIndex,
  setTab,
  showDirections,
  stepBy,
  noticeStore,
  undoSwitch,
} from '../../src/state/store';
import { setPendingDropped } from '../../src/state/explorer';
import { informativeStepIndex, setStepFromLink } from '../../src/state/defaultStep';
import type { BundleInfo, DynamicsJobRequest } from '../../src/worker/protocol';
import { FakeClient, bundleInfo, file, flush, pairResult } from './fakes';

let client: FakeClient;
const state = () => appStore.getState();

beforeEach(() => {
  resetAppState();
  client = new FakeClient();
  setAnalysisClient(client);
});

const LAYERS = ['conv1', 'conv2', 'fc'];
const STEPS = [0, 10, 20];

function dynamicsResult(req: DynamicsJobRequest, value = 0.5): DynamicsExport {
  const layers = LAYERS.filter((l) => !req.dropped.includes(l));
  const conventions = pairResult(value).conventions;
  return {
    metric: req.options.metric,
    steps: STEPS,
    layers,
    reference: 20,
    values: STEPS.map(() => layers.map(() => layers.map(() => value))),
    k99: STEPS.map(() => layers.map(() => 1)),
    conventions,
    warnings: ['a warning'],
    bundle: req.bundle,
    run: req.run,
    options: optionsUsed(req.options, false),
    leftOut: req.dropped,
    inputHash: '0123456789ab',
    inputArrays: STEPS.length * layers.length,
    computed: computedBy(conventions, 'CPU (float64): test'),
    app: appInfo(),
  };
}

async function load(info: BundleInfo = bundleInfo('b.npz', LAYERS, STEPS), origin: 'user' | 'url' | 'demo' = 'user', errors: string[] = []) {
  const done = loadInput([{ path: info.name, file: file(info.name) }], info.name, origin, origin === 'demo' ? { title: 'T', caption: 'C' } : undefined);
  client.inputs.at(-1)!.resolve({ bundle: info, files: null, errors });
  await done;
}

/** Loads, confirms and finishes the first dynamics job. */
async function computed(value = 0.5) {
  await load();
  confirmBundle('b.npz');
  const job = client.dynamicsJobs.at(-1)!;
  job.resolve({ result: dynamicsResult(job.params, value), kept: [], backend: 'CPU (float64): test' });
  await flush();
}

describe('loading a bundle', () => {
  it('previews a dropped bundle and waits for Compute', async () => {
    await load(undefined, 'user', ['bad.npz: not a zip archive']);
    expect(state().bundles.map((b) => b.id)).toEqual(['b.npz']);
    expect(state().activeBundle).toBe('b.npz');
    expect(state().previewOpen).toBe(true);
    expect(state().confirmed['b.npz']).toBe(false);
    expect(state().loadErrors).toEqual(['bad.npz: not a zip archive']);
    expect(client.dynamicsJobs).toHaveLength(0);
    confirmBundle('b.npz');
    expect(state().previewOpen).toBe(false);
    expect(client.dynamicsJobs).toHaveLength(1);
    expect(client.dynamicsJobs[0].params).toMatchObject({ bundle: 'b.npz', run: null, reference: 'last', dropped: [] });
  });

  it('computes at once for a link or the demo, and says Demo', async () => {
    await load(undefined, 'demo');
    expect(client.dynamicsJobs).toHaveLength(1);
    expect(state().demo).toEqual({ bundle: 'b.npz', title: 'T', caption: 'C' });
  });

  it('hands loose arrays to the "Compare two arrays" view', async () => {
    const done = loadInput([{ path: 'x.npy', file: file('x.npy') }], 'x.npy');
    client.inputs[0].resolve({
      bundle: null,
      files: {
        arrays: [{ id: 'x.npy', name: 'x.npy', file: 'x.npy', shape: [10, 2], dtype: '<f4', detected: { layout: 'datapoints-first', reason: 'r' } }],
        added: ['x.npy'],
        errors: [],
      },
      errors: ['y.npy: truncated'],
    });
    await done;
    expect(state().tab).toBe('arrays');
    expect(state().arrays).toHaveLength(1);
    expect(state().loadErrors).toEqual(['y.npy: truncated']);
  });

  it('applies left-out layers from a link to the first bundle', async () => {
    setPendingDropped(['fc', 'nope']);
    await load(undefined, 'url');
    expect(state().dropped['b.npz']).toEqual(['fc']);
    expect(client.dynamicsJobs[0].params.dropped).toEqual(['fc']);
  });
});

describe('the learning-dynamics job', () => {
  it('fills cells as checkpoints finish, then takes the engine’s result', async () => {
    await load();
    confirmBundle('b.npz');
    const job = client.dynamicsJobs[0];
    const s = state().dynamics!;
    expect(s.status).toBe('running');
    expect(s.rows).toEqual(LAYERS);
    expect(s.steps).toEqual(STEPS);
    expect(s.reference).toBe(20);
    expect(s.values.flat(2).every((v) => v === null)).toBe(true);
    job.control!.onProgress!({ done: 9, total: 27, stage: 'step 0' });
    job.control!.onPartial!({ t: 0, values: LAYERS.map(() => LAYERS.map(() => 0.3)), kept: LAYERS.map(() => LAYERS.map(() => [4, 5] as [number, number])) });
    expect(state().dynamicsProgress).toMatchObject({ done: 9, total: 27 });
    expect(state().dynamics!.values[0][1][2]).toBe(0.3);
    expect(state().dynamics!.kept[0][1][2]).toEqual([4, 5]);
    expect(state().dynamics!.values[1][0][0]).toBeNull();
    job.resolve({ result: dynamicsResult(job.params, 0.7), kept: [], backend: 'CPU (float64): why' });
    await flush();
    expect(state().dynamics).toMatchObject({ status: 'done', backend: 'CPU (float64): why' });
    expect(state().dynamics!.values[2][2][2]).toBe(0.7);
    expect(state().dynamics!.result!.warnings).toEqual(['a warning']);
    expect(state().dynamicsProgress).toBeNull();
  });

  it('Cancel keeps what was computed', async () => {
    await load();
    confirmBundle('b.npz');
    const job = client.dynamicsJobs[0];
    job.control!.onPartial!({ t: 0, values: LAYERS.map(() => LAYERS.map(() => 0.3)), kept: [] });
    cancelJob('dynamics');
    await flush();
    expect(job.control!.signal!.aborted).toBe(true);
    expect(state().dynamics!.status).toBe('cancelled');
    expect(state().dynamics!.values[0][0][0]).toBe(0.3);
    // Nothing restarts it by itself; Recompute does.
    setStepIndex(1);
    expect(client.dynamicsJobs).toHaveLength(1);
    void runGrid('dynamics', true);
    expect(client.dynamicsJobs).toHaveLength(2);
  });

  it('a relevant setting recomputes (cancelling the old job); an irrelevant one does not', async () => {
    await computed();
    setOptions({ metric: 'cka' });
    expect(client.dynamicsJobs).toHaveLength(2);
    setOptions({ epsilon: 1e-3 }); // CKA has no ε
    setOptions({ keep: { kind: 'dims', k: 3 } }); // nor a keep rule
    setOptions({ convReduction: 'flatten' }); // and the bundle has no conv layers
    expect(client.dynamicsJobs).toHaveLength(2);
    setOptions({ metric: 'cca' });
    expect(client.dynamicsJobs).toHaveLength(3);
    expect(client.dynamicsJobs[1].control!.signal!.aborted).toBe(true);
    await flush();
    expect(state().dynamics!.status).toBe('running'); // the old job's abort is not shown as a cancel
    expect(client.dynamicsJobs[2].params.options).toMatchObject({ metric: 'cca', epsilon: 1e-3 });
  });

  it('switching a setting back shows the cached result without recomputing', async () => {
    await computed(0.5);
    setOptions({ metric: 'cca' });
    const second = client.dynamicsJobs[1];
    second.resolve({ result: dynamicsResult(second.params, 0.9), kept: [], backend: 'b' });
    await flush();
    expect(state().dynamics!.values[0][0][0]).toBe(0.9);
    setOptions({ metric: 'svcca' });
    expect(client.dynamicsJobs).toHaveLength(2);
    expect(state().dynamics).toMatchObject({ status: 'done', metric: 'svcca' });
    expect(state().dynamics!.values[0][0][0]).toBe(0.5);
  });

  it('view settings never recompute: checkpoint, colour domain, stepping', async () => {
    await computed();
    setStepIndex(2);
    expect(state().stepIndex).toBe(2);
    stepBy(1);
    expect(state().stepIndex).toBe(2);
    stepBy(1, true);
    expect(state().stepIndex).toBe(0);
    stepBy(-1);
    expect(state().stepIndex).toBe(0);
    setStepIndex(99);
    expect(state().stepIndex).toBe(2);
    appStore.setState({ domain: 'fit' });
    expect(client.dynamicsJobs).toHaveLength(1);
  });

  it('leaving a layer out recomputes without it; another reference step too', async () => {
    await computed();
    setLayerDropped('b.npz', 'conv2', true);
    expect(client.dynamicsJobs).toHaveLength(2);
    expect(client.dynamicsJobs[1].params.dropped).toEqual(['conv2']);
    expect(state().dynamics!.rows).toEqual(['conv1', 'fc']);
    setReference(10);
    expect(client.dynamicsJobs[2].params.reference).toBe(10);
    expect(state().dynamics!.reference).toBe(10);
  });

  it('a bundle the preview refuses is not computed: the job shows why', async () => {
    const info = bundleInfo('b.npz', LAYERS, STEPS);
    info.entries = info.entries.filter((e) => !(e.layer === 'fc' && e.step === 10));
    await load(info);
    confirmBundle('b.npz');
    expect(client.dynamicsJobs).toHaveLength(0);
    expect(state().dynamics).toMatchObject({ status: 'error' });
    expect(state().dynamics!.error).toContain('step 10, layer fc');
  });

  it('an engine error is shown as the job’s error', async () => {
    await load();
    confirmBundle('b.npz');
    client.dynamicsJobs[0].reject(new Error('b.npz:step_0/fc: data is truncated'));
    await flush();
    expect(state().dynamics).toMatchObject({ status: 'error', error: 'b.npz:step_0/fc: data is truncated' });
  });
});

describe('the drill-down', () => {
  it('asks for the pair of the clicked cell, with the grid’s options', async () => {
    await computed();
    openPair({ view: 'dynamics', t: 1, i: 0, j: 2 });
    expect(state().selected).toEqual({ view: 'dynamics', t: 1, i: 0, j: 2 });
    const req = client.pairJobs[0].params;
    expect(req).toMatchObject({
      a: { bundle: 'b.npz', run: null, step: 10, layer: 'conv1' },
      b: { bundle: 'b.npz', run: null, step: 20, layer: 'fc' },
      scope: 'dynamics',
      directions: 10,
      maxPoints: 2000,
    });
    expect(state().pair!.titles).toEqual(['conv1 at step 10', 'fc at step 20 (reference)']);
    client.pairJobs[0].resolve({ result: pairResult(0.8), labels: null, backend: 'cpu', names: ['x', 'y'] });
    await flush();
    expect(state().pair!.status).toBe('done');
    // The same pair again is not recomputed; a new one replaces (and cancels) it.
    openPair({ view: 'dynamics', t: 1, i: 0, j: 2 });
    expect(client.pairJobs).toHaveLength(1);
    openPair({ view: 'dynamics', t: 0, i: 0, j: 0 });
    openPair({ view: 'dynamics', t: 0, i: 1, j: 1 });
    expect(client.pairJobs[1].control!.signal!.aborted).toBe(true);
    closePair();
    expect(state().selected).toBeNull();
    expect(client.pairJobs[2].control!.signal!.aborted).toBe(true);
  });

  it('a pair selected by a link opens when its grid lands', async () => {
    appStore.setState({ selected: { view: 'dynamics', t: 2, i: 1, j: 1 } });
    await computed();
    expect(client.pairJobs).toHaveLength(1);
    expect(client.pairJobs[0].params.a).toMatchObject({ step: 20, layer: 'conv2' });
  });
});

describe('positions with conv and dense layers', () => {
  /** conv1 (100, 8, 8, 4) NHWC, conv2 (100, 4, 4, 8), fc (100, 8). */
  function cnn(): BundleInfo {
    const info = bundleInfo('b.npz', LAYERS, STEPS);
    for (const e of info.entries) if (e.layer !== 'fc') e.shape = e.layer === 'conv1' ? [100, 8, 8, 4] : [100, 4, 4, 8];
    return info;
  }
  it('the job knows its empty cells before any value arrives; a click on one says why and computes nothing', async () => {
    setOptions({ convReduction: 'positions', metric: 'cka' });
    await load(cnn());
    confirmBundle('b.npz');
    const job = state().dynamics!;
    expect(job.status).toBe('running');
    expect(job.blank!.map((row) => row.map((why) => why !== null))).toEqual([
      [false, true, true],
      [true, false, true],
      [true, true, false],
    ]);
    expect(job.blank![0][2]).toBe(
      'not comparable under positions: layer conv1 (N·H·W = 6\u202f400 datapoints) and layer fc (100 datapoints); positions compares layers at the same spatial size only; choose mean-pool or flatten to compare them',
    );
    const asked = client.pairJobs.length;
    openPair({ view: 'dynamics', t: 0, i: 0, j: 2 });
    expect(client.pairJobs).toHaveLength(asked);
    expect(state().pair).toMatchObject({ status: 'error', error: expect.stringMatching(/^Not comparable under positions: layer conv1/) });
    // A comparable cell computes as usual.
    openPair({ view: 'dynamics', t: 0, i: 2, j: 2 });
    expect(client.pairJobs).toHaveLength(asked + 1);
    // Under flatten nothing is blank.
    setOptions({ convReduction: 'flatten' });
    expect(state().dynamics!.blank).toBeNull();
  });
});

describe('more direction pairs in the drill-down', () => {
  it('asks for the top 10, then more on request, keeping the shown result meanwhile; another pair starts at 10 again', async () => {
    await computed();
    openPair({ view: 'dynamics', t: 1, i: 0, j: 2 });
    expect(client.pairJobs[0].params).toMatchObject({ directions: 10, maxPoints: 2000 });
    client.pairJobs[0].resolve({ result: pairResult(0.8), labels: null, backend: 'cpu', names: ['x', 'y'] });
    await flush();
    showDirections(25);
    expect(client.pairJobs[1].params).toMatchObject({ directions: 25, a: { layer: 'conv1' }, b: { layer: 'fc' } });
    expect(state().pair).toMatchObject({ status: 'running' });
    expect(state().pair!.result!.result.similarity).toBe(0.8);
    openPair({ view: 'dynamics', t: 1, i: 1, j: 2 });
    expect(client.pairJobs[2].params).toMatchObject({ directions: 10 });
    expect(state().pair!.result).toBeNull();
  });
});

describe('across runs', () => {
  it('defaults to two runs of a bundle, computes on its tab, last shared step', async () => {
    await load(bundleInfo('r.npz', LAYERS, STEPS, ['a', 'b']));
    expect(state().crossA).toEqual({ bundle: 'r.npz', run: 'a' });
    expect(state().crossB).toEqual({ bundle: 'r.npz', run: 'b' });
    confirmBundle('r.npz');
    expect(client.crossJobs).toHaveLength(0);
    setTab('cross');
    expect(client.crossJobs).toHaveLength(1);
    expect(client.crossJobs[0].params).toMatchObject({ a: { bundle: 'r.npz', run: 'a' }, b: { bundle: 'r.npz', run: 'b' }, step: 20 });
    expect(state().cross!.names).toEqual({ a: 'run a', b: 'run b' });
    setCrossSide('b', { bundle: 'r.npz', run: 'a' });
    expect(client.crossJobs).toHaveLength(2);
    expect(client.crossJobs[0].control!.signal!.aborted).toBe(true);
  });

  it('the chance level: on asks for the diagonal, "every cell" for all, an above-chance heatmap turns it on, off asks for none', async () => {
    await load(bundleInfo('r.npz', LAYERS, STEPS, ['a', 'b']));
    confirmBundle('r.npz');
    setTab('cross');
    expect(client.crossJobs[0].params.baseline).toBeNull();
    setChance(true);
    expect(client.crossJobs).toHaveLength(2);
    expect(client.crossJobs[1].params.baseline).toEqual({ permutations: 20, seed: 1, cells: 'diagonal', null: 'auto' });
    setChanceCells('all');
    expect(client.crossJobs[2].params.baseline).toEqual({ permutations: 20, seed: 1, cells: 'all', null: 'auto' });
    setChance(false);
    expect(client.crossJobs[3].params.baseline).toBeNull();
    setHeatMode('z');
    expect(state()).toMatchObject({ chance: true, heatMode: 'z' });
    expect(client.crossJobs[4].params.baseline).toMatchObject({ cells: 'all' });
    setChance(false);
    expect(state().heatMode).toBe('similarity');
    // The drill-down of a cross cell asks for its chance level whenever the grid has one.
    setChance(true);
    openPair({ view: 'cross', t: 0, i: 0, j: 1 });
    expect(client.pairJobs.at(-1)!.params.baseline).toMatchObject({ cells: 'all', permutations: 20 });
  });

  it('a second bundle becomes side B', async () => {
    await load(bundleInfo('one.npz', LAYERS, STEPS), 'url');
    await load(bundleInfo('two.npz', ['x', 'y'], [20]), 'url');
    expect(state().crossA).toEqual({ bundle: 'one.npz', run: null });
    expect(state().crossB).toEqual({ bundle: 'two.npz', run: null });
    setTab('cross');
    const req = client.crossJobs[0].params;
    expect(req.step).toBe(20);
    expect(state().cross!.rows).toEqual(LAYERS);
    expect(state().cross!.cols).toEqual(['x', 'y']);
    client.crossJobs[0].control!.onPartial!({
      t: 0,
      values: [
        [0.1, 0.2],
        [0.3, 0.4],
        [0.5, 0.6],
      ],
      kept: [],
    });
    expect(state().cross!.values[0][2][1]).toBe(0.6);
  });
});

describe('settings that cannot go together', () => {
  const convBundle = () => {
    const info = bundleInfo('cnn.npz', ['conv1', 'logits'], STEPS);
    info.entries = info.entries.map((e) => (e.layer === 'conv1' ? { ...e, shape: [100, 8, 4, 4] } : { ...e, shape: [100, 10] }));
    return info;
  };

  it('CKA with conv layers under the DFT switches them to flatten, computes, and says so with an undo', async () => {
    await load(convBundle());
    confirmBundle('cnn.npz');
    expect(client.dynamicsJobs.at(-1)!.params.options.convReduction).toBe('dft');
    setOptions({ metric: 'cka' });
    expect(state().options).toMatchObject({ metric: 'cka', convReduction: 'flatten' });
    const job = client.dynamicsJobs.at(-1)!;
    expect(job.params.options).toMatchObject({ metric: 'cka', convReduction: 'flatten' });
    expect(state().dynamics?.status).toBe('running'); // computing, not an error over an empty chart
    expect(noticeStore.getState().notice).toMatchObject({
      text: 'CKA does not run through the DFT (SVCCA and CCA only), so conv layers now use flatten.',
      undoLabel: 'Undo',
    });
    undoSwitch();
    expect(state().options).toMatchObject({ metric: 'svcca', convReduction: 'dft' });
    expect(noticeStore.getState().notice).toBeNull();
  });

  it('PWCCA gets mean-pool; back to SVCCA brings the DFT back; a link with metric=cka is fixed before any job', async () => {
    await load(convBundle());
    confirmBundle('cnn.npz');
    setOptions({ metric: 'pwcca' });
    expect(state().options.convReduction).toBe('meanpool');
    setOptions({ metric: 'svcca' });
    expect(state().options.convReduction).toBe('dft');
    // A link: options arrive before the data; the bundle brings the conv layers.
    resetAppState();
    appStore.setState({ options: { ...state().options, metric: 'cka' } });
    expect(state().options.convReduction).toBe('dft'); // nothing loaded yet: nothing to fix
    await load(convBundle(), 'url');
    expect(client.dynamicsJobs.at(-1)!.params.options).toMatchObject({ metric: 'cka', convReduction: 'flatten' });
    expect(noticeStore.getState().notice?.undoLabel).toBe('Use SVCCA with the DFT instead');
  });

  it('a link with metric=cka, then the user drops a CNN: computed at once under flatten, not held for a DFT refusal the switch lifts', async () => {
    appStore.setState({ options: { ...state().options, metric: 'cka' } });
    await load(convBundle(), 'user');
    expect(state().confirmed['cnn.npz']).toBe(true);
    expect(client.dynamicsJobs.at(-1)!.params.options).toMatchObject({ metric: 'cka', convReduction: 'flatten' });
    expect(noticeStore.getState().notice?.text).toContain('conv layers now use flatten');
  });

  it('leaves dense-only bundles alone', async () => {
    await load();
    confirmBundle('b.npz');
    setOptions({ metric: 'cka' });
    expect(state().options.convReduction).toBe('dft');
    expect(noticeStore.getState().notice).toBeNull();
  });
});

describe('the first checkpoint shown', () => {
  it('is an informative one, not initialisation: the middle checkpoint; a demo names its own; a link keeps its own', async () => {
    expect(informativeStepIndex([0, 5, 14, 37, 100, 270, 740, 2000])).toBe(4); // step 100
    expect(informativeStepIndex([0, 100])).toBe(1);
    expect(informativeStepIndex([7])).toBe(0);
    expect(informativeStepIndex([0, 5, 14], 14)).toBe(2);
    expect(informativeStepIndex([0, 5, 14], 99)).toBe(1); // a step the bundle lacks: the default
    await load(bundleInfo('b.npz', LAYERS, [0, 10, 20, 30, 40]));
    expect(state().stepIndex).toBe(2);
    const demo = loadInput([{ path: 'd.npz', file: file('d.npz') }], 'd.npz', 'demo', { title: 'T', caption: 'C', step: 10 });
    client.inputs.at(-1)!.resolve({ bundle: bundleInfo('d.npz', LAYERS, STEPS), files: null, errors: [] });
    await demo;
    expect(state().stepIndex).toBe(1);
    setStepFromLink(true);
    setStepIndex(0);
    await load(bundleInfo('c.npz', LAYERS, [0, 10, 20, 30, 40]));
    expect(state().stepIndex).toBe(0);
  });
});
