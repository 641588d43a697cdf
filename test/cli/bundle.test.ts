// The CLI bundle's split (scripts/build-cli.mjs): main.mjs and what it imports statically are the
// help texts and the dispatch only, so --help, --version and a misspelt command never parse the
// engine; the engine's chunk is reached through the dynamic import, and a real command runs from
// it. Built into a folder of its own inside the repository (as threads.test.ts does), so that the
// external packages resolve and the other CLI tests keep build/cli.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');
const fixture = join(ROOT, 'test/fixtures/real/digits-mlp.npz');
const OUT = join(ROOT, 'build', `cli-bundle-test-${process.pid}`);
const builder = pathToFileURL(join(ROOT, 'scripts/build-cli.mjs')).href;

const build = () => run(process.execPath, ['--input-type=module', '-e', `await (await import(${JSON.stringify(builder)})).buildCli(${JSON.stringify(OUT)});`]);

beforeAll(build, 120_000);
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

/** The files a module imports statically (`import … from "./x.mjs"`), transitively, itself included. */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(OUT, file), 'utf8');
  for (const [, imported] of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s*"\.\/([^"]+)"/gms)) staticClosure(imported, seen);
  return seen;
}
const bytes = (files: Iterable<string>) => [...files].reduce((sum, f) => sum + statSync(join(OUT, f)).size, 0);

/** The bundled CLI's main(argv), as bin/svcca-lens.mjs runs it; never rejects. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = 'const { main } = await import(process.argv[1]); process.exitCode = await main(process.argv.slice(2));';
  try {
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(join(OUT, 'main.mjs')).href, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the CLI bundle', () => {
  it('main.mjs loads the help texts and the dispatch only: the engine is a chunk reached by a dynamic import', () => {
    const all = readdirSync(OUT).filter((f) => f.endsWith('.mjs'));
    const atStart = staticClosure('main.mjs');
    const engine = all.filter((f) => readFileSync(join(OUT, f), 'utf8').includes('function runCommand('));
    expect(engine).toHaveLength(1);
    expect(atStart.has(engine[0])).toBe(false);
    expect(readFileSync(join(OUT, 'main.mjs'), 'utf8')).toContain(`import("./${engine[0]}")`);
    // What --help parses against the whole CLI (the worker thread's own entry aside).
    expect(bytes(atStart)).toBeLessThan(64 * 1024);
    expect(bytes(all.filter((f) => f !== 'poolWorker.mjs'))).toBeGreaterThan(5 * bytes(atStart));
  });

  it('--help, --version and a misspelt command answer from it; a command runs from the engine chunk', async () => {
    expect(await cli('--help')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^usage:\n {2}svcca-lens compare A B/) });
    expect(await cli('--version')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^svcca-lens \d+\.\d+\.\d+\n$/) });
    const misspelt = await cli('dynamic', fixture);
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toBe('svcca-lens: unknown command dynamic; use compare, dynamics, cross, classes or view (see svcca-lens --help)\n');
    const compared = await cli('compare', `${fixture}:mlp-seed0/step_100/fc1`, `${fixture}:mlp-seed0/step_100/fc2`, '--json', '--threads', '1');
    expect(compared.code, compared.stderr).toBe(0);
    expect(JSON.parse(compared.stdout)).toMatchObject({ metric: 'svcca', datapoints: expect.any(Number) });
  });

  it('a rebuild removes the chunks an earlier build left beside it', async () => {
    const stale = join(OUT, 'chunk-STALE000.mjs');
    writeFileSync(stale, 'export {};\n');
    await build();
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(join(OUT, 'main.mjs'))).toBe(true);
  }, 120_000);
});
