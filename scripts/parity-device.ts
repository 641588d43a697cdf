// The precision parity suite as one command, for the lent GPU machine (no vitest there; bundled by
// scripts/bundle-device-bench.mjs) and for a look here:
//   node bin/run-ts.mjs scripts/parity-device.ts [--bundle test/fixtures/real/digits-cnn.npz] [--out parity.json]
//       [--quick: first and last checkpoints only] [--layers conv1,fc1]
// Runs every metric × conv reduction × compare/dynamics/cross on the real digits bundle and the
// stress suite, on WebGPU (Dawn in Node) and on the float64 path; writes every case (GPU value,
// float64 value, |Δ|, whether it fell back to float64) as JSON and prints a one-line verdict.
// Exit status 0 when every value keeps the contract, 1 otherwise.
import { writeFileSync } from 'node:fs';
import { registerGpuBackend, resolveBackend } from '../src/analysis/backend';
import { webgpuBackendFactory } from '../src/analysis/gpu';
import { nodeGpu, nodeGpuFailure } from '../src/gpu/node';
import { openBundlePath } from '../src/io/node';
import { metricReductions, realDataParity, stressParity, subBundle, type ParityReport } from './parity';

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<number> {
  const bundlePath = argument('--bundle', 'test/fixtures/real/digits-cnn.npz');
  const out = argument('--out', 'parity.json');
  const quick = process.argv.includes('--quick');
  const layers = argument('--layers', '').split(',').filter(Boolean);
  registerGpuBackend(webgpuBackendFactory(nodeGpu));
  let choice;
  try {
    choice = await resolveBackend('webgpu');
  } catch (error) {
    console.log(`PARITY: no WebGPU device: ${(error as Error).message}${nodeGpuFailure() ? ` (${nodeGpuFailure()})` : ''}`);
    return 2;
  }
  console.log(`parity on ${choice.reason}`);
  const full = await openBundlePath(bundlePath);
  const [run, otherRun] = full.runs;
  const steps = quick ? [full.steps[0], full.steps[full.steps.length - 1]] : full.steps.filter((_, i) => i % 2 === 1 || i === full.steps.length - 1);
  const sub = subBundle(full, [run, otherRun], steps);
  const bundle =
    layers.length > 0 ? { ...sub, layers: sub.layers.filter((l) => layers.includes(l)), entries: sub.entries.filter((e) => layers.includes(e.layer)) } : sub;
  const last = steps[steps.length - 1];
  const started = Date.now();
  // The report is rewritten after every job, so that a stage cut short by its timeout keeps what finished.
  const partial: Record<string, ParityReport> = {};
  const save = () =>
    writeFileSync(
      out,
      JSON.stringify({ adapter: choice.reason, bundle: bundlePath, steps, seconds: (Date.now() - started) / 1000, complete: false, reports: partial }, null, 1),
    );
  const logAs = (name: string) => (line: string, sofar: ParityReport) => {
    console.log(`  ${line}`);
    partial[name] = sofar;
    save();
  };
  // The stress suite first: it is quick, and a timeout then cuts the longer real-data grid instead.
  const stress = await stressParity(choice.backend, logAs('stress'));
  const real = await realDataParity(
    choice.backend,
    {
      name: bundlePath.split('/').pop()!,
      bundle,
      run,
      otherRun,
      pairs: bundle.layers.map((layer) => [
        [run, last, layer],
        [otherRun, last, layer],
      ]),
      jobs: ['compare', 'dynamics', 'cross'],
    },
    metricReductions(),
    logAs('real'),
  );
  const reports: Record<string, ParityReport> = { real, stress };
  const all = [...real.cases, ...stress.cases];
  const broken = all.filter((c) => !(c.delta <= real.contract));
  const fellBack = all.filter((c) => c.float64).length;
  writeFileSync(
    out,
    JSON.stringify({ adapter: choice.reason, bundle: bundlePath, steps, seconds: (Date.now() - started) / 1000, complete: true, reports }, null, 1),
  );
  const worst = (cases: typeof all) => cases.reduce((w, c) => Math.max(w, c.delta), 0).toExponential(2);
  const verdict = broken.length === 0 ? 'PASS' : 'FAIL';
  console.log(
    `PARITY ${verdict}: ${all.length} values (real ${real.cases.length}, stress ${stress.cases.length}), worst |Δ| real ${worst(real.cases)} stress ${worst(stress.cases)}, ` +
      `contract ${real.contract}; ${fellBack} values computed in float64 (real ${real.cases.filter((c) => c.float64).length}); ${broken.length} outside the contract; ${out}`,
  );
  for (const c of broken.slice(0, 20)) console.log(`  outside: ${c.label}: gpu ${c.gpu} float64 ${c.cpu} |Δ| ${c.delta.toExponential(2)}`);
  return broken.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(3);
  },
);
