// A hostile file cannot write to the user's terminal through the CLI: names and header text taken
// from a file reach stdout and stderr with every control and bidi character escaped, in text and
// JSON output and in error messages (JSON still parses to the names as stored).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy';
import { randn } from '../../src/math/random';

const run = promisify(execFile);
const bin = join(__dirname, '../../bin/svcca-lens.mjs');
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const HOSTILE_LAYERS = ['fc\u001b[2J', 'fc\u009b1m', 'fc\u202eevil'];
let dir: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcca-hostile-'));
  const members: Record<string, Uint8Array> = {};
  for (const step of [1, 2]) {
    HOSTILE_LAYERS.forEach((layer, l) => {
      members[`step_${step}/${layer}.npy`] = encodeNpy([60, 5], Float32Array.from(randn(10 * step + l, 60, 5).data));
    });
  }
  writeFileSync(join(dir, 'hostile.npz'), zipSync(members, { level: 0 }));
  // A member whose bytes are not an .npy at all, under a name that sets the terminal's title.
  writeFileSync(join(dir, 'broken.npz'), zipSync({ 'x\u001b]0;pwned\u0007.npy': new TextEncoder().encode('not an npy \u001b[31m') }, { level: 0 }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('svcca-lens with names that carry terminal controls', () => {
  it('text output escapes them', async () => {
    const { code, stdout, stderr } = await cli('dynamics', 'hostile.npz', '--backend', 'cpu');
    expect(code, stderr).toBe(0);
    expect(stdout).not.toMatch(RAW_CONTROL);
    expect(stderr).not.toMatch(RAW_CONTROL);
    expect(stdout).toContain('fc\\x1b[2J');
  });

  it('JSON output escapes them and still parses to the stored names', async () => {
    const { code, stdout } = await cli('dynamics', 'hostile.npz', '--backend', 'cpu', '--json');
    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW_CONTROL);
    const layers = (JSON.parse(stdout) as { layers: string[] }).layers;
    expect([...layers].sort()).toEqual([...HOSTILE_LAYERS].sort());
  });

  it('error messages escape them', async () => {
    const { code, stderr } = await cli('compare', 'broken.npz:x\u001b]0;pwned\u0007', 'broken.npz:x\u001b]0;pwned\u0007');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^svcca-lens: /);
    expect(stderr).not.toMatch(RAW_CONTROL);
    expect(stderr).toContain('\\x1b');
  });
});

describe('svcca-lens with a bad file beside a good bundle', () => {
  it('a stray unreadable file outside the step × layer grid is a warning naming it, not the loss of the bundle', async () => {
    const folder = join(dir, 'runs');
    for (const step of [1, 2]) {
      mkdirSync(join(folder, `step_${step}`), { recursive: true });
      for (const layer of ['fc1', 'fc2'])
        writeFileSync(join(folder, `step_${step}`, `${layer}.npy`), encodeNpy([60, 4], Float32Array.from(randn(step * 7 + layer.length, 60, 4).data)));
    }
    writeFileSync(join(folder, 'notes.npy'), 'not an array at all');
    const { code, stdout, stderr } = await cli('dynamics', 'runs', '--backend', 'cpu', '--json');
    expect(code, stderr).toBe(0);
    expect((JSON.parse(stdout) as { layers: string[] }).layers).toEqual(['fc1', 'fc2']);
    expect(stderr).toMatch(/warning: runs: left out 1 file\(s\) or member\(s\) .*runs\/notes\.npy; could not be read: runs\/notes\.npy: not a \.npy file/);
    // The same file alone, or at a grid position, still refuses with the reader's reason.
    const alone = await cli('dynamics', 'runs/notes.npy');
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/^svcca-lens: notes\.npy: not a \.npy file/);
    writeFileSync(join(folder, 'step_2', 'fc3.npy'), 'broken');
    const inGrid = await cli('dynamics', 'runs', '--backend', 'cpu');
    expect(inGrid.code).toBe(2);
    expect(inGrid.stderr).toMatch(/fc3\.npy: not a \.npy file/);
  });
});
