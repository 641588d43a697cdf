// Node helpers of the CLI: array references (file.npy, file.npz:member, file.safetensors:tensor)
// and bundles from paths on disk.
// Shape convention: arrays come back as stored, C order.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { representationMessage } from '../../src/analysis/pool/protocol';
import { loadArrayRef, openBundlePath, openPathAsBlob } from '../../src/io/node';
import { toRepresentation } from '../../src/math/reduce';
import { encodeNpy } from '../../src/io/npy';
import { expectArray, expectInputError, FIXTURES } from './helpers';

const at = (rel: string) => join(FIXTURES, rel);

describe('loadArrayRef', () => {
  it('reads file.npy', async () => {
    const { name, array } = await loadArrayRef(at('npy/f2_be.npy'));
    expect(name).toBe(at('npy/f2_be.npy'));
    expectArray(array, 'npy/f2_be.npy');
  });

  it('reads file.npz:member and file.safetensors:tensor', async () => {
    const member = await loadArrayRef(`${at('npz/compressed.npz')}:b`);
    expect(member.name).toBe(`${at('npz/compressed.npz')}:b`);
    expectArray(member.array, 'npz:b');
    expectArray((await loadArrayRef(`${at('safetensors/dtypes.safetensors')}:bf16`)).array, 'dtypes.safetensors:bf16');
    expectArray((await loadArrayRef(`${at('bundle/steps.npz')}:step_0/fc.out`)).array, 'steps.npz:step_0/fc.out');
  });

  it('reads an archive alone when it holds exactly one array', async () => {
    const { name, array } = await loadArrayRef(at('npz/single.npz'));
    expect(name).toBe(`${at('npz/single.npz')}:only`);
    expectArray(array, 'npz:only');
  });

  it('asks for a member when there are several, listing them', async () => {
    const file = at('npz/stored.npz');
    await expectInputError(() => loadArrayRef(file), file, /holds 3 arrays \(a, b, c\); name one as .*stored\.npz:MEMBER$/);
    const tensors = at('safetensors/dtypes.safetensors');
    await expectInputError(() => loadArrayRef(tensors), tensors, /holds 9 tensors \(f32, f16, .*\); name one as .*:TENSOR$/);
  });

  it('refuses a missing file, a missing member, a folder and an unknown kind', async () => {
    await expectInputError(() => loadArrayRef('nowhere/acts.npy'), 'nowhere/acts.npy', /^no such file$/);
    await expectInputError(() => loadArrayRef('nowhere/acts.npz:conv1'), 'nowhere/acts.npz', /^no such file$/);
    await expectInputError(() => loadArrayRef(`${at('npz/stored.npz')}:zz`), at('npz/stored.npz'), /has no array 'zz'/);
    await expectInputError(
      () => loadArrayRef(at('bundle/tree/notes.txt')),
      at('bundle/tree/notes.txt'),
      /expected FILE\.npy or FILE\.EXT\[:NAME\] with EXT one of \.npz, \.safetensors, \.pt, .* or \.he5$/,
    );
  });
});

describe('a large array the CLI reads alone goes to the CPU pool without a copy', () => {
  // Over the 1 MiB of FileBlob's synchronous reads: 600 datapoints × 512 neurons, float32 (1.2 MB).
  const dir = mkdtempSync(join(tmpdir(), 'svcca-shared-read-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const values = Float32Array.from({ length: 600 * 512 }, (_, i) => Math.sin(i));

  it('loadArrayRef reads it into shared memory, and the pool sends that buffer as it is', async () => {
    const file = join(dir, 'layer.npy');
    writeFileSync(file, encodeNpy([600, 512], values));
    const { array } = await loadArrayRef(file);
    expect(array.data).toBeInstanceOf(Float32Array);
    expect(array.data.buffer instanceof SharedArrayBuffer).toBe(true);
    expect(Array.from(array.data as Float32Array)).toEqual(Array.from(values));
    const message = representationMessage(toRepresentation(array, 'datapoints-first', 'nhwc'), true, () => {
      throw new Error('staged a copy');
    });
    expect(message.kind === 'stored-dense' && message.stored.data.buffer).toBe(array.data.buffer);
  });

  it('a bundle reads its arrays into plain buffers', async () => {
    const folder = join(dir, 'run');
    mkdirSync(folder);
    mkdirSync(join(folder, 'step_0'));
    writeFileSync(join(folder, 'step_0', 'fc.npy'), encodeNpy([600, 512], values));
    const opened = await openBundlePath(folder);
    const array = await opened.entries[0].load();
    expect(array.data.buffer instanceof SharedArrayBuffer).toBe(false);
    expect(Array.from(array.data as Float32Array)).toEqual(Array.from(values));
  });
});

describe('openPathAsBlob', () => {
  it('opens a file lazily and refuses missing files and folders', async () => {
    const blob = await openPathAsBlob(at('npy/f4_le.npy'));
    expect(blob.size).toBe(176);
    await expectInputError(() => openPathAsBlob(at('missing.npy')), at('missing.npy'), /^no such file$/);
    await expectInputError(() => openPathAsBlob(at('npy')), at('npy'), /is a folder, not a file/);
  });
});

describe('openBundlePath', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'svcca-io-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('opens an .npz bundle', async () => {
    const bundle = await openBundlePath(at('bundle/steps.npz'));
    expect(bundle.name).toBe('steps.npz');
    expect(bundle.steps).toEqual([0, 2, 10]);
    expect(bundle.entries[0].source).toBe('steps.npz:step_0/block1/conv');
  });

  it('opens a single step_<N>.safetensors file', async () => {
    const bundle = await openBundlePath(at('bundle/st/step_10.safetensors'));
    expect(bundle).toMatchObject({ runs: [null], steps: [10], layers: ['encoder.layer.0', 'head'] });
  });

  it('walks a folder, sorted by path, with paths that start with the folder name', async () => {
    const bundle = await openBundlePath(at('bundle/tree'));
    expect(bundle.name).toBe('tree');
    expect(bundle.runs).toEqual(['runA', 'runB']);
    expect(bundle.layers).toEqual(['block1/conv', 'conv1']);
    expect(bundle.unmatched).toEqual(['tree/notes.txt']);
    expect(bundle.entries[7].source).toBe('tree/runB/step_10/conv1.npy');
    expectArray(await bundle.entries[7].load(), 'bundle/tree/runB/step_10/conv1.npy');
  });

  it('skips hidden files and folders', async () => {
    const root = join(scratch, 'acts');
    mkdirSync(join(root, 'step_5'), { recursive: true });
    mkdirSync(join(root, '.cache'));
    writeFileSync(join(root, 'step_5', 'fc.npy'), encodeNpy([2, 2], new Float32Array([1, 2, 3, 4])));
    writeFileSync(join(root, '.DS_Store'), 'junk');
    writeFileSync(join(root, '.cache', 'x.npy'), 'junk');
    const bundle = await openBundlePath(root);
    expect(bundle).toMatchObject({ name: 'acts', steps: [5], layers: ['fc'], unmatched: [] });
  });

  it('refuses a missing path', async () => {
    await expectInputError(() => openBundlePath(join(scratch, 'nope')), join(scratch, 'nope'), /^no such file$/);
  });
});
