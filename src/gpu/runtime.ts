// The one owner of a GPUDevice: pipeline cache, buffer pool, dispatch and the single readback path.
// Every GPU object gets a label "<kernel or role>.<what>", so a validation error names its culprit.

import { MAX_WORKGROUPS_PER_DIMENSION, pipelineKey, type AnyKernel } from './kernel';

export class DeviceLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceLostError';
  }
}

/**
 * Work that does not fit this device (a buffer or a dispatch beyond its limits), or a validation or
 * out-of-memory error the device reported. Callers fall back to the float64 path or report it.
 */
export class GpuLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuLimitError';
  }
}

/** "640 KiB", "1.5 GiB": sizes in messages. */
function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** Bytes of idle buffers the pool keeps for reuse. */
const POOL_MAX_BYTES = 512 * 2 ** 20;

/**
 * Compute passes one command buffer may carry before it is submitted without being asked (see
 * GpuRuntime.submit). Each pass is bounded by its driver (Jacobi's sweeps per dispatch, one product
 * table per pass); this bounds how much of them a browser's GPU watchdog sees in one submission.
 */
export const MAX_PASSES_PER_SUBMISSION = 64;

/** What crossed between host and GPU for one label (or in all): counted by the runtime, on any adapter. */
export interface TrafficCounts {
  /** dispatchWorkgroups calls. */
  dispatches: number;
  /** Compute passes (one per GpuRuntime.submit call). */
  passes: number;
  /** queue.submit calls: command buffers handed to the GPU (a label's are those it flushed). */
  submits: number;
  /** Results mapped back to the host (GpuRuntime.read), each a host–GPU round trip. The profiling's
   *  own timestamp reads are not counted. */
  readbacks: number;
  bytesRead: number;
  /** queue.writeBuffer bytes (data, batch tables, uniforms); cleared buffers upload nothing. */
  bytesUploaded: number;
  /** Compute passes recorded and never submitted: a failed or cancelled job's (GpuRuntime.discardPending). */
  discarded: number;
}

/** Traffic since the last reset, in all and by label ("factor.gram", "jacobi.sweeps", …). */
export interface GpuTraffic extends TrafficCounts {
  byLabel: Record<string, TrafficCounts>;
}

const noTraffic = (): TrafficCounts => ({ dispatches: 0, passes: 0, submits: 0, readbacks: 0, bytesRead: 0, bytesUploaded: 0, discarded: 0 });

/** Work recorded and not yet submitted: one command encoder, the labels of its passes, the buffers it uses. */
interface PendingWork {
  encoder: GPUCommandEncoder;
  passLabels: string[];
  /** Buffers bound, copied or cleared by the recorded work: a host write to one of them must wait
   *  for the submission (queue.writeBuffer runs before any later submit), and one released goes
   *  back to the pool only after it. */
  buffers: Set<GPUBuffer>;
  /** The buffers it writes (storage bindings, copy targets, clears): while one is still held, someone
   *  may read what the work computes; once none is, the work has no effect anyone can see. */
  writes: Set<GPUBuffer>;
  /** A failed or cancelled job gave it up (discardPending): dropped, unsubmitted, once nothing it writes is held. */
  abandoned: boolean;
  /** Begin/end timestamps of every pass (profiling only). */
  querySet: GPUQuerySet | null;
}

interface PooledBuffer {
  buffer: GPUBuffer;
  size: number;
  usage: number;
  /** Which handing-out this is (a buffer back from the pool gets a new one): a BufferLedger
   *  releases only the lease it was given, never a later holder's. */
  lease: number;
}

/**
 * The buffers one piece of work (a job's factorisation, a grid, one op) acquired: whatever it has
 * not handed on is released when it closes, whether the work finished, failed at a limit, was
 * cancelled or lost its device, so the next job starts from a clean pool. A buffer released (or
 * consumed by an op) before the close is not released twice, even if the pool has handed it out again.
 */
export class BufferLedger {
  private readonly held = new Map<GPUBuffer, number>();
  constructor(private readonly rt: GpuRuntime) {}

  /** Takes over a buffer an op acquired and handed on (spectrumOf's result). */
  adopt(buffer: GPUBuffer): GPUBuffer {
    this.held.set(buffer, this.rt.leaseOf(buffer));
    return buffer;
  }

  acquire(size: number, usage: number, label: string): GPUBuffer {
    return this.adopt(this.rt.acquire(size, usage, label));
  }

  upload(data: Float32Array | Uint32Array, label: string, extraUsage = 0): GPUBuffer {
    return this.adopt(this.rt.upload(data, label, extraUsage));
  }

  zeros(bytes: number, label: string): GPUBuffer {
    return this.adopt(this.rt.zeros(bytes, label));
  }

  /** A uniform buffer holding `words` (a kernel's encodeUniforms). */
  uniform(words: Uint32Array<ArrayBuffer>, label: string): GPUBuffer {
    const buffer = this.acquire(words.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label);
    this.rt.write(buffer, words, label);
    return buffer;
  }

  /** Releases one buffer before the close. */
  release(buffer: GPUBuffer): void {
    const lease = this.held.get(buffer);
    if (lease === undefined) return;
    this.held.delete(buffer);
    this.rt.releaseLease(buffer, lease);
  }

  /** Hands a buffer on to whoever outlives this work (a factor): the close leaves it alone. */
  handOn(buffer: GPUBuffer): GPUBuffer {
    this.held.delete(buffer);
    return buffer;
  }

  /** Releases everything still held (a no-op after a device loss: the runtime dropped its buffers). */
  close(): void {
    for (const [buffer, lease] of this.held) this.rt.releaseLease(buffer, lease);
    this.held.clear();
  }
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
  /** Buffers this runtime has created for its pool (a job that leaks makes the next create more). */
  private created = 0;
  private nextLease = 1;
  /** GPU nanoseconds per pass label, from timestamp queries (see enableProfiling). */
  private readonly gpuNanoseconds = new Map<string, number>();
  private readonly pendingTimings: Promise<void>[] = [];
  private profiling = false;
  /** Recorded work not yet submitted (see submit). */
  private pending: PendingWork | null = null;
  /** Buffers released while recorded work still uses them: back to the pool at the next submission. */
  private retiring: PooledBuffer[] = [];
  private counts: GpuTraffic = { ...noTraffic(), byLabel: {} };

  /** The adapter is a software fallback (SwiftShader, lavapipe): dispatches are expensive and
   *  arithmetic is slow; drivers that can, choose fewer, larger dispatches. */
  software = false;

  /** Which product kernel runProducts uses: 'auto' (product-tiled on a hardware adapter,
   *  product-batched on a software one) unless a test or the bench forces one. */
  productKernel: 'auto' | 'batched' | 'tiled' = 'auto';

  /** The first error the device reported outside an error scope (validation, out of memory). */
  private firstError: string | null = null;

  /**
   * @param maxBindingBytes a binding limit below the device's own (tests and the self-check use it
   *   to exercise the paths taken when work does not fit)
   */
  constructor(
    device: GPUDevice,
    onLost?: (message: string) => void,
    private readonly maxBindingBytes?: number,
  ) {
    this.device = device;
    // WebGPU reports invalid work asynchronously and otherwise drops it: without this, a dropped
    // dispatch would read back as zeros and look like a result.
    const onError = (event: Event) => {
      this.firstError ??= (event as GPUUncapturedErrorEvent).error?.message ?? 'unknown GPU error';
    };
    if (typeof device.addEventListener === 'function') device.addEventListener('uncapturederror', onError);
    else (device as unknown as { onuncapturederror: (e: Event) => void }).onuncapturederror = onError;
    void device.lost.then((info) => {
      if (this.destroyed) return; // an intentional destroy is not an error
      this.lostReason = `the GPU device was lost (${info.reason ?? 'unknown'}: ${info.message || 'no message'})`;
      this.pipelines.clear();
      this.free.length = 0;
      this.inUse.clear();
      this.pending = null;
      this.retiring.length = 0;
      this.bytesInUse = 0;
      onLost?.(this.lostReason);
    });
  }

  /** Buffers handed out and not yet released (read-only; tests check that failed jobs return theirs). */
  get liveBuffers(): number {
    return this.inUse.size;
  }

  /** Buffers the pool has created since the start: constant while jobs reuse what others released. */
  get createdBuffers(): number {
    return this.created;
  }

  /** A ledger for one piece of work: see BufferLedger. */
  ledger(): BufferLedger {
    return new BufferLedger(this);
  }

  /** The lease under which `buffer` is currently handed out (0 when it is not). */
  leaseOf(buffer: GPUBuffer): number {
    return this.inUse.get(buffer)?.lease ?? 0;
  }

  /** Releases `buffer` if it is still out under `lease` (not released since, nor handed out again). */
  releaseLease(buffer: GPUBuffer, lease: number): void {
    if (this.inUse.get(buffer)?.lease === lease) this.release(buffer);
  }

  get lost(): boolean {
    return this.lostReason !== null;
  }

  /** The storage-binding limit in force (the device's, or a smaller one given to the constructor). */
  get maxStorageBindingBytes(): number {
    return Math.min(this.device.limits.maxStorageBufferBindingSize, this.maxBindingBytes ?? Infinity);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Throws DeviceLostError when the device is gone, GpuLimitError after a reported error; called at every chunk boundary. */
  checkAlive(): void {
    if (this.lostReason) throw new DeviceLostError(this.lostReason);
    if (this.firstError) {
      const message = this.firstError;
      this.firstError = null;
      throw new GpuLimitError(`the GPU refused the work: ${message}`);
    }
  }

  /** Throws GpuLimitError for a dispatch beyond the per-dimension workgroup limit. */
  checkWorkgroups(label: string, workgroups: readonly number[]): void {
    if (workgroups.some((w) => w > MAX_WORKGROUPS_PER_DIMENSION)) {
      throw new GpuLimitError(`${label} needs ${workgroups.join(' × ')} workgroups, beyond the ${MAX_WORKGROUPS_PER_DIMENSION} per dimension WebGPU allows`);
    }
  }

  pipeline(kernel: AnyKernel): GPUComputePipeline {
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
    const { maxBufferSize } = this.device.limits;
    // Kernels address whole storage buffers, so those must fit one binding.
    const limit = usage & GPUBufferUsage.STORAGE ? Math.min(maxBufferSize, this.maxStorageBindingBytes) : maxBufferSize;
    if (size > limit) {
      throw new GpuLimitError(`${label} needs ${formatBytes(size)} in one buffer, beyond this GPU's ${formatBytes(limit)}`);
    }
    // Power-of-two sizes pool well; past the device's limit the exact (4-aligned) size is used.
    const pow2 = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(size, 4))));
    const rounded = pow2 <= maxBufferSize ? pow2 : Math.ceil(size / 4) * 4;
    const index = this.free.findIndex((b) => b.size === rounded && b.usage === usage);
    let pooled: PooledBuffer;
    if (index >= 0) {
      pooled = this.free.splice(index, 1)[0];
      pooled.buffer.label = label;
    } else {
      pooled = { buffer: this.device.createBuffer({ label, size: rounded, usage }), size: rounded, usage, lease: 0 };
      this.created++;
    }
    pooled.lease = this.nextLease++;
    this.inUse.set(pooled.buffer, pooled);
    this.bytesInUse += pooled.size;
    return pooled.buffer;
  }

  release(buffer: GPUBuffer): void {
    const pooled = this.inUse.get(buffer);
    if (!pooled) return;
    this.inUse.delete(buffer);
    this.bytesInUse -= pooled.size;
    // Recorded work still reads or writes it: a new holder's writes would overtake that work.
    if (this.pending?.buffers.has(buffer)) this.retiring.push(pooled);
    else this.returnToPool(pooled);
    // The last buffer written by abandoned work let go: that work can be dropped now.
    if (this.pending?.abandoned && this.pending.writes.has(buffer)) this.dropAbandoned();
  }

  private returnToPool(pooled: PooledBuffer): void {
    // Keep a bounded pool (by count and bytes); destroy what would only sit there.
    const pooledBytes = this.free.reduce((sum, b) => sum + b.size, 0);
    if (this.free.length < 64 && pooledBytes + pooled.size <= POOL_MAX_BYTES) this.free.push(pooled);
    else pooled.buffer.destroy();
  }

  /** Writes `data` into `buffer` at byte `offset` from the host (after any recorded work that uses the buffer). */
  write(buffer: GPUBuffer, data: Float32Array | Uint32Array, label: string, offset = 0): void {
    // queue.writeBuffer runs before any later submission: recorded work that uses this buffer goes first.
    if (this.pending?.buffers.has(buffer)) this.flush(label);
    this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
    this.count(label, { bytesUploaded: data.byteLength });
  }

  /** A storage buffer filled with `data` (f32 or u32 words). */
  upload(data: Float32Array | Uint32Array, label: string, extraUsage = 0): GPUBuffer {
    const buffer = this.acquire(data.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extraUsage, label);
    this.write(buffer, data, label);
    return buffer;
  }

  /** A zero-filled storage buffer of `bytes` (cleared on the GPU, in order with the recorded work: nothing uploaded). */
  zeros(bytes: number, label: string): GPUBuffer {
    const buffer = this.acquire(bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC, label);
    const work = this.work();
    work.encoder.clearBuffer(buffer, 0, Math.min(buffer.size, Math.ceil(bytes / 4) * 4));
    work.buffers.add(buffer);
    work.writes.add(buffer);
    return buffer;
  }

  /** Records a copy of `bytes` from `source` to `target` in order with the recorded work (no submission of its own). */
  copy(source: GPUBuffer, sourceOffset: number, target: GPUBuffer, targetOffset: number, bytes: number): void {
    this.checkAlive();
    const work = this.work();
    work.encoder.copyBufferToBuffer(source, sourceOffset, target, targetOffset, bytes);
    work.buffers.add(source).add(target);
    work.writes.add(target);
  }

  /** Records one dispatch of `kernel` with `buffers` bound in order (inside submit's `record`). */
  dispatch(pass: GPUComputePassEncoder, kernel: AnyKernel, buffers: (GPUBuffer | GPUBufferBinding)[], workgroups: [number, number, number]): void {
    this.checkWorkgroups(kernel.name, workgroups);
    const pipeline = this.pipeline(kernel);
    const work = this.work();
    buffers.forEach((b, binding) => {
      const buffer = 'buffer' in b ? b.buffer : b;
      work.buffers.add(buffer);
      if (kernel.bindings[binding] === 'storage') work.writes.add(buffer);
    });
    // A pooled buffer (rounded up) may be larger than what it holds; bind at most the binding limit:
    // acquire() keeps what a storage buffer holds within it.
    const limit = Math.floor(this.device.limits.maxStorageBufferBindingSize / 4) * 4; // the device's own
    const bindGroup = this.device.createBindGroup({
      label: `${kernel.name}.bind-group`,
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((b, binding) => ({
        binding,
        resource: 'buffer' in b ? b : b.size > limit && kernel.bindings[binding] !== 'uniform' ? { buffer: b, size: limit } : { buffer: b },
      })),
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...workgroups);
    this.count(this.recordingLabel, { dispatches: 1 });
  }

  /**
   * Times every later compute pass on the GPU with timestamp queries, when the device has
   * 'timestamp-query' (returns false otherwise). Costs a timestamp readback per submission (not
   * counted in traffic()): for benchmarks, not for normal use.
   */
  enableProfiling(): boolean {
    this.flush('profiling');
    this.profiling = this.device.features.has('timestamp-query');
    return this.profiling;
  }

  /** GPU milliseconds per pass label since profiling was enabled (submits recorded work and waits for pending timestamp reads). */
  async gpuTimes(): Promise<Record<string, number>> {
    this.flush('profiling');
    await Promise.all(this.pendingTimings.splice(0));
    return Object.fromEntries([...this.gpuNanoseconds].map(([label, ns]) => [label, ns / 1e6]));
  }

  /** Dispatches, passes, submissions, readbacks and bytes since the last resetTraffic (a copy). */
  traffic(): GpuTraffic {
    const byLabel = Object.fromEntries(Object.entries(this.counts.byLabel).map(([label, c]) => [label, { ...c }]));
    return { ...this.counts, byLabel };
  }

  /** Starts counting afresh (a benchmark's job, a test). */
  resetTraffic(): void {
    this.counts = { ...noTraffic(), byLabel: {} };
  }

  private count(label: string, add: Partial<TrafficCounts>): void {
    const own = (this.counts.byLabel[label] ??= noTraffic());
    for (const [key, value] of Object.entries(add) as [keyof TrafficCounts, number][]) {
      own[key] += value;
      this.counts[key] += value;
    }
  }

  /** The label of the pass being recorded (dispatches are counted under it). */
  private recordingLabel = 'unlabelled';

  /** The command encoder recorded work goes into (a fresh one after each submission). */
  private work(): PendingWork {
    if (!this.pending) {
      const encoder = this.device.createCommandEncoder({ label: 'runtime.encoder' });
      const querySet = this.profiling
        ? this.device.createQuerySet({ label: 'runtime.timestamps', type: 'timestamp', count: 2 * MAX_PASSES_PER_SUBMISSION })
        : null;
      this.pending = { encoder, passLabels: [], buffers: new Set(), writes: new Set(), abandoned: false, querySet };
    }
    return this.pending;
  }

  /**
   * Records work with `record` in one compute pass. It is submitted with whatever else was recorded
   * before it, at the next read() or settle() (or flush(), or once MAX_PASSES_PER_SUBMISSION passes
   * are waiting): a job's products, copies and clears between two readbacks go to the GPU as one
   * command buffer instead of one each. Host writes (write, upload) to a buffer the recorded work
   * uses submit it first, and a buffer released meanwhile is reused only after it is submitted, so
   * the order of work is what the calls say.
   */
  submit(label: string, record: (pass: GPUComputePassEncoder) => void): void {
    this.checkAlive();
    if (this.pending && this.pending.passLabels.length >= MAX_PASSES_PER_SUBMISSION) this.flush(label);
    const work = this.work();
    const index = work.passLabels.length;
    work.passLabels.push(label);
    const pass = work.encoder.beginComputePass({
      label: `${label}.pass`,
      ...(work.querySet ? { timestampWrites: { querySet: work.querySet, beginningOfPassWriteIndex: 2 * index, endOfPassWriteIndex: 2 * index + 1 } } : {}),
    });
    this.recordingLabel = label;
    this.count(label, { passes: 1 });
    try {
      record(pass);
    } finally {
      pass.end(); // a dispatch refused at a limit leaves what was recorded before it valid
    }
  }

  /** Submits the recorded work now, if there is any (`label`: whom the submission is counted for). */
  flush(label = 'flush'): void {
    const work = this.pending;
    if (!work) return;
    this.pending = null;
    let timestamps: { resolved: GPUBuffer; readback: GPUBuffer; labels: string[]; querySet: GPUQuerySet } | null = null;
    if (work.querySet && work.passLabels.length > 0) {
      // Two u64 timestamps (16 bytes) per pass → resolve → a mappable copy, read after the work is done.
      const bytes = 16 * work.passLabels.length;
      const resolved = this.device.createBuffer({
        label: 'runtime.timestamps-resolve',
        size: bytes,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      const readback = this.device.createBuffer({ label: 'runtime.timestamps-read', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      work.encoder.resolveQuerySet(work.querySet, 0, 2 * work.passLabels.length, resolved, 0);
      work.encoder.copyBufferToBuffer(resolved, 0, readback, 0, bytes);
      timestamps = { resolved, readback, labels: work.passLabels, querySet: work.querySet };
    }
    this.device.queue.submit([work.encoder.finish()]);
    this.count(label, { submits: 1 });
    for (const pooled of this.retiring.splice(0)) this.returnToPool(pooled);
    if (timestamps) {
      const { resolved, readback, labels, querySet } = timestamps;
      this.pendingTimings.push(
        readback.mapAsync(GPUMapMode.READ).then(
          () => {
            const stamps = new BigUint64Array(readback.getMappedRange());
            labels.forEach((passLabel, index) => {
              const [begin, end] = [stamps[2 * index], stamps[2 * index + 1]];
              const ns = end > begin ? Number(end - begin) : 0;
              this.gpuNanoseconds.set(passLabel, (this.gpuNanoseconds.get(passLabel) ?? 0) + ns);
            });
            readback.unmap();
            for (const b of [readback, resolved]) b.destroy();
            querySet.destroy();
          },
          () => undefined,
        ),
      );
    } else {
      work.querySet?.destroy();
    }
  }

  /** Compute passes recorded and not yet submitted (tests: a failed or cancelled job leaves none). */
  get pendingPasses(): number {
    return this.pending?.passLabels.length ?? 0;
  }

  /**
   * Gives up the recorded, unsubmitted work: a job that failed or was cancelled calls it (the GPU
   * backend's job wrapper, src/analysis/gpu/index.ts) so that its passes do not run with the next
   * job's first submission. The work is dropped unsubmitted (its encoder never finished, its
   * timestamp query set destroyed, its passes counted as `discarded` under their labels) once no
   * buffer it writes is still held: at once when the job has released its buffers, else when the
   * last of them is released (release). Until then it stays recorded, and a readback that comes
   * first submits it as usual: work of another flow recorded into the same encoder (the checkpoint
   * pipeline's factoring beside a grid, another job) is never lost, and work whose results nobody
   * holds is invisible. Buffers released while the work used them go back to the pool: nothing
   * submitted after it can be overtaken by work that never runs, and work submitted before it is
   * already ordered ahead of anything later on the queue. Returns the passes dropped now (0: none
   * recorded, or some of what they write is still held).
   */
  discardPending(): number {
    if (!this.pending) return 0;
    this.pending.abandoned = true;
    return this.dropAbandoned();
  }

  private dropAbandoned(): number {
    const work = this.pending;
    if (!work?.abandoned) return 0;
    for (const buffer of work.writes) if (this.inUse.has(buffer)) return 0;
    this.pending = null;
    work.querySet?.destroy(); // only this encoder, never finished, wrote to it
    for (const label of work.passLabels) this.count(label, { discarded: 1 });
    for (const pooled of this.retiring.splice(0)) this.returnToPool(pooled);
    return work.passLabels.length;
  }

  /** The single readback path: copies `bytes` from `buffer` (after the recorded work) and maps them as f32 or u32 words. */
  async read(buffer: GPUBuffer, bytes: number, label: string): Promise<Float32Array> {
    this.checkAlive();
    const staging = this.device.createBuffer({
      label: `${label}.readback`,
      size: Math.ceil(bytes / 4) * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.work().encoder.copyBufferToBuffer(buffer, 0, staging, 0, staging.size);
    this.flush(label);
    this.count(label, { readbacks: 1, bytesRead: staging.size });
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (error) {
      staging.destroy(); // not pooled: the read that made it owns it
      // A destroyed device can reject the mapping (AbortError) before its lost promise has run:
      // give the loss a moment to be recorded, so it is reported as a loss, not as a cancel.
      await Promise.race([this.device.lost, new Promise((resolve) => setTimeout(resolve, 100))]);
      this.checkAlive();
      throw error;
    }
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    // Errors from the work just read surface before its numbers are used.
    await Promise.resolve();
    this.checkAlive();
    return out;
  }

  /** Waits for submitted work: the boundary between chunks (progress, cancel, browser watchdogs). */
  async settle(): Promise<void> {
    this.flush('settle');
    await this.device.queue.onSubmittedWorkDone();
    this.checkAlive();
  }

  destroy(): void {
    this.destroyed = true;
    this.pending = null;
    for (const b of [...this.free, ...this.retiring]) b.buffer.destroy();
    this.retiring.length = 0;
    for (const b of this.inUse.values()) b.buffer.destroy();
    this.free.length = 0;
    this.inUse.clear();
    this.pipelines.clear();
    this.device.destroy();
  }
}
