// The app's path for large files, over the real worker core, readers and engine (in one thread):
// a dropped .npz is listed from its central directory and member headers without reading its
// data, and a learning-dynamics job reads each member with one File.slice of that member alone
// (never the whole file into an ArrayBuffer), each once: the export's content hash is taken as the
// job reads the member, and its k99 read off the job's own SVCCA factors.
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/analysis/types';
import { encodeNpy } from '../../src/io/npy';
import { WorkerClient } from '../../src/worker/client';
import type { WorkerPort } from '../../src/worker/client';
import type { Request, Response } from '../../src/worker/protocol';
import { createWorkerCore } from '../../src/worker/workerCore';
import { realEngine } from '../../src/worker/engine';

/** Records every read the readers make of it: the size of each slice read. */
class RecordingFile extends File {
  constructor(
    parts: BlobPart[],
    name: string,
    readonly reads: number[],
  ) {
    super(parts, name);
  }

  override slice(start?: number, end?: number): Blob {
    const base = super.slice(start, end);
    const reads = this.reads;
    return new (class extends Blob {
      override async arrayBuffer() {
        reads.push(base.size);
        return base.arrayBuffer();
      }
    })([base]);
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    this.reads.push(this.size);
    return super.arrayBuffer();
  }
}

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

describe('a large bundle in the app', () => {
  it('is listed from headers alone and computed one member slice at a time', { timeout: 60_000 }, async () => {
    // 4 checkpoints × 3 conv layers (200 datapoints, 16 × 16 × 16 NHWC float32: 3.3 MB each).
    const members: Record<string, Uint8Array> = {};
    let seed = 1;
    for (let t = 0; t < 4; t++) {
      for (let l = 0; l < 3; l++) {
        const data = Float32Array.from({ length: 200 * 16 * 16 * 16 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5);
        members[`step_${t}/conv${l}.npy`] = encodeNpy([200, 16, 16, 16], data);
      }
    }
    const memberBytes = members['step_0/conv0.npy'].length;
    const zip = zipSync(members, { level: 0 });
    const reads: number[] = [];
    const file = new RecordingFile([zip], 'big.npz', reads);

    const client = inProcessClient();
    const added = await client.addInput([{ path: 'big.npz', file }], 'big.npz');
    expect(added.errors).toEqual([]);
    expect(added.bundle?.layers).toEqual(['conv0', 'conv1', 'conv2']);
    const listing = reads.reduce((a, b) => a + b, 0);
    expect(listing).toBeLessThan(zip.length / 50); // the central directory and 12 npy headers

    reads.length = 0;
    const job = await client.dynamics({
      bundle: added.bundle!.id,
      run: null,
      reference: 'last',
      dropped: [],
      options: { ...DEFAULT_OPTIONS, convReduction: 'meanpool' },
    });
    expect(job.result.values).toHaveLength(4);
    const large = reads.filter((n) => n > 64 * 1024);
    // Every large read is one member (local header + .npy), never more: no whole-file ArrayBuffer.
    expect(Math.max(...large)).toBe(memberBytes);
    // One pass: the job. The content hash and k99 of its export read nothing again.
    expect(large.length).toBe(12);
    expect(job.result.inputHash).toMatch(/^[0-9a-f]{12}$/);
    expect(job.result.k99).toHaveLength(4);
    expect(job.result.k99!.flat().every((k) => typeof k === 'number' && k >= 1)).toBe(true);

    // The same numbers as the separate passes (a hash read from the file, the k99 pass's SVDs).
    const { inputHash, dynamicsEntries } = await import('../../src/analysis/provenance');
    const { dimensionsOverTrainingWithGaps } = await import('../../src/analysis/classes');
    const { readInput } = await import('../../src/io/bundle');
    const again = await readInput('big.npz', [{ path: 'big.npz', blob: new Blob([zip]) }]);
    const bundle = again.bundle;
    expect(await inputHash(dynamicsEntries(bundle.entries, bundle.layers, null))).toBe(job.result.inputHash);
    const pass = await dimensionsOverTrainingWithGaps(bundle, null, { ...DEFAULT_OPTIONS, convReduction: 'meanpool' });
    expect(job.result.k99).toEqual(pass.k99);
  });
});
