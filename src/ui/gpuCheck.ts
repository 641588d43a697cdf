// gpu-check.html: runs the self-check (src/analysis/selfCheck.ts) on this browser's WebGPU adapter.
// Also the entry point of the end-to-end GPU parity and device-loss tests, through window.svccaGpuCheck.

import { registerGpuBackend, resolveBackend } from '../analysis/backend';
import { webgpuBackendFactory, type GpuBackend } from '../analysis/gpu';
import { runDeviceLossCheck, runGpuSelfCheck, SELF_CHECK_TOLERANCE, type CheckRow } from '../analysis/selfCheck';

let lostMessages: string[] = [];
registerGpuBackend(
  webgpuBackendFactory(
    async () => navigator.gpu,
    (message) => lostMessages.push(message),
  ),
);

async function gpuBackend() {
  const choice = await resolveBackend('webgpu');
  return { backend: choice.backend as GpuBackend, reason: choice.reason };
}

async function deviceLossCheck() {
  lostMessages = [];
  const result = await runDeviceLossCheck(async () => (await gpuBackend()).backend);
  return { ...result, lost: lostMessages };
}

async function all() {
  const { backend, reason } = await gpuBackend();
  return { reason, ...(await runGpuSelfCheck(backend, (row) => render(row))) };
}

const report = document.getElementById('report')!;
const status = document.getElementById('status')!;
function render(row: CheckRow) {
  report.textContent += `${row.ok ? 'ok  ' : 'FAIL'} ${row.metric.padEnd(13)} ${row.name}: cpu ${row.cpu.similarity.toFixed(6)} gpu ${row.gpu.similarity.toFixed(6)} |Δ| ${row.deltaSimilarity.toExponential(1)} max|Δρ| ${row.maxDeltaRho.toExponential(1)}${row.keptEqual ? '' : ' kept differs'}\n`;
}

async function runSelfCheck(): Promise<void> {
  report.textContent = '';
  status.textContent = 'Running…';
  try {
    const result = await all();
    const failed = result.rows.filter((r) => !r.ok).length;
    status.textContent = `${result.reason}. ${result.rows.length - failed} of ${result.rows.length} cases within |Δ similarity| ≤ ${SELF_CHECK_TOLERANCE.similarity}, |Δρ| ≤ ${SELF_CHECK_TOLERANCE.rho}; learning-dynamics grid max |Δ| ${result.gridMaxDelta.toExponential(1)}.`;
  } catch (error) {
    status.textContent = `The self-check could not run: ${(error as Error).message}`;
  }
}
// runSelfCheck reports its own failure in the status line.
document.getElementById('run')!.addEventListener('click', () => void runSelfCheck());

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
