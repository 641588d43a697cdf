// The one owner of a GPUDevice: pipeline cache, buffer pool, dispatch and the single readback path.
// Every GPU object gets a label "<kernel or role>.<what>", so a validation error names its culprit.

import { pipelineKey, type Kernel } from './kernel';

export class DeviceLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceLostError';
  }
}

interface PooledBuffer {
  buffer: GPUBuffer;
  size: number;
  usage: number;
}

export class GpuRuntime {
  readonly device: GPUDevice;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly free: PooledBuffer[] = [];
  private readonly inUse = new Map<GPUBuffer, PooledBuffer>();
  private lostReason: string | null = null;
  private destroyed = false;
  /** Bytes of pooled buffers currently handed out. */
  bytesInUse = 0;
  /** GPU nanoseconds per submission label, from timestamp queries (see enableProfiling). */
  private readonly gpuNanoseconds = new Map<string, number>();
  private readonly pendingTimings: Promise<void>[] = [];
  private profiling = false;

  constructor(device: GPUDevice, onLost?: (message: string) => void) {
    this.device = device;
    device.lost.then((info) => {
      if (this.destroyed) return; // an intentional destroy is not an error
      this.lostReason = `the GPU device was lost (${info.reason ?? 'unknown'}: ${info.message || 'no message'})`;
      this.pipelines.clear();
      this.free.length = 0;
      this.inUse.clear();
      onLost?.(this.lostReason);
    });
  }

  get lost(): boolean {
    return this.lostReason !== null;
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Throws DeviceLostError when the device is gone; called at every chunk boundary. */
  checkAlive(): void {
    if (this.lostReason) throw new DeviceLostError(this.lostReason);
  }

  pipeline(kernel: Kernel): GPUComputePipeline {
    const key = pipelineKey(kernel);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const module = this.device.createShaderModule({ label: `${kernel.name}.module`, code: kernel.source });
      const layout = this.device.createBindGroupLayout({
        label: `${kernel.name}.bind-group-layout`,
        entries: kernel.bindings.map((type, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } })),
      });
      pipeline = this.device.createComputePipeline({
        label: `${kernel.name}.pipeline`,
        layout: this.device.createPipelineLayout({ label: `${kernel.name}.pipeline-layout`, bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main', constants: kernel.overrides },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** A buffer of at least `size` bytes from the pool (sizes rounded up to powers of two from 256 B). */
  acquire(size: number, usage: number, label: string): GPUBuffer {
    this.checkAlive();
    const rounded = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(size, 4))));
    const index = this.free.findIndex((b) => b.size === rounded && b.usage === usage);
    let pooled: PooledBuffer;
    if (index >= 0) {
      pooled = this.free.splice(index, 1)[0];
      pooled.buffer.label = label;
    } else {
      pooled = { buffer: this.device.createBuffer({ label, size: rounded, usage }), size: rounded, usage };
    }
    this.inUse.set(pooled.buffer, pooled);
    this.bytesInUse += pooled.size;
    return pooled.buffer;
  }

  release(buffer: GPUBuffer): void {
    const pooled = this.inUse.get(buffer);
    if (!pooled) return;
    this.inUse.delete(buffer);
    this.bytesInUse -= pooled.size;
    // Keep a bounded pool; destroy what would only sit there.
    if (this.free.length < 64) this.free.push(pooled);
    else pooled.buffer.destroy();
  }

  /** A storage buffer filled with `data` (f32 or u32 words). */
  upload(data: Float32Array | Uint32Array, label: string, extraUsage = 0): GPUBuffer {
    const buffer = this.acquire(data.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extraUsage, label);
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** A zero-filled storage buffer of `bytes`. */
  zeros(bytes: number, label: string): GPUBuffer {
    const buffer = this.acquire(bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC, label);
    this.device.queue.writeBuffer(buffer, 0, new Uint8Array(Math.min(buffer.size, Math.ceil(bytes / 4) * 4)));
    return buffer;
  }

  /** Records one dispatch of `kernel` with `buffers` bound in order. */
  dispatch(pass: GPUComputePassEncoder, kernel: Kernel, buffers: (GPUBuffer | GPUBufferBinding)[], workgroups: [number, number, number]): void {
    const pipeline = this.pipeline(kernel);
    const bindGroup = this.device.createBindGroup({
      label: `${kernel.name}.bind-group`,
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((b, binding) => ({ binding, resource: "buffer" in b ? b : { buffer: b } })),
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...workgroups);
  }

  /**
   * Times every later submission's compute pass on the GPU with timestamp queries, when the device
   * has 'timestamp-query' (returns false otherwise). Costs a readback per submission: for
   * benchmarks, not for normal use.
   */
  enableProfiling(): boolean {
    this.profiling = this.device.features.has('timestamp-query');
    return this.profiling;
  }

  /** GPU milliseconds per submission label since profiling was enabled (waits for pending readbacks). */
  async gpuTimes(): Promise<Record<string, number>> {
    await Promise.all(this.pendingTimings.splice(0));
    return Object.fromEntries([...this.gpuNanoseconds].map(([label, ns]) => [label, ns / 1e6]));
  }

  /** Encodes work with `record` in one compute pass and submits it. */
  submit(label: string, record: (pass: GPUComputePassEncoder, encoder: GPUCommandEncoder) => void): void {
    this.checkAlive();
    const encoder = this.device.createCommandEncoder({ label: `${label}.encoder` });
    const querySet = this.profiling ? this.device.createQuerySet({ label: `${label}.timestamps`, type: 'timestamp', count: 2 }) : null;
    const pass = encoder.beginComputePass({
      label: `${label}.pass`,
      ...(querySet ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {}),
    });
    record(pass, encoder);
    pass.end();
    if (querySet) {
      // Two u64 timestamps (16 bytes) → resolve → a mappable copy, read after the work is done.
      const resolved = this.device.createBuffer({ label: `${label}.timestamps-resolve`, size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const readback = this.device.createBuffer({ label: `${label}.timestamps-read`, size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16);
      this.device.queue.submit([encoder.finish()]);
      this.pendingTimings.push(
        readback.mapAsync(GPUMapMode.READ).then(() => {
          const [begin, end] = new BigUint64Array(readback.getMappedRange());
          const ns = end > begin ? Number(end - begin) : 0;
          this.gpuNanoseconds.set(label, (this.gpuNanoseconds.get(label) ?? 0) + ns);
          readback.unmap();
          for (const b of [readback, resolved]) b.destroy();
          querySet.destroy();
        }, () => undefined),
      );
      return;
    }
    this.device.queue.submit([encoder.finish()]);
  }

  /** The single readback path: copies `bytes` from `buffer` and maps them as f32 or u32 words. */
  async read(buffer: GPUBuffer, bytes: number, label: string): Promise<Float32Array> {
    this.checkAlive();
    const staging = this.device.createBuffer({ label: `${label}.readback`, size: Math.ceil(bytes / 4) * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder({ label: `${label}.readback-encoder` });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, staging.size);
    this.device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (error) {
      this.checkAlive();
      throw error;
    }
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Waits for submitted work: the boundary between chunks (progress, cancel, browser watchdogs). */
  async settle(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.checkAlive();
  }

  destroy(): void {
    this.destroyed = true;
    for (const b of this.free) b.buffer.destroy();
    for (const b of this.inUse.values()) b.buffer.destroy();
    this.free.length = 0;
    this.inUse.clear();
    this.pipelines.clear();
    this.device.destroy();
  }
}
