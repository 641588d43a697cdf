// A many-seeds job where one run's (pair's) job fails at compute time (a lost device, a run whose
// every array is bad): the other runs' results stand and are aggregated, the failed one is named
// with why, in the view's state, the export header and the JSON. Only when every unit fails does
// the job fail. Against a scripted client.
import { beforeEach, describe, expect, it } from 'vitest';
import { appInfo, computedBy, optionsUsed, type DynamicsExport } from '../../src/analysis/provenance';
import { appStore, confirmBundle, loadInput, resetAppState, setAnalysisClient } from '../../src/state/store';
import { runSeeds, seedsDynamicsOf, seedsExportInfo, seedsJson } from '../../src/state/seeds';
import type { DynamicsJobRequest } from '../../src/worker/protocol';
import { FakeClient, bundleInfo, file, flush, pairResult } from './fakes';
import { expectClose, TOL } from '../helpers/tolerance';

let client: FakeClient;
const state = () => appStore.getState();
const LAYERS = ['fc1', 'fc2'];
const STEPS = [0, 10, 20];

beforeEach(() => {
  resetAppState();
  client = new FakeClient();
  setAnalysisClient(client);
});

function dynamicsResult(req: DynamicsJobRequest, value: number): DynamicsExport {
  const conventions = pairResult(value).conventions;
  return {
    metric: req.options.metric,
    steps: STEPS,
    layers: LAYERS,
    reference: 20,
    values: STEPS.map(() => LAYERS.map(() => LAYERS.map(() => value))),
    k99: STEPS.map(() => LAYERS.map(() => 1)),
    conventions,
    warnings: [],
    bundle: req.bundle,
    run: req.run,
    options: optionsUsed(req.options, false),
    leftOut: [],
    inputHash: '0123456789ab',
    inputArrays: STEPS.length * LAYERS.length,
    computed: computedBy(conventions, 'CPU (float64): test'),
    app: appInfo(),
  };
}

async function loadRuns() {
  const info = bundleInfo('seeds.npz', LAYERS, STEPS, ['r0', 'r1', 'r2']);
  const done = loadInput([{ path: info.name, file: file(info.name) }], info.name, 'user');
  client.inputs.at(-1)!.resolve({ bundle: info, files: null, errors: [] });
  await done;
  confirmBundle('seeds.npz');
  await flush();
}

/** Answers the seeds job's run jobs in turn: a value per run, or an Error for a run that fails. */
async function answer(before: number, outcomes: (number | Error)[]) {
  for (const [k, outcome] of outcomes.entries()) {
    await flush();
    const job = client.dynamicsJobs[before + k];
    expect(job.params.run).toBe(`r${k}`);
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve({ result: dynamicsResult(job.params, outcome), kept: [], backend: 'CPU (float64): test' });
  }
  await flush();
}

describe('a many-seeds job with a run that fails at compute time', () => {
  it("the other runs' results show and are aggregated; the failed run is named with why", async () => {
    await loadRuns();
    const before = client.dynamicsJobs.length;
    const done = runSeeds('dynamics', true);
    await answer(before, [0.4, new Error('the GPU device was lost (reason: unknown); recompute to try again'), 0.8]);
    await done;
    const job = state().seedsDynamics!;
    expect(job.status).toBe('done');
    expect(job.results.map((r) => r.run)).toEqual(['r0', 'r2']);
    expect(job.failed).toEqual([{ unit: 'run r1', error: 'the GPU device was lost (reason: unknown); recompute to try again' }]);
    const agg = seedsDynamicsOf(job, 0.9)!;
    expect(agg.runs).toEqual(['r0', 'r2']);
    expectClose(agg.cells[0][0][0].mean, 0.6, TOL.f64Identity, 'mean over the two remaining runs');
    const { fields } = seedsExportInfo('dynamics', job, state().bundles);
    expect(Object.fromEntries(fields).failed).toMatch(/^run r1 failed: the GPU device was lost.*left out of the mean over runs/);
    expect(seedsJson('dynamics', job, agg, fields).failed).toEqual(job.failed);
  });

  it('every run failing fails the job, naming each run and why', async () => {
    await loadRuns();
    const before = client.dynamicsJobs.length;
    const done = runSeeds('dynamics', true);
    await answer(before, [new Error('out of memory'), new Error('out of memory'), new Error('device lost')]);
    await done;
    const job = state().seedsDynamics!;
    expect(job.status).toBe('error');
    expect(job.error).toBe('run r0 failed: out of memory; run r1 failed: out of memory; run r2 failed: device lost (left out of the mean over runs)');
  });

  it('a cancel still cancels the whole job (not a failed run)', async () => {
    await loadRuns();
    const done = runSeeds('dynamics', true);
    await flush();
    client.dynamicsJobs.at(-1)!.resolve({ result: dynamicsResult(client.dynamicsJobs.at(-1)!.params, 0.5), kept: [], backend: 'x' });
    await flush();
    client.dynamicsJobs.at(-1)!.control!.signal!.dispatchEvent(new Event('abort'));
    const { cancelSeeds } = await import('../../src/state/seeds');
    cancelSeeds('dynamics');
    await done;
    expect(state().seedsDynamics!.status).toBe('cancelled');
    expect(state().seedsDynamics!.failed).toBeUndefined();
  });
});
