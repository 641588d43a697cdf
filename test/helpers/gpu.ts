// Dawn's WebGPU device in Node for the GPU tests (SwiftShader on the development machine and in CI).
import { acquireDevice } from '../../src/gpu/device';
import { nodeGpu } from '../../src/gpu/node';
import { GpuBackend } from '../../src/analysis/gpu';
import { GpuRuntime } from '../../src/gpu/runtime';

/** A runtime made by `make` on Dawn's device, with `software` set as the adapter says; throws without a device. */
export async function nodeRuntime<R extends GpuRuntime>(make: (device: GPUDevice) => R): Promise<R> {
  const outcome = await acquireDevice(await nodeGpu());
  if (outcome.kind !== 'ok') throw new Error(`no WebGPU device in Node: ${outcome.message}`);
  const runtime = make(outcome.device);
  runtime.software = outcome.fallback;
  return runtime;
}

/** The GPU backend of the engine on a fresh Dawn runtime (a test file's `beforeAll`). */
export async function nodeBackend(): Promise<{ runtime: GpuRuntime; backend: GpuBackend }> {
  const runtime = await nodeRuntime((device) => new GpuRuntime(device));
  return { runtime, backend: new GpuBackend(runtime) };
}
