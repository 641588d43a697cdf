// The layering of src/, checked on the import statements: ui and cli → state → worker → analysis →
// {gpu, math, io}, one way only; gpu/, math/ and io/ import neither React nor the store; src/cancel.ts
// is a leaf any layer may use.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(__dirname, '..', 'src');

/** Which top-level folders each folder of src/ may import from (besides itself and src/cancel.ts). */
const ALLOWED: Record<string, string[]> = {
  ui: ['state', 'worker', 'analysis', 'gpu', 'math', 'io'],
  cli: ['analysis', 'gpu', 'math', 'io'],
  state: ['worker', 'analysis', 'math', 'io'],
  worker: ['analysis', 'gpu', 'math', 'io'],
  analysis: ['gpu', 'math', 'io'],
  gpu: [],
  math: [],
  io: [],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}

const imports = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm)].map((m) => m[1] ?? m[2] ?? m[3]);

describe('layering of src/', () => {
  const files = sources(SRC).filter((f) => relative(SRC, f).includes('/'));
  it('finds the sources', () => expect(files.length).toBeGreaterThan(40));
  it.each(Object.keys(ALLOWED))('%s imports only what sits below it', (folder) => {
    const offending: string[] = [];
    for (const file of files.filter((f) => relative(SRC, f).startsWith(`${folder}/`))) {
      for (const spec of imports(file)) {
        if (!spec.startsWith('.')) {
          if (['gpu', 'math', 'io', 'analysis', 'worker'].includes(folder) && /^(react|react-dom|zustand|d3)(\/|$)/.test(spec)) offending.push(`${relative(SRC, file)} → ${spec}`);
          continue;
        }
        const target = relative(SRC, join(file, '..', spec));
        if (target.startsWith('..')) continue; // shaders/*.wgsl?raw and the like, outside src/
        const top = target.split('/')[0];
        if (top === folder || top === 'cancel' || (!target.includes('/') && top !== 'main.tsx')) continue;
        if (!ALLOWED[folder].includes(top)) offending.push(`${relative(SRC, file)} → ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
