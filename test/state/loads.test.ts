// Loads as the store runs them: generations (the newest intent wins; a user's load supersedes the
// demo or a link in flight, which never becomes active), the loading line each load owns, unique
// names, what a bundle computes on arrival, and the views following the active bundle.

import { beforeEach, describe, expect, it } from 'vitest';
import {
  appStore,
  beginLoad,
  confirmBundle,
  loadInput,
  notComputedReason,
  resetAppState,
  setActiveBundle,
  setAnalysisClient,
  setTab,
  uniqueBundleName,
} from '../../src/state/store';
import type { BundleInfo } from '../../src/worker/protocol';
import { FakeClient, bundleInfo, file, flush } from './fakes';

let client: FakeClient;
const state = () => appStore.getState();

beforeEach(() => {
  resetAppState();
  client = new FakeClient();
  setAnalysisClient(client);
});

const demoInfo = (id = 'digits.npz') => bundleInfo(id, ['h1', 'h2'], [0, 10], ['demo-a', 'demo-b']);

/** Starts a load of `info` by `origin`; returns its call (to answer) and its promise. */
function start(info: BundleInfo, origin: 'user' | 'url' | 'demo' = 'user') {
  const done = loadInput([{ path: info.name, file: file(info.name) }], info.name, origin, origin === 'demo' ? { title: 'D', caption: 'C' } : undefined);
  return { call: client.inputs.at(-1)!, done };
}

describe('generations: the newest intent wins', () => {
  it('a user’s load cancels the demo in flight; the demo never becomes the active bundle', async () => {
    const demo = start(demoInfo(), 'demo');
    expect(demo.call.load).toMatchObject({ origin: 'demo', generation: 1 });
    const mine = start(bundleInfo('mine.npz', ['a', 'b'], [0, 1]));
    expect(mine.call.load).toMatchObject({ origin: 'user', generation: 2 });
    // The demo's request was cancelled down to the worker.
    expect(demo.call.load.signal!.aborted).toBe(true);
    await demo.done;
    mine.call.resolve({ bundle: bundleInfo('mine.npz', ['a', 'b'], [0, 1]), files: null, errors: [] });
    await mine.done;
    expect(state().activeBundle).toBe('mine.npz');
    expect(state().bundles.map((b) => b.id)).toEqual(['mine.npz']);
    expect(state().demo).toBeNull();
    expect(state().loading).toBeNull();
  });

  it('a link or demo that the worker finishes anyway after the user’s load is dropped, in the worker too', async () => {
    const link = beginLoad('url', 'remote.npz', 'fetching remote.npz');
    const mine = start(bundleInfo('mine.npz', ['a'], [0, 1]));
    expect(link.superseded()).toBe(true);
    const linked = loadInput([{ path: 'remote.npz', file: file('remote.npz') }], 'remote.npz', 'url', undefined, link);
    client.inputs.at(-1)!.resolve({ bundle: bundleInfo('remote.npz', ['a'], [0]), files: null, errors: [] });
    await linked;
    expect(state().bundles.map((b) => b.id)).toEqual([]);
    expect(client.bundleRemovals).toEqual(['remote.npz']);
    mine.call.resolve({ bundle: bundleInfo('mine.npz', ['a'], [0, 1]), files: null, errors: [] });
    await mine.done;
    expect(state().activeBundle).toBe('mine.npz');
  });

  it('an older user load finishing after a newer one is kept but not shown', async () => {
    const first = start(bundleInfo('first.npz', ['a'], [0, 1]));
    const second = start(bundleInfo('second.npz', ['a'], [0, 1]));
    second.call.resolve({ bundle: bundleInfo('second.npz', ['a'], [0, 1]), files: null, errors: [] });
    await second.done;
    expect(state().activeBundle).toBe('second.npz');
    first.call.resolve({ bundle: bundleInfo('first.npz', ['a'], [0, 1]), files: null, errors: [] });
    await first.done;
    expect(state().bundles.map((b) => b.id)).toEqual(['second.npz', 'first.npz']);
    expect(state().activeBundle).toBe('second.npz');
  });

  it('no load clears the loading line of another', async () => {
    const demoTicket = beginLoad('demo', 'digits.npz', 'fetching the demo');
    expect(state().loading?.stage).toBe('fetching the demo');
    const mine = start(bundleInfo('mine.npz', ['a'], [0]));
    mine.call.onProgress?.({ done: 0, total: 1, stage: 'reading mine.npz' });
    expect(state().loading?.stage).toBe('reading mine.npz');
    // The demo's fetch ends (cancelled): the user's line stays.
    demoTicket.finish();
    expect(demoTicket.superseded()).toBe(true);
    expect(state().loading?.stage).toBe('reading mine.npz');
    mine.call.resolve({ bundle: bundleInfo('mine.npz', ['a'], [0]), files: null, errors: [] });
    await mine.done;
    expect(state().loading).toBeNull();
  });
});

describe('names', () => {
  it('every load gets a unique name among the loaded and the in flight', async () => {
    const one = start(bundleInfo('2 files', ['a'], [0]));
    expect(one.call.params.name).toBe('2 files');
    const two = start(bundleInfo('2 files', ['a'], [0]));
    expect(two.call.params.name).toBe('2 files (2)');
    one.call.resolve({ bundle: bundleInfo('2 files', ['a'], [0]), files: null, errors: [] });
    two.call.resolve({ bundle: bundleInfo('2 files (2)', ['a'], [0]), files: null, errors: [] });
    await Promise.all([one.done, two.done]);
    expect(state().bundles.map((b) => b.id)).toEqual(['2 files', '2 files (2)']);
    expect(uniqueBundleName('2 files')).toBe('2 files (3)');
  });
});

describe('what a bundle computes on arrival, and what the views show', () => {
  it('a preview with no question computes at once; a guessed layout waits and says which layer', async () => {
    const clear = start(bundleInfo('clear.npz', ['a', 'b'], [0, 1]));
    clear.call.resolve({ bundle: bundleInfo('clear.npz', ['a', 'b'], [0, 1]), files: null, errors: [] });
    await clear.done;
    expect(state().confirmed['clear.npz']).toBe(true);
    expect(client.dynamicsJobs.at(-1)!.params.bundle).toBe('clear.npz');
    expect(state().dynamics?.request).toMatchObject({ bundle: 'clear.npz' });

    // 100 datapoints, a 100-neuron layer: the shape cannot say which axis is which.
    const square = bundleInfo('square.npz', ['sq'], [0, 1], [null], [100, 100]);
    const guess = start(square);
    guess.call.resolve({ bundle: square, files: null, errors: [] });
    await guess.done;
    expect(state().activeBundle).toBe('square.npz');
    expect(state().confirmed['square.npz']).toBe(false);
    // The previous bundle's job is gone (and cancelled): no chart under the new name.
    expect(state().dynamics).toBeNull();
    expect(client.dynamicsJobs.at(-1)!.control?.signal?.aborted).toBe(true);
    expect(notComputedReason(state(), 'dynamics')).toMatch(/^Not computed yet: square\.npz waits: the layout of a layer is a guess \(layer sq: \(100, 100\)/);
    confirmBundle('square.npz');
    expect(client.dynamicsJobs.at(-1)!.params.bundle).toBe('square.npz');
    expect(notComputedReason(state(), 'dynamics')).toBeNull();
  });

  it('the across-runs view follows the active bundle: its first two runs, not the demo’s', async () => {
    const demo = start(demoInfo(), 'demo');
    demo.call.resolve({ bundle: demoInfo(), files: null, errors: [] });
    await demo.done;
    expect(state().crossA).toEqual({ bundle: 'digits.npz', run: 'demo-a' });
    setTab('cross');
    await flush();
    expect(state().cross?.request).toMatchObject({ a: { bundle: 'digits.npz' } });

    const study = bundleInfo('runA.npz + runB.npz', ['a'], [0, 1], ['runA', 'runB']);
    const mine = start(study);
    mine.call.resolve({ bundle: study, files: null, errors: [] });
    await mine.done;
    expect(state().crossA).toEqual({ bundle: 'runA.npz + runB.npz', run: 'runA' });
    expect(state().crossB).toEqual({ bundle: 'runA.npz + runB.npz', run: 'runB' });
    expect(state().cross?.request).toMatchObject({ a: { bundle: 'runA.npz + runB.npz', run: 'runA' }, b: { bundle: 'runA.npz + runB.npz', run: 'runB' } });
    expect(state().runIndex).toBe(0);
  });

  it('picking another bundle shows its first run, and no job of the other', async () => {
    const a = bundleInfo('a.npz', ['x'], [0, 1], ['r1', 'r2']);
    const b = bundleInfo('b.npz', ['x'], [0, 1], ['s1', 's2']);
    for (const info of [a, b]) {
      const l = start(info);
      l.call.resolve({ bundle: info, files: null, errors: [] });
      await l.done;
    }
    appStore.setState({ runIndex: 1 });
    setActiveBundle('a.npz');
    expect(state().runIndex).toBe(0);
    expect(state().dynamics?.request).toMatchObject({ bundle: 'a.npz', run: 'r1' });
    expect(state().crossA).toEqual({ bundle: 'a.npz', run: 'r1' });
  });
});
