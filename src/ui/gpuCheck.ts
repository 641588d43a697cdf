// gpu-check.html: runs the self-check (src/analysis/selfCheck.ts) on this browser's WebGPU adapter.
// Also the entry point of the end-to-end GPU parity and device-loss tests, through window.svccaGpuCheck.

import { cpuBackend, registerGpuBackend, resolveBackend } from '../analysis/backend';
import { computeDynamics } from '../analysis/engine';
import { webgpuBackendFactory, GpuBackend } from '../analysis/gpuBackend';
import { runGridCheck, runSelfCheck, selfCheckBundle, SELF_CHECK_TOLERANCE, type CheckRow } from '../analysis/selfCheck';
import { DEFAULT_OPTIONS } from '../analysis/types';
import { comparePair } from '../analysis/engine';
import { asArray, selfCheckCases } from '../analysis/selfCheck';
import { GpuRuntime } from '../gpu/runtime';

/** The semantics doc's reference pair on `backend`, for its warnings. */
async function runLimitedPair(backend: GpuBackend) {
  const c = selfCheckCases().find((x) => x.name.startsWith('semantics-doc'))!;
  return comparePair({ name: 'x', array: asArray(c.a) }, { name: 'y', array: asArray(c.b) }, DEFAULT_OPTIONS, backend);
}

let lostMessages: string[] = [];
registerGpuBackend(webgpuBackendFactory(async () => navigator.gpu, (message) => lostMessages.push(message)));

async function gpuBackend() {
  const choice = await resolveBackend('webgpu');
  return { backend: choice.backend, reason: choice.reason };
}

/** Destroys the device after the first checkpoint's values arrive; the job must fail with the loss,
 *  keep those values, and a fresh adapter must then finish the same job. */
async function deviceLossCheck() {
  lostMessages = [];
  const { backend } = await gpuBackend();
  const partial: number[][][] = [];
  let error = '';
  try {
    await computeDynamics({ bundle: selfCheckBundle() }, DEFAULT_OPTIONS, {
      onValues: (t, values) => {
        partial[t] = values;
        if (t === 0) (backend as GpuBackend).runtime.device.destroy(); // not runtime.destroy(): an unexpected loss
      },
    }, backend);
  } catch (e) {
    error = `${(e as Error).name}: ${(e as Error).message}`;
  }
  await new Promise((r) => setTimeout(r, 50));
  const fresh = await gpuBackend();
  const again = await computeDynamics({ bundle: selfCheckBundle() }, DEFAULT_OPTIONS, {}, fresh.backend);
  const cpu = await computeDynamics({ bundle: selfCheckBundle() }, DEFAULT_OPTIONS, {}, cpuBackend);
  let maxDelta = 0;
  cpu.values.forEach((g, t) => g.forEach((row, i) => row.forEach((v, j) => (maxDelta = Math.max(maxDelta, Math.abs(v - again.values[t][i][j]))))));
  return { error, keptCheckpoints: partial.filter(Boolean).length, lost: lostMessages, freshBackend: fresh.backend !== backend, recomputedMaxDelta: maxDelta };
}

async function all() {
  const { backend, reason } = await gpuBackend();
  const rows = await runSelfCheck(backend, (row) => render(row));
  const grid = await runGridCheck(backend, 'svcca');
  const gridCka = await runGridCheck(backend, 'cka');
  // Datapoints streamed in column chunks (as past the binding limit), forced with a 64 KiB cap.
  const chunked = new GpuBackend((backend as GpuBackend).runtime, 64 * 1024);
  const chunkedRows = (await runSelfCheck(chunked)).filter((row) => row.metric === 'svcca' || row.metric === 'cca');
  const chunkedGrid = await runGridCheck(chunked, 'svcca');
  // Work beyond the device's limits (forced: a 64 KiB binding limit on the same device) falls back
  // to the float64 path and says so.
  const small = new GpuBackend(new GpuRuntime((backend as GpuBackend).runtime.device, undefined, 64 * 1024));
  const limited = (await runSelfCheck(small)).filter((row) => row.name.startsWith('semantics-doc'));
  const limitedWarnings = (await runLimitedPair(small)).warnings;
  return {
    reason,
    rows,
    gridMaxDelta: grid.maxDelta,
    gridCkaMaxDelta: gridCka.maxDelta,
    chunkedRows,
    chunkedGridMaxDelta: chunkedGrid.maxDelta,
    limitedRows: limited,
    limitedWarnings,
  };
}

const report = document.getElementById('report')!;
const status = document.getElementById('status')!;
function render(row: CheckRow) {
  report.textContent += `${row.ok ? 'ok  ' : 'FAIL'} ${row.metric.padEnd(13)} ${row.name}: cpu ${row.cpu.similarity.toFixed(6)} gpu ${row.gpu.similarity.toFixed(6)} |Δ| ${row.deltaSimilarity.toExponential(1)} max|Δρ| ${row.maxDeltaRho.toExponential(1)}${row.keptEqual ? '' : ' kept differs'}\n`;
}

document.getElementById('run')!.addEventListener('click', async () => {
  report.textContent = '';
  status.textContent = 'Running…';
  try {
    const result = await all();
    const failed = result.rows.filter((r) => !r.ok).length;
    status.textContent = `${result.reason}. ${result.rows.length - failed} of ${result.rows.length} cases within |Δ similarity| ≤ ${SELF_CHECK_TOLERANCE.similarity}, |Δρ| ≤ ${SELF_CHECK_TOLERANCE.rho}; learning-dynamics grid max |Δ| ${result.gridMaxDelta.toExponential(1)}.`;
  } catch (error) {
    status.textContent = `The self-check could not run: ${(error as Error).message}`;
  }
});

declare global {
  interface Window {
    svccaGpuCheck: { all: typeof all; deviceLossCheck: typeof deviceLossCheck; noGpu: () => Promise<string> };
  }
}
window.svccaGpuCheck = {
  all,
  deviceLossCheck,
  /** What 'auto' picks here (the no-WebGPU test launches Chromium without WebGPU). */
  noGpu: async () => (await resolveBackend('auto')).reason,
};
