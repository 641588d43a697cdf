// The precision contract on Dawn in Node (SwiftShader here, the NVIDIA driver on the lent machine via
// scripts/device-bench.sh): every value a GPU job returns is within PRECISION_CONTRACT (1e-4) of the
// float64 path, by the GPU path or by the documented float64 fallback, on
//  - the real digits CNN of the demo (float16 activations of conv1/conv2 (8, 4, 4), conv3 (16, 2, 2),
//    fc1 (64), logits (10) on 400 probe digits): every metric × conv reduction × compare, dynamics
//    and cross over conv1, conv2 and fc1 (two checkpoints, two seeds; single pairs for conv1 and fc1;
//    scripts/parity-device.ts runs every layer and more checkpoints);
//  - the stress suite of ill-conditioned ordinary activations (scripts/parity.ts stressCases).
// Also: the fallback names the metric and the layer, and the demo's default job (SVCCA through the
// DFT) never falls back.
// SVCCA_PRODUCT_KERNEL=tiled|batched forces runProducts' kernel (default: the adapter's choice,
// product-batched on SwiftShader), so the suite also checks product-tiled here.
import { beforeAll, describe, expect, it } from 'vitest';
import { registerGpuBackend, resolveBackend, type ComputeBackend } from '../../src/analysis/backend';
import { webgpuBackendFactory, type GpuBackend } from '../../src/analysis/gpu';
import { PRECISION_CONTRACT } from '../../src/analysis/precision';
import { nodeGpu } from '../../src/gpu/node';
import { openBundlePath } from '../../src/io/node';
import { metricReductions, realDataParity, stressParity, subBundle, type ParityReport } from '../../scripts/parity';

let gpu: ComputeBackend;

beforeAll(async () => {
  registerGpuBackend(webgpuBackendFactory(nodeGpu));
  gpu = (await resolveBackend('webgpu')).backend;
  const forced = process.env.SVCCA_PRODUCT_KERNEL;
  if (forced === 'tiled' || forced === 'batched') (gpu as GpuBackend).runtime.productKernel = forced;
  else if (forced) throw new Error(`SVCCA_PRODUCT_KERNEL must be tiled or batched, got ${forced}`);
}, 60_000);

function expectContract(report: ParityReport): void {
  const outside = report.cases.filter((c) => !(c.delta <= PRECISION_CONTRACT));
  expect(outside.map((c) => `${c.label}: gpu ${c.gpu} float64 ${c.cpu}`)).toEqual([]);
}

describe('precision contract on the real digits CNN (Dawn)', () => {
  let report: ParityReport;

  beforeAll(async () => {
    const full = await openBundlePath('test/fixtures/real/digits-cnn.npz');
    const [run, otherRun] = full.runs;
    const last = full.steps[full.steps.length - 1];
    // Three layers keep SwiftShader's time in bounds and still cover two conv layers of one spatial
    // size (positions), conv against dense through the DFT, and a dense layer with dead units.
    const layers = ['conv1', 'conv2', 'fc1'];
    const sub = subBundle(full, [run, otherRun], [full.steps[0], last]);
    report = await realDataParity(
      gpu,
      {
        name: 'digits-cnn',
        bundle: { ...sub, layers, entries: sub.entries.filter((e) => layers.includes(e.layer)) },
        run,
        otherRun,
        pairs: ['conv1', 'fc1'].map((layer) => [
          [run, last, layer],
          [otherRun, last, layer],
        ]),
        jobs: ['compare', 'dynamics', 'cross'],
      },
      metricReductions(),
    );
  }, 1_200_000);

  it('covers every metric × conv reduction × job kind', () => {
    const kinds = new Set(report.cases.map((c) => `${c.job} ${c.metric} ${c.reduction}`));
    expect(kinds.size).toBe(17 * 3);
    expect(report.cases.length).toBeGreaterThan(800);
  });

  it('every similarity, ρ and kept count is within 1e-4 of float64', () => {
    expectContract(report);
  });

  it('the fallback is the exception, and each one names the metric and the layer', () => {
    const fellBack = report.cases.filter((c) => c.float64).length;
    expect(fellBack / report.cases.length).toBeLessThan(0.25);
    for (const { sentences } of report.fallbacks) {
      for (const s of sentences) expect(s).toMatch(/^(SVCCA|CCA|PWCCA) (on|between) .*(layer \w+|conv\d|fc1|logits).*: computed in float64, /);
    }
    // The demo's default job: SVCCA with conv layers through the DFT.
    expect(report.cases.filter((c) => c.metric === 'svcca' && c.reduction === 'dft' && c.float64)).toEqual([]);
  });
});

describe('precision contract on ill-conditioned activations (Dawn)', () => {
  it('offsets, scale spread, rank deficiency, duplicates, near-constant neurons, m ≈ n, float16, conv with offset', async () => {
    const report = await stressParity(gpu);
    expectContract(report);
    // Well-conditioned cases stay on the GPU; the documented fallback covers the rest.
    const label = (c: { label: string }) => c.label;
    const onGpu = new Set(report.cases.filter((c) => !c.float64).map(label));
    expect([...onGpu].some((l) => l.startsWith('stress cca ε=0 offset 1e4'))).toBe(true);
    expect([...onGpu].some((l) => l.startsWith('stress cca ε=1e-10 float16-rounded'))).toBe(true);
    expect([...onGpu].some((l) => l.startsWith('stress svcca neuron scales spanning'))).toBe(true);
    expect(report.fallbacks.some((f) => f.job.includes('duplicated neurons'))).toBe(true);
  }, 600_000);
});
