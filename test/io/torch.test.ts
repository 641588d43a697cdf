// torch.save files (.pt): state_dicts, nested containers, non-contiguous views, every dtype,
// bare tensors, Parameters, the legacy format, and refusals (forbidden globals, corrupt archives).
// Fixtures: scripts/make_format_fixtures.py (torch 1.13).
// Shape convention: tensors come back with their own shape, data in C order.

import { existsSync, rmSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { openTorch } from '../../src/io/torch';
import { DEFAULT_LIMITS } from '../../src/io/types';
import { centralEntries } from './helpers';
import { expectRefused, expectWholeFile, formatBlob, formatBytes, fuzzReader } from './formatHelpers';

const PWNED = '/tmp/svcca-lens-pwned';

/** A fixture's zip members, edited by `edit`, zipped again (stored, as torch writes them). */
function rezip(rel: string, edit: (members: Record<string, Uint8Array>) => void): Blob {
  const members = unzipSync(formatBytes(rel));
  edit(members);
  return new Blob([zipSync(members, { level: 0 })]);
}

const text = (s: string) => new TextEncoder().encode(s);

describe('openTorch on files torch.save wrote', () => {
  it.each([
    'torch/checkpoint.pt',
    'torch/state_dict.pt',
    'torch/nested.pt',
    'torch/views.pt',
    'torch/dtypes.pt',
    'torch/tensor.pt',
    'torch/parameters.pt',
    'torch/legacy.pt',
  ])('%s: lists and reads every tensor exactly', async (rel) => {
    await expectWholeFile(await openTorch(formatBlob(rel), rel), rel);
  });

  it('names state_dict entries as PyTorch does, with torch dtypes and shapes from the pickle', async () => {
    const file = await openTorch(formatBlob('torch/state_dict.pt'), 'model.pt');
    expect(file.arrays.slice(0, 2)).toEqual([
      { name: '0.weight', shape: [3, 2, 2, 2], dtype: 'torch.float32' },
      { name: '0.bias', shape: [3], dtype: 'torch.float32' },
    ]);
    expect(file.arrays.find((a) => a.name === '1.num_batches_tracked')).toEqual({ name: '1.num_batches_tracked', shape: [], dtype: 'torch.int64' });
  });

  it('materialises transposed, strided, offset and expanded views through their strides', async () => {
    const file = await openTorch(formatBlob('torch/views.pt'), 'views.pt');
    const base = Array.from((await file.read('base')).data);
    const at = (i: number, j: number) => base[i * 5 + j];
    const transposed = await file.read('transposed');
    expect(transposed.shape).toEqual([5, 4]);
    expect(transposed.data[1 * 4 + 2]).toBe(at(2, 1));
    const strided = await file.read('strided');
    expect(strided.shape).toEqual([2, 2]);
    expect(Array.from(strided.data)).toEqual([at(0, 1), at(0, 3), at(2, 1), at(2, 3)]);
  });

  it('reads only data.pkl when opening, and one storage per read', async () => {
    const bytes = formatBytes('torch/dtypes.pt');
    let sliced = 0;
    class Counting extends Blob {
      override slice(start?: number, end?: number): Blob {
        const part = super.slice(start, end);
        sliced += part.size;
        return part;
      }
    }
    const file = await openTorch(new Counting([bytes]), 'dtypes.pt');
    const afterOpen = sliced;
    await file.read('float64');
    expect(sliced - afterOpen).toBeLessThan(2 * 48 + 200);
  });

  it('reads the byteorder record: big-endian storages', async () => {
    // tensor.pt's float64 storage byte-swapped, with byteorder "big" as torch ≥ 2.1 writes on such hosts.
    const blob = rezip('torch/tensor.pt', (m) => {
      const key = Object.keys(m).find((k) => k.endsWith('/data/0'))!;
      const data = m[key];
      for (let i = 0; i < data.length; i += 8) data.subarray(i, i + 8).reverse();
      m[key.replace('data/0', 'byteorder')] = text('big');
    });
    await expectWholeFile(await openTorch(blob, 'torch/tensor.pt'), 'torch/tensor.pt');
  });
});

describe('openTorch refuses, running nothing', () => {
  it('a data.pkl that calls os.system, naming the global', async () => {
    if (existsSync(PWNED)) rmSync(PWNED);
    await expectRefused(
      () => openTorch(formatBlob('torch/evil.pt'), 'evil.pt'),
      'evil.pt',
      /^pickle asks for the Python object 'posix\.system', which is not allowed here \(only tensors and numpy arrays in dicts, OrderedDicts, lists and tuples can be read; nothing was run\); save model\.state_dict\(\) rather than the model, and leave other Python objects out of the file \(at byte \d+\)$/,
    );
    expect(existsSync(PWNED)).toBe(false);
  });

  it('a whole pickled module, naming its class and what to save instead', async () => {
    await expectRefused(
      () => openTorch(formatBlob('torch/module.pt'), 'model.pt'),
      'model.pt',
      /asks for the Python object 'torch\.nn\.modules\.container\.Sequential', which is not allowed here \(only tensors .* can be read; nothing was run\); save model\.state_dict\(\) rather than the model/,
    );
  });

  it('a corrupted storage (CRC)', async () => {
    const bytes = formatBytes('torch/tensor.pt');
    const entry = centralEntries(bytes).find((e) => e.name.endsWith('/data/0'))!;
    bytes[entry.dataOffset + 3] ^= 0xff;
    const file = await openTorch(new Blob([bytes]), 'x.pt');
    await expectRefused(() => file.read('tensor'), /^x\.pt:/, /CRC mismatch/);
  });

  const cases: [string, () => Blob, RegExp][] = [
    [
      'a storage member shorter than its numel',
      () =>
        rezip('torch/tensor.pt', (m) => {
          const key = Object.keys(m).find((k) => k.endsWith('/data/0'))!;
          m[key] = m[key].subarray(0, 40);
        }),
      /declares storage '0' of 6 torch\.float64 \(48 bytes\) but the archive holds 40 bytes/,
    ],
    [
      'a missing storage member',
      () =>
        rezip('torch/tensor.pt', (m) => {
          delete m[Object.keys(m).find((k) => k.endsWith('/data/0'))!];
        }),
      /refers to storage '0', which the archive does not hold/,
    ],
    [
      'a bad byteorder record',
      () =>
        rezip('torch/tensor.pt', (m) => {
          m[Object.keys(m)[0].replace(/\/.*/, '/byteorder')] = text('middle\x1b');
        }),
      /byteorder record says 'middle\\x1b'/,
    ],
    [
      'a TorchScript archive',
      () =>
        rezip('torch/tensor.pt', (m) => {
          m[Object.keys(m)[0].replace(/\/.*/, '/constants.pkl')] = text('');
        }),
      /TorchScript archive/,
    ],
    [
      'a zip without data.pkl',
      () =>
        rezip('torch/tensor.pt', (m) => {
          delete m[Object.keys(m).find((k) => k.endsWith('/data.pkl'))!];
        }),
      /zip archive without a data\.pkl/,
    ],
    ['an .npz', () => new Blob([zipSync({ 'a.npy': new Uint8Array(4) })]), /is an \.npz archive/],
    ['a text file', () => new Blob(['hello']), /not a torch\.save file/],
    ['an empty file', () => new Blob([]), /file is empty/],
    [
      'a view reaching past its storage',
      () =>
        rezip('torch/tensor.pt', (m) => {
          const key = Object.keys(m).find((k) => k.endsWith('/data.pkl'))!;
          // size (3, 2) → (4, 2): BININT1 3, BININT1 2, TUPLE2 in the pickle.
          const pkl = m[key];
          const at = findBytes(pkl, [0x4b, 3, 0x4b, 2, 0x86]);
          pkl[at + 1] = 4;
        }),
      /reaches element 7 of a storage of 6/,
    ],
    [
      'a truncated legacy file',
      () => new Blob([formatBytes('torch/legacy.pt').subarray(0, 900)]),
      /legacy torch\.save file is truncated: its storages need 986 bytes, the file has 900/,
    ],
  ];
  it.each(cases)('%s', async (_, blob, detail) => {
    await expectRefused(() => openTorch(blob(), 'x.pt'), 'x.pt', detail);
  });

  it('a tensor over the size limit, before reading it', async () => {
    await expectRefused(
      () => openTorch(formatBlob('torch/tensor.pt'), 'x.pt', { ...DEFAULT_LIMITS, maxArrayBytes: 40 }),
      'x.pt:tensor',
      /needs 48 B, over the 40 B limit/,
    );
  });

  it('names a missing tensor and lists the others', async () => {
    const file = await openTorch(formatBlob('torch/nested.pt'), 'n.pt');
    await expectRefused(() => file.read('nope'), 'n.pt', /has no tensor 'nope' \(its tensors: layer1\.0\.conv, layer1\.acts\.0/);
  });
});

describe('openTorch fuzzed', () => {
  it.each([
    ['torch/nested.pt', 11],
    ['torch/views.pt', 12],
    ['torch/legacy.pt', 13],
  ] as const)('%s: 120 mutations, only clean InputErrors', async (rel, seed) => {
    const outcome = await fuzzReader(formatBytes(rel), (blob) => openTorch(blob, 'fuzz.pt'), seed, 120);
    expect(outcome.refused).toBeGreaterThan(0);
  });
});

describe('openTorch with a fuzzed data.pkl in a valid archive (CRC recomputed)', () => {
  it.each([
    ['torch/views.pt', 31],
    ['torch/checkpoint.pt', 32],
  ] as const)('%s: 150 mutations of the pickle, only clean InputErrors', async (rel, seed) => {
    const members = unzipSync(formatBytes(rel));
    const key = Object.keys(members).find((k) => k.endsWith('/data.pkl'))!;
    const outcome = await fuzzReader(
      members[key],
      async (pickle) => openTorch(new Blob([zipSync({ ...members, [key]: new Uint8Array(await pickle.arrayBuffer()) }, { level: 0 })]), 'fuzz.pt'),
      seed,
      150,
    );
    expect(outcome.refused).toBeGreaterThan(0);
  });
});

function findBytes(haystack: Uint8Array, needle: number[]): number {
  for (let i = 0; i + needle.length <= haystack.length; i++) if (needle.every((b, k) => haystack[i + k] === b)) return i;
  throw new Error('not found');
}
