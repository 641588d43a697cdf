// The layering of src/, checked on the import statements: ui and cli → state → worker → analysis →
// {gpu, math, io}, one way only; gpu/, math/ and io/ import neither React nor the store; src/cancel.ts
// is a leaf any layer may use. The main thread (state, ui) takes from analysis/ only types and the
// pure modules below, so the float64 engine and the GPU backend stay in the worker's bundle; and no
// file of src/ imports itself through others (no import circle).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
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

const imports = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm)].map(
    (m) => m[1] ?? m[2] ?? m[3],
  );

describe('layering of src/', () => {
  const files = sources(SRC).filter((f) => relative(SRC, f).includes('/'));
  it('finds the sources', () => expect(files.length).toBeGreaterThan(40));
  it.each(Object.keys(ALLOWED))('%s imports only what sits below it', (folder) => {
    const offending: string[] = [];
    for (const file of files.filter((f) => relative(SRC, f).startsWith(`${folder}/`))) {
      for (const spec of imports(file)) {
        if (!spec.startsWith('.')) {
          if (['gpu', 'math', 'io', 'analysis', 'worker'].includes(folder) && /^(react|react-dom|zustand|d3)(\/|$)/.test(spec))
            offending.push(`${relative(SRC, file)} → ${spec}`);
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

/** The analysis modules the main thread may run: pure tables and rules, no engine. */
const MAIN_THREAD_ANALYSIS = [
  'analysis/types.ts',
  'analysis/metricDefs.ts',
  'analysis/rules.ts',
  'analysis/prepare.ts',
  'analysis/compatibility.ts',
  'analysis/positions.ts',
  'analysis/memory.ts',
  'analysis/seeds.ts',
  'analysis/seedsChance.ts',
  'analysis/spread.ts',
  'analysis/chanceDefs.ts',
  'analysis/threads.ts',
];
/** Entry of gpu-check.html, a page of its own whose job is to run the GPU self-check in the page. */
const SELF_CHECK_PAGE = 'ui/gpuCheck.ts';

interface ImportEdge {
  /** The imported file, relative to src/ ('analysis/engine.ts'). */
  target: string;
  /** `import type`, `export type` or every name marked `type`: erased at build time. */
  typeOnly: boolean;
}

/** The file an import names (relative to src/), or null for packages and files outside src/. */
function resolveSpec(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = join(dirname(file), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile() && candidate.startsWith(SRC)) return relative(SRC, candidate);
  }
  return null;
}

function importEdges(file: string): ImportEdge[] {
  const text = readFileSync(file, 'utf8');
  const statements = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm;
  const edges: ImportEdge[] = [];
  for (const m of text.matchAll(statements)) {
    const spec = m[4] ?? m[5] ?? m[6];
    const target = resolveSpec(file, spec);
    if (target === null) continue;
    const names = m[3] ?? '';
    const braced = /^\{([\s\S]*)\}$/.exec(names.trim());
    const allTyped =
      braced !== null &&
      braced[1]
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .every((n) => n.startsWith('type '));
    edges.push({ target, typeOnly: m[2] !== undefined || allTyped });
  }
  return edges;
}

describe('the main thread and the import graph', () => {
  const all = sources(SRC);
  const graph = new Map(all.map((f) => [relative(SRC, f), importEdges(f)]));

  it('reads imports the way the code is written', () => {
    expect(graph.get('analysis/engine.ts')!.some((e) => e.target === 'analysis/factorCache.ts' && !e.typeOnly)).toBe(true);
    expect(graph.get('worker/workerCore.ts')!.some((e) => e.target === 'analysis/engine.ts' && e.typeOnly)).toBe(true);
  });

  it('state and ui run only the pure analysis modules (types otherwise)', () => {
    const offending: string[] = [];
    for (const [file, edges] of graph) {
      if (!/^(state|ui)\//.test(file) || file === SELF_CHECK_PAGE) continue;
      for (const e of edges)
        if (e.target.startsWith('analysis/') && !e.typeOnly && !MAIN_THREAD_ANALYSIS.includes(e.target)) offending.push(`${file} → ${e.target}`);
    }
    expect(offending).toEqual([]);
  });

  it('the pure analysis modules pull in no engine, backend or GPU code', () => {
    const reached = new Set<string>();
    const visit = (file: string) => {
      for (const e of graph.get(file) ?? []) {
        if (e.typeOnly || reached.has(e.target)) continue;
        reached.add(e.target);
        visit(e.target);
      }
    };
    MAIN_THREAD_ANALYSIS.forEach(visit);
    const heavy = [...reached].filter(
      (f) => (f.startsWith('analysis/') && !MAIN_THREAD_ANALYSIS.includes(f)) || f.startsWith('gpu/') || f.startsWith('worker/'),
    );
    expect(heavy).toEqual([]);
  });

  it('has no import circle (type imports included)', () => {
    // Depth-first search; a back edge to a file on the current path closes a circle.
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      path.push(file);
      for (const { target } of graph.get(file) ?? []) {
        if (state.get(target) === 'open') circles.push([...path.slice(path.indexOf(target)), target].join(' → '));
        else if (!state.has(target)) visit(target);
      }
      path.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(circles).toEqual([]);
  });
});
