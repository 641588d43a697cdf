// `--threads N` through the CLI bundle as `npm ci` builds it (scripts/build-cli.mjs: main.mjs and its
// worker thread, poolWorker.mjs; built here into a folder of its own, so that the CLI tests running
// alongside keep theirs): the JSON on 2 threads is the JSON on 1 thread, to the last bit, but for
// provenance.threads; a bad count is refused in one line.

import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');
const fixture = join(ROOT, 'test/fixtures/real/digits-mlp.npz');
/** Inside the repository, so that the bundle's external packages (h5wasm, webgpu) resolve as in build/cli. */
const OUT = join(ROOT, 'build', `cli-threads-test-${process.pid}`);
const builder = pathToFileURL(join(ROOT, 'scripts/build-cli.mjs')).href;

beforeAll(async () => {
  await run(process.execPath, ['--input-type=module', '-e', `await (await import(${JSON.stringify(builder)})).buildCli(${JSON.stringify(OUT)});`]);
}, 120_000);
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

/** The bundled CLI's main(argv), as bin/svcca-lens.mjs runs it. */
const cli = (args: string[]) =>
  run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      'const { main } = await import(process.argv[1]); process.exitCode = await main(process.argv.slice(2));',
      pathToFileURL(join(OUT, 'main.mjs')).href,
      ...args,
    ],
    { maxBuffer: 1 << 26 },
  );

describe('svcca-lens --threads', () => {
  it('the bundled worker thread gives the one-thread JSON exactly (dynamics with the chance level)', async () => {
    expect(existsSync(join(OUT, 'poolWorker.mjs'))).toBe(true);
    const args = ['dynamics', fixture, '--json', '--baseline', '4', '--backend', 'cpu'];
    const [one, two] = await Promise.all(['1', '2'].map(async (threads) => JSON.parse((await cli([...args, '--threads', threads])).stdout)));
    expect(one.provenance.threads).toBe(1);
    expect(two.provenance.threads).toBe(2);
    expect({ ...two, provenance: { ...two.provenance, threads: 1 } }).toEqual(one);
  });

  it('refuses a count that is not a whole number from 1 to 16', async () => {
    const failed = cli(['dynamics', fixture, '--threads', '0']);
    await expect(failed).rejects.toMatchObject({
      code: 2,
      stderr: 'svcca-lens: --threads must be a whole number from 1 to 16 (got 0) (see svcca-lens --help)\n',
    });
  });
});
