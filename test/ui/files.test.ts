// What a drop or pick is called: its folder, its file, or its files, never a bare count (the store
// then makes the name unique among what is loaded).

import { describe, expect, it } from 'vitest';
import { nameOf } from '../../src/ui/files';

const refs = (...paths: string[]) => paths.map((path) => ({ path, file: new File([], path.split('/').pop()!) }));

describe('nameOf', () => {
  it('a folder by its name, one file by its name', () => {
    expect(nameOf(refs('acts/step_0/a.npy', 'acts/labels.npy'))).toBe('acts');
    expect(nameOf(refs('runA.npz'))).toBe('runA.npz');
  });

  it('a bundle with its labels or manifest by the bundle’s file', () => {
    expect(nameOf(refs('labels.npy', 'runA.npz'))).toBe('runA.npz');
    expect(nameOf(refs('manifest.json', 'labels.npy', 'runB.npz'))).toBe('runB.npz');
  });

  it('several files by their names, or the first and how many more', () => {
    expect(nameOf(refs('labels.npy', 'runA.npz', 'runB_final.npz'))).toBe('runA.npz + runB_final.npz');
    expect(nameOf(refs('a.npz', 'b.npz', 'c.npz', 'd.npz'))).toBe('a.npz + 3 more');
    expect(nameOf(refs('labels.npy', 'manifest.json'))).toBe('labels.npy + manifest.json');
  });
});
