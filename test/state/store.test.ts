// Orchestration of the store's actions against a scripted client (no worker, no maths).

import { beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/io/types';
import {
  addFiles,
  appStore,
  clearLoadErrors,
  compareSelected,
  dismissLoadError,
  flipLayout,
  removeArray,
  resetAppState,
  selectArray,
  setAnalysisClient,
  setOptions,
} from '../../src/state/store';
import { SupersededError } from '../../src/worker/protocol';
import { FakeClient, file, flush, info, pairResult } from './fakes';

let client: FakeClient;
const state = () => appStore.getState();

beforeEach(() => {
  resetAppState();
  client = new FakeClient();
  setAnalysisClient(client);
});

const X = info('x.npy', [400, 20]);
const Y = info('y.npy', [400, 30]);
const Z = info('z.npz:h', [400, 5]);

/** Load x.npy and y.npy and let the first comparison finish with `sim`. */
async function loadTwo(sim = 0.5) {
  const done = addFiles([file('x.npy'), file('y.npy')]);
  client.adds[0].resolve({ arrays: [X, Y], added: ['x.npy', 'y.npy'], errors: [] });
  await done;
  client.compares.at(-1)!.resolve(pairResult(sim));
  await flush();
}

describe('addFiles', () => {
  it('lists the arrays, selects the first two and compares them', async () => {
    const done = addFiles([file('x.npy'), file('y.npy')]);
    expect(state().loading).not.toBeNull();
    expect(client.adds[0].params.map((f) => f.name)).toEqual(['x.npy', 'y.npy']);
    client.adds[0].onProgress?.({ done: 1, total: 2, stage: 'reading y.npy' });
    expect(state().loading?.stage).toBe('reading y.npy');
    client.adds[0].resolve({ arrays: [X, Y], added: ['x.npy', 'y.npy'], errors: [] });
    await done;

    expect(state().loading).toBeNull();
    expect(state().arrays.map((a) => a.name)).toEqual(['x.npy', 'y.npy']);
    expect(state().selection).toEqual({ a: 'x.npy', b: 'y.npy' });
    expect(state().status).toBe('running');
    expect(client.compares).toHaveLength(1);
    expect(client.compares[0].params).toMatchObject({ a: 'x.npy', b: 'y.npy', layouts: [null, null] });
    expect(client.compares[0].params.options.metric).toBe('svcca');

    client.compares[0].resolve(pairResult(0.75));
    await flush();
    expect(state().status).toBe('done');
    expect(state().result?.similarity).toBe(0.75);
    expect(state().resultPair).toEqual({ a: 'x.npy', b: 'y.npy' });
  });

  it('with a single array selects it as A and waits for B', async () => {
    const done = addFiles([file('x.npy')]);
    client.adds[0].resolve({ arrays: [X], added: ['x.npy'], errors: [] });
    await done;
    expect(state().selection).toEqual({ a: 'x.npy', b: null });
    expect(state().status).toBe('idle');
    expect(client.compares).toHaveLength(0);
  });

  it('a bad file adds an error line and keeps what was loaded', async () => {
    await loadTwo(0.5);
    const done = addFiles([file('bad.npy')]);
    client.adds[1].resolve({ arrays: [X, Y], added: [], errors: ['bad.npy: truncated data'] });
    await done;
    expect(state().arrays.map((a) => a.name)).toEqual(['x.npy', 'y.npy']);
    expect(state().loadErrors).toEqual(['bad.npy: truncated data']);
    expect(state().result?.similarity).toBe(0.5);
    expect(client.compares).toHaveLength(1); // nothing new to compare
  });

  it('keeps the current selection when more arrays arrive, and errors accumulate in order', async () => {
    await loadTwo();
    selectArray('b', 'x.npy');
    const done = addFiles([file('z.npz'), file('w.txt')]);
    client.adds[1].resolve({ arrays: [X, Y, Z], added: ['z.npz:h'], errors: ['w.txt: not a .npy, .npz or .safetensors file'] });
    await done;
    expect(state().selection).toEqual({ a: 'x.npy', b: 'x.npy' });
    expect(state().loadErrors).toHaveLength(1);
    const again = addFiles([file('q.npy')]);
    client.adds[2].resolve({ arrays: [X, Y, Z], added: [], errors: ['q.npy: not a numpy file'] });
    await again;
    expect(state().loadErrors).toEqual(['w.txt: not a .npy, .npz or .safetensors file', 'q.npy: not a numpy file']);
    dismissLoadError(0);
    expect(state().loadErrors).toEqual(['q.npy: not a numpy file']);
    clearLoadErrors();
    expect(state().loadErrors).toEqual([]);
  });

  it('reports a dead worker as a load error', async () => {
    const done = addFiles([file('x.npy')]);
    client.adds[0].reject(new Error('the analysis worker failed: boom'));
    await done;
    expect(state().loadErrors).toEqual(['the analysis worker failed: boom']);
    expect(state().loading).toBeNull();
  });

  it('without a client says so instead of throwing', async () => {
    setAnalysisClient(null);
    await addFiles([file('x.npy')]);
    expect(state().loadErrors).toEqual(['the analysis worker is not running']);
  });

  it('does nothing for an empty drop', async () => {
    await addFiles([]);
    expect(client.adds).toHaveLength(0);
    expect(state().loading).toBeNull();
  });
});

describe('comparisons', () => {
  it('only the newest request’s answer is shown, whatever order answers arrive in', async () => {
    await loadTwo(0.5);
    setOptions({ metric: 'cca' });
    setOptions({ epsilon: 1e-6 });
    expect(client.compares).toHaveLength(3);
    expect(client.compares[2].params.options).toMatchObject({ metric: 'cca', epsilon: 1e-6 });
    client.compares[2].resolve(pairResult(0.9));
    await flush();
    client.compares[1].resolve(pairResult(0.1));
    await flush();
    expect(state().result?.similarity).toBe(0.9);
    expect(state().status).toBe('done');
  });

  it('ignores superseded and stale failures, keeps the old result while running', async () => {
    await loadTwo(0.5);
    setOptions({ metric: 'pwcca' });
    setOptions({ metric: 'cca' });
    client.compares[1].reject(new SupersededError());
    await flush();
    expect(state().status).toBe('running');
    expect(state().result?.similarity).toBe(0.5); // shown dimmed until the new one lands
    expect(state().error).toBeNull();
    client.compares[2].resolve(pairResult(0.6));
    await flush();
    expect(state().result?.similarity).toBe(0.6);
  });

  it('shows an engine refusal as the error and clears the result', async () => {
    await loadTwo(0.5);
    selectArray('b', 'z.npz:h');
    client.compares[1].reject(new InputError('z.npz:h', 'has 300 datapoints but x.npy has 400'));
    await flush();
    expect(state().status).toBe('error');
    expect(state().error).toBe('z.npz:h: has 300 datapoints but x.npy has 400');
    expect(state().result).toBeNull();
    // The next good answer clears the error.
    selectArray('b', 'y.npy');
    client.compares[2].resolve(pairResult(0.4));
    await flush();
    expect(state().error).toBeNull();
    expect(state().status).toBe('done');
  });

  it('comparing an array with itself sends the same id twice', async () => {
    await loadTwo();
    selectArray('b', 'x.npy');
    expect(client.compares.at(-1)!.params).toMatchObject({ a: 'x.npy', b: 'x.npy' });
  });

  it('deselecting a side goes idle without asking the worker', async () => {
    await loadTwo();
    selectArray('a', null);
    expect(client.compares).toHaveLength(1);
    expect(state()).toMatchObject({ status: 'idle', result: null, error: null });
    await compareSelected();
    expect(client.compares).toHaveLength(1);
  });

  it('sends option changes with every request', async () => {
    await loadTwo();
    setOptions({ keep: { kind: 'dims', k: 20 }, convReduction: 'meanpool' });
    expect(client.compares.at(-1)!.params.options).toMatchObject({
      keep: { kind: 'dims', k: 20 },
      convReduction: 'meanpool',
      epsilon: 1e-10,
    });
  });
});

describe('layout flips', () => {
  it('a flip is sent with the next compare; flipping back clears it', async () => {
    await loadTwo();
    flipLayout('y.npy');
    expect(state().layoutOverrides).toEqual({ 'y.npy': 'neurons-first' });
    expect(client.compares.at(-1)!.params.layouts).toEqual([null, 'neurons-first']);
    flipLayout('y.npy');
    expect(state().layoutOverrides).toEqual({});
    expect(client.compares.at(-1)!.params.layouts).toEqual([null, null]);
  });

  it('flipping an unselected array does not recompute', async () => {
    await loadTwo();
    const done = addFiles([file('z.npz')]);
    client.adds[1].resolve({ arrays: [X, Y, Z], added: ['z.npz:h'], errors: [] });
    await done;
    const before = client.compares.length;
    flipLayout('z.npz:h');
    expect(client.compares.length).toBe(before);
    expect(state().layoutOverrides['z.npz:h']).toBe('neurons-first');
  });

  it('re-dropping a file forgets the flips of the arrays it replaced', async () => {
    await loadTwo();
    flipLayout('x.npy');
    flipLayout('y.npy');
    const done = addFiles([file('y.npy')]);
    client.adds[1].resolve({ arrays: [X, Y], added: ['y.npy'], errors: [] });
    await done;
    expect(state().layoutOverrides).toEqual({ 'x.npy': 'neurons-first' });
  });
});

describe('removeArray', () => {
  it('falls back to the remaining arrays and drops the removed one’s flip', async () => {
    await loadTwo();
    flipLayout('x.npy');
    const done = removeArray('x.npy');
    expect(client.removes[0].params).toEqual(['x.npy']);
    client.removes[0].resolve({ arrays: [Y] });
    await done;
    expect(state().arrays.map((a) => a.id)).toEqual(['y.npy']);
    expect(state().selection).toEqual({ a: null, b: 'y.npy' });
    expect(state().layoutOverrides).toEqual({});
    expect(state().status).toBe('idle');
  });
});
