// Getting a GPUDevice, with a typed outcome the UI and CLI can turn into an actionable message.
// No React, no store: the caller passes the `GPU` object (navigator.gpu in a browser or worker,
// the `webgpu` package's create() in Node).

export type DeviceOutcome =
  | {
      kind: 'ok';
      device: GPUDevice;
      /** "swiftshader (fallback)", "nvidia …": what the adapter says about itself. */
      adapterName: string;
      /** A software adapter: correct but slower than the float64 CPU path. */
      fallback: boolean;
      timestamps: boolean;
    }
  | { kind: 'no-api' | 'no-adapter' | 'no-device' | 'limits-too-small'; message: string };

/** What the kernels need at the least; everything the adapter offers beyond is requested too. */
const REQUIRED = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBuffersPerShaderStage: 4,
};

export async function acquireDevice(gpu: GPU | undefined | null, label = 'svcca-lens'): Promise<DeviceOutcome> {
  if (!gpu) {
    return { kind: 'no-api', message: 'no WebGPU API here (navigator.gpu is missing, or in Node the optional webgpu package is not installed)' };
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { kind: 'no-adapter', message: `no WebGPU adapter: ${(error as Error).message}` };
  }
  if (!adapter) {
    return { kind: 'no-adapter', message: 'no WebGPU adapter is available (GPU blocked, disabled or missing)' };
  }
  for (const [name, minimum] of Object.entries(REQUIRED)) {
    const offered = (adapter.limits as unknown as Record<string, number>)[name];
    if (offered < minimum) {
      return { kind: 'limits-too-small', message: `the GPU offers ${name} = ${offered}, below the ${minimum} the kernels need` };
    }
  }
  const timestamps = adapter.features.has('timestamp-query');
  // Ask for the adapter's own limits: without requiredLimits a device only gets the defaults
  // (128 MiB bindings, 256 MiB buffers).
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: adapter.limits.maxComputeWorkgroupSizeY,
    maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
  };
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label,
      requiredLimits,
      requiredFeatures: timestamps ? ['timestamp-query'] : [],
    });
  } catch (error) {
    return { kind: 'no-device', message: `the WebGPU adapter refused a device: ${(error as Error).message}` };
  }
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const fallback =
    Boolean((adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter || (info as { isFallbackAdapter?: boolean }).isFallbackAdapter) ||
    /swiftshader|llvmpipe|lavapipe|software/i.test(`${info.vendor} ${info.architecture} ${info.description} ${info.device}`);
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return { kind: 'ok', device, adapterName: fallback ? `${name} (software fallback)` : name, fallback, timestamps };
}
