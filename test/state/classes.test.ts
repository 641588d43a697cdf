// The Classes view's state over the real worker core and engine in one thread: the class
// sensitivity job of the active bundle's run, the drill-down's k sweep, the no-labels reason, the
// threshold marks and what an export says about itself.
//
// Bundles here store layers datapoints first: (m, n).

import { zipSync } from 'fflate';
import { beforeEach, describe, expect, it } from 'vitest';
import { computeClassSensitivity } from '../../src/analysis/classes';
import { sweepK } from '../../src/analysis/dimensionality';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { openBundle } from '../../src/io/bundle';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';
import { classesExportInfo, classesStore, firstSteps, noLabelsReason, runClasses, runSweep, setClassTarget } from '../../src/state/classes';
import { appStore, loadInput, resetAppState, setAnalysisClient } from '../../src/state/store';
import { WorkerClient, type WorkerPort } from '../../src/worker/client';
import type { Request, Response } from '../../src/worker/protocol';
import { createWorkerCore } from '../../src/worker/workerCore';
import { realEngine } from '../../src/worker/engine';

function inProcessClient(): WorkerClient {
  const core = createWorkerCore(realEngine);
  const target = new EventTarget();
  const port = {
    postMessage(request: Request) {
      void core.receive(request, (response: Response) => queueMicrotask(() => target.dispatchEvent(new MessageEvent('message', { data: response }))));
    },
    addEventListener: target.addEventListener.bind(target),
    terminate() {},
  };
  return new WorkerClient(port);
}

const M = 120;
const CLASSES = 4;

/** An .npz bundle: steps 0 and 10 of layers hidden (M, 12) and logits (M, 4), with labels unless told. */
function bundleBytes(withLabels = true): Uint8Array {
  const members: Record<string, Uint8Array> = {};
  const labels = Float64Array.from({ length: M }, (_, i) => i % CLASSES);
  [0, 10].forEach((step, s) => {
    const hidden = randn(10 + s, M, 12).data;
    for (let i = 0; i < M; i++) hidden[i * 12 + labels[i]] += step / 5; // class signal grows with training
    const logits = Float64Array.from({ length: M * CLASSES }, (_, k) => hidden[Math.floor(k / CLASSES) * 12 + (k % CLASSES)] + 0.3 * Math.sin(k));
    members[`step_${step}/hidden.npy`] = encodeNpy([M, 12], hidden);
    members[`step_${step}/logits.npy`] = encodeNpy([M, CLASSES], logits);
  });
  if (withLabels) members['labels.npy'] = encodeNpy([M], labels);
  return zipSync(members, { level: 0 });
}

async function load(name: string, bytes: Uint8Array) {
  await loadInput([{ path: name, file: new File([bytes.slice()], name) }], name);
  const id = appStore.getState().bundles.find((b) => b.name === name)!.id;
  appStore.setState({ activeBundle: id });
}

beforeEach(() => {
  resetAppState();
  setAnalysisClient(inProcessClient());
});

describe('the class-sensitivity job through the worker', () => {
  it('computes the active run, equal to the engine on the same file; the target change reruns it', async () => {
    await load('toy.npz', bundleBytes());
    expect(noLabelsReason(appStore.getState())).toBeNull();
    await runClasses();
    const job = classesStore.getState().job!;
    expect(job.status).toBe('done');
    const bundle = await openBundle('toy.npz', [{ path: 'toy.npz', blob: new Blob([bundleBytes().slice()]) }]);
    const engine = await computeClassSensitivity({ bundle }, DEFAULT_OPTIONS);
    expect(job.result!.values).toEqual(engine.values);
    expect(job.result!.target).toBe('logits');
    expect(job.result!.inputHash).toMatch(/^[0-9a-f]{12}$/);
    expect(job.result!.inputArrays).toBe(4);
    // The same request again is not recomputed.
    await runClasses();
    expect(classesStore.getState().job).toBe(job);
    setClassTarget('indicator');
    await new Promise((r) => setTimeout(r, 0));
    await runClasses(); // joins: same key as the job setClassTarget started
    await expect.poll(() => classesStore.getState().job?.status).toBe('done');
    expect(classesStore.getState().job!.result!.target).toBe('indicator');
  });

  it('a bundle without labels: a reason naming it, and no job', async () => {
    await load('plain.npz', bundleBytes(false));
    expect(noLabelsReason(appStore.getState())).toMatch(/^plain\.npz has no labels/);
    await runClasses();
    expect(classesStore.getState().job).toBeNull();
  });

  it('the drill-down sweep equals sweepK on the same arrays', async () => {
    await load('toy.npz', bundleBytes());
    const id = appStore.getState().activeBundle!;
    const request = {
      a: { bundle: id, run: null, step: 10, layer: 'hidden' },
      b: { bundle: id, run: null, step: 10, layer: 'logits' },
      scope: 'dynamics' as const,
      dropped: { a: [], b: [] },
      options: DEFAULT_OPTIONS,
    };
    await runSweep(request);
    const sweep = classesStore.getState().sweep!;
    expect(sweep.status).toBe('done');
    const bundle = await openBundle('toy.npz', [{ path: 'toy.npz', blob: new Blob([bundleBytes().slice()]) }]);
    const matrix = async (layer: string) => {
      const a = await bundle.entries.find((e) => e.step === 10 && e.layer === layer)!.load();
      const [m, n] = a.shape;
      return { rows: n, cols: m, data: Float64Array.from({ length: m * n }, (_, k) => a.data[(k % m) * n + Math.floor(k / m)]) };
    };
    expect(sweep.result).toEqual(sweepK(await matrix('hidden'), await matrix('logits')));
    expect(sweep.result!.points.map((p) => p.k)).toEqual([1, 2, 3, 4]);
  });
});

describe('marks and export fields', () => {
  it('firstSteps: the first step at or above the threshold, null when never', () => {
    expect(
      firstSteps(
        [
          [
            [0.1, 0.5, 0.9],
            [0.95, 0.2, 0.3],
            [0, 0, 0],
          ],
        ],
        [0, 10, 20],
        0.9,
      ),
    ).toEqual([[20, 0, null]]);
  });

  it('an export names bundle, run, target, layer, threshold, keep, ε, hash and version', () => {
    const request = { bundle: 'b', run: 'seed0', dropped: ['fc'], target: 'auto' as const, options: DEFAULT_OPTIONS };
    const info = classesExportInfo(null, request, 'runs.npz', 'conv1', 0.7);
    const fields = Object.fromEntries(info.fields);
    expect(info.base).toBe('runs_seed0-classes');
    expect(fields).toMatchObject({
      bundle: 'runs.npz',
      run: 'seed0',
      'left out': 'fc',
      'layer shown': 'conv1',
      threshold: '0.7',
      keep: 'variance 0.99',
      epsilon: '1e-10',
    });
    expect(fields.app).toMatch(/^svcca-lens /);
  });
});
