// The CLI end to end, spawned as a user runs it (node bin/svcca-lens.mjs = npx svcca-lens).
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy';
import { multiply } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { add } from '../helpers/data';
import { TOL, expectClose } from '../helpers/tolerance';

const run = promisify(execFile);
const bin = join(__dirname, '../../bin/svcca-lens.mjs');
let dir: string;

/** Vulkan's driver as vite.config.ts chose it for the Node GPU tests (SwiftShader on a GPU-less Linux). */
const vulkanDriver = process.env.VK_ICD_FILENAMES;

/** Runs the CLI as a user on this machine would; `vulkan` names the Vulkan driver Dawn may use
 *  (by default none is named, as on a GPU-less machine). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWith({}, ...args);
}

async function cliWith(vulkan: { driver?: string }, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.VK_ICD_FILENAMES;
  if (vulkan.driver) env.VK_ICD_FILENAMES = vulkan.driver;
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: dir, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Saves an n × m (neurons × datapoints) matrix as google/svcca does: neurons-first (n, m). */
const neuronsFirst = (x: { rows: number; cols: number; data: Float64Array }) => encodeNpy([x.rows, x.cols], x.data);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svcca-cli-'));
  // The semantics doc's reference case: Y = A·X + 5·N, neurons-first files.
  const x = randn(1, 50, 2000);
  const y = add(multiply(randn(3, 50, 50), x), randn(4, 50, 2000), 5);
  writeFileSync(join(dir, 'x.npy'), neuronsFirst(x));
  writeFileSync(join(dir, 'y.npy'), neuronsFirst(y));
  writeFileSync(join(dir, 'y1.npy'), neuronsFirst(add(multiply(randn(3, 50, 50), x), randn(4, 50, 2000), 1)));
  writeFileSync(join(dir, 'yr.npy'), neuronsFirst(randn(2, 50, 2000)));
  // A bundle: step_<N>/<layer> members, datapoints-first (300, n), float32.
  const members: Record<string, Uint8Array> = {};
  for (const step of [1, 2, 10]) {
    for (const [layer, n] of [
      ['fc1', 6],
      ['fc2', 4],
    ] as const) {
      const a = randn(step * 10 + n, 300, n);
      members[`step_${step}/${layer}.npy`] = encodeNpy([300, n], Float32Array.from(a.data));
    }
  }
  writeFileSync(join(dir, 'run.npz'), zipSync(members, { level: 0 }));
  // The same arrays as a folder step_<N>/<layer>.npy: the same content hash.
  for (const [member, bytes] of Object.entries(members)) {
    mkdirSync(join(dir, 'runfolder', member.split('/')[0]), { recursive: true });
    writeFileSync(join(dir, 'runfolder', member), bytes);
  }
  // A conv layer stored NCHW (300, 4, 3, 3) beside a dense one, as a small CNN's export.
  const conv: Record<string, Uint8Array> = {};
  for (const step of [0, 5]) {
    conv[`step_${step}/conv1.npy`] = encodeNpy([300, 4, 3, 3], Float32Array.from(randn(100 + step, 1, 300 * 36).data));
    conv[`step_${step}/logits.npy`] = encodeNpy([300, 5], Float32Array.from(randn(200 + step, 300, 5).data));
  }
  writeFileSync(join(dir, 'cnn.npz'), zipSync(conv, { level: 0 }));
  mkdirSync(join(dir, 'other'));
  writeFileSync(join(dir, 'other', 'truncated.npy'), encodeNpy([10, 3], new Float32Array(30)).subarray(0, 100));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('svcca-lens compare', () => {
  it('--json reproduces the reference CCA values (float64)', async () => {
    const { code, stdout } = await cli('compare', 'x.npy', 'y.npy', '--metric', 'cca', '--epsilon', '0', '--json');
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(Object.keys(r)).toEqual(
      expect.arrayContaining(['metric', 'similarity', 'mean98', 'rho', 'kept', 'datapoints', 'neurons', 'conventions', 'warnings']),
    );
    expectClose([r.similarity, r.mean98], [0.6584066005202817, 0.7186799900570044], TOL.f64Reference, 'cca');
    expect(r.kept).toEqual([50, 50]);
    expect(r.datapoints).toBe(2000);
    expect(r.conventions.layout).toEqual(['neurons-first', 'neurons-first']);
  });
  it('PWCCA through the CLI', async () => {
    const { stdout } = await cli('compare', 'x.npy', 'y.npy', '--metric', 'pwcca', '--json');
    expectClose(JSON.parse(stdout).similarity, 0.661973300034795, TOL.f64Reference, 'pwcca');
  });
  it('prints a readable table without --json', async () => {
    const { code, stdout } = await cli('compare', 'x.npy', 'y.npy');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^similarity\s+0\.\d{6}/m);
    expect(stdout).toMatch(/^kept\s+\d+ \/ \d+/m);
  });
  it('reads npz members as FILE:MEMBER', async () => {
    const { code, stdout } = await cli('compare', 'run.npz:step_10/fc1', 'run.npz:step_1/fc2', '--json', '--metric', 'cka');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).metric).toBe('cka');
  });
});

describe('svcca-lens dynamics and cross', () => {
  it('dynamics --json has the documented schema with steps sorted numerically', async () => {
    const { code, stdout } = await cli('dynamics', 'run.npz', '--json');
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(r.steps).toEqual([1, 2, 10]);
    expect(r.layers).toEqual(['fc1', 'fc2']);
    expect(r.reference).toBe(10);
    expect(r.values).toHaveLength(3);
    expect(r.values[0]).toHaveLength(2);
    expectClose(r.values[2][0][0], 1, 1e-9, 'self at reference');
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['metric', 'conventions', 'warnings']));
  });
  it('dynamics --json says what it is: bundle, run, options, backend, version and a content hash of the arrays read', async () => {
    const r = JSON.parse((await cli('dynamics', 'run.npz', '--json')).stdout);
    expect(r).toMatchObject({ bundle: 'run.npz', run: null, leftOut: [], inputArrays: 6, app: { name: 'svcca-lens', version: '0.1.0' } });
    expect(r.options).toEqual({
      metric: 'svcca',
      keep: { kind: 'variance', fraction: 0.99 },
      epsilon: 1e-10,
      layout: 'auto',
      convLayout: null,
      convReduction: null,
      pwccaVariant: null,
    });
    expect(r.computed).toEqual({ backend: 'cpu', precision: 'float64', reason: r.conventions.backendReason });
    // The hash, recomputed here from its definition: SHA-256 per array over "dtype|shape|" + the
    // float32 bytes, then SHA-256 over "run/step/layer digest" lines (steps ascending), 12 hex digits.
    const { createHash } = await import('node:crypto');
    const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
    const lines = [1, 2, 10].flatMap((step) =>
      (['fc1', 'fc2'] as const).map((layer) => {
        const n = layer === 'fc1' ? 6 : 4;
        const data = Float32Array.from(randn(step * 10 + n, 300, n).data);
        const head = Buffer.from(`<f4|300,${n}|`);
        return `/${step}/${layer} ${sha(Buffer.concat([head, Buffer.from(data.buffer)]))}`;
      }),
    );
    expect(r.inputHash).toBe(sha(lines.join('\n')).slice(0, 12));
    // The same arrays in a folder: the same hash; another reference step reads the same arrays.
    const folder = JSON.parse((await cli('dynamics', 'runfolder', '--json')).stdout);
    expect(folder.bundle).toBe('runfolder');
    expect(folder.inputHash).toBe(r.inputHash);
    const cross = JSON.parse((await cli('cross', 'run.npz', 'runfolder', '--step', '2', '--json')).stdout);
    expect(cross).toMatchObject({ bundleA: 'run.npz', bundleB: 'runfolder', runA: null, runB: null, inputArrays: 4 });
    expect(cross.inputHash).toMatch(/^[0-9a-f]{12}$/);
  });
  it('CKA or PWCCA on conv layers without --conv (dynamics and compare): a reduction that works, said on stderr and in the JSON; --conv dft asked for is refused', async () => {
    const cka = await cli('dynamics', 'cnn.npz', '--metric', 'cka', '--json');
    expect(cka.code).toBe(0);
    const r = JSON.parse(cka.stdout);
    expect(r.conventions.convReduction).toBe('flatten');
    expect(r.options.convReduction).toBe('flatten');
    expect(r.warnings[0]).toBe('CKA does not run through the DFT (SVCCA and CCA only), so conv layers now use flatten. Pass --conv to choose another.');
    expect(cka.stderr).toContain('so conv layers now use flatten');
    // The stored shape and how it was read, not the internal order.
    expect(r.warnings).toContain('layer conv1: conv layer stored (300, 4, 3, 3), read as NCHW: C=4, H=W=3; reduced with flatten: 36 features');
    // On stderr that line is a note (what was done), the switch of reduction a warning (as the app's Notes and Warnings).
    expect(cka.stderr).toContain('svcca-lens: note: layer conv1: conv layer stored (300, 4, 3, 3), read as NCHW');
    expect(cka.stderr).not.toContain('warning: layer conv1: conv layer stored');
    expect(cka.stderr).toContain('svcca-lens: warning: CKA does not run through the DFT');
    const pwcca = JSON.parse((await cli('dynamics', 'cnn.npz', '--metric', 'pwcca', '--json')).stdout);
    expect(pwcca.conventions.convReduction).toBe('meanpool');
    const refused = await cli('dynamics', 'cnn.npz', '--metric', 'cka', '--conv', 'dft');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/conv1: is a conv layer and the DFT reduction works with SVCCA and CCA only/);
    // compare of two arrays does the same.
    const lone = await cli('compare', 'cnn.npz:step_0/conv1', 'cnn.npz:step_0/logits', '--metric', 'cka', '--json');
    expect(lone.code).toBe(0);
    const pair = JSON.parse(lone.stdout);
    expect(pair.conventions.convReduction).toBe('flatten');
    expect(pair.warnings[0]).toBe('CKA does not run through the DFT (SVCCA and CCA only), so conv layers now use flatten. Pass --conv to choose another.');
    expect((await cli('compare', 'cnn.npz:step_0/conv1', 'cnn.npz:step_0/logits', '--metric', 'cka', '--conv', 'dft')).code).toBe(2);
  });
  it('--conv positions with a dense layer: conv × dense cells are null in the JSON, "—" in the table, one warning, exit 0', async () => {
    const positions = await cli('dynamics', 'cnn.npz', '--metric', 'cka', '--conv', 'positions', '--json');
    expect(positions.code).toBe(0);
    const r = JSON.parse(positions.stdout);
    expect(r.layers).toEqual(['conv1', 'logits']);
    for (const grid of r.values) {
      // conv1 (N·H·W = 2 700) against itself and logits (300) against itself compute; the mixed pairs are null.
      expect(grid[0][1]).toBeNull();
      expect(grid[1][0]).toBeNull();
      expect(typeof grid[0][0]).toBe('number');
      expect(typeof grid[1][1]).toBe('number');
    }
    expectClose(r.values[1][0][0], 1, 1e-9, 'conv1 against itself at the reference');
    const why =
      'layer conv1 (N·H·W = 2\u202f700 datapoints) and layer logits (300 datapoints): positions compares layers at the same spatial size only; choose mean-pool or flatten to compare them; its cells are left empty';
    expect(r.warnings).toContain(why);
    expect(positions.stderr).toContain(why);
    const table = await cli('cross', 'cnn.npz', 'cnn.npz', '--metric', 'cka', '--conv', 'positions');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/conv1\s+1\.0000\s+—/);
    // One array against another of a different size is refused, naming both.
    const lone = await cli('compare', 'cnn.npz:step_0/conv1', 'cnn.npz:step_0/logits', '--conv', 'positions');
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain('under positions but');
  });
  it('dynamics --reference picks another step', async () => {
    const r = JSON.parse((await cli('dynamics', 'run.npz', '--json', '--reference', '2')).stdout);
    expect(r.reference).toBe(2);
  });
  it('cross --json', async () => {
    const { code, stdout } = await cli('cross', 'run.npz', 'run.npz', '--step', '2', '--json');
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(r.step).toBe(2);
    expect(r.layersA).toEqual(['fc1', 'fc2']);
    expectClose(r.values[1][1], 1, 1e-9, 'same layer');
  });
});

describe('svcca-lens --backend webgpu (Dawn, through the optional webgpu package)', () => {
  // The semantics doc's reference values (cca_core.get_cca_similarity, epsilon = 0), f32 tolerances.
  const references: [string, number, number, number[]][] = [
    ['yr.npy', 0.133122, 0.151931, [0.286105, 0.276346, 0.269328]],
    ['y1.npy', 0.917336, 0.94444, []],
    ['y.npy', 0.658407, 0.71868, []],
  ];
  for (const [file, mean, mean98, rho] of references) {
    it.runIf(vulkanDriver)(`reproduces the reference CCA values of the semantics doc: X vs ${file}`, async () => {
      const { code, stdout, stderr } = await cliWith(
        { driver: vulkanDriver },
        'compare',
        'x.npy',
        file,
        '--metric',
        'cca',
        '--epsilon',
        '0',
        '--json',
        '--backend',
        'webgpu',
      );
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/svcca-lens: backend: WebGPU \(float32\) on .*as chosen/);
      const r = JSON.parse(stdout);
      expect(r.conventions.backend).toBe('webgpu');
      expectClose([r.similarity, r.mean98], [mean, mean98], TOL.f32Mean + TOL.printed6, `cca on webgpu, ${file}`);
      expectClose(r.rho.slice(0, rho.length), rho, TOL.f32Rho, `ρ on webgpu, ${file}`);
      expect(r.kept).toEqual([50, 50]);
    });
  }
  it.runIf(vulkanDriver)('dynamics on webgpu matches dynamics on cpu', async () => {
    const gpu = await cliWith({ driver: vulkanDriver }, 'dynamics', 'run.npz', '--json', '--backend', 'webgpu');
    const cpu = await cli('dynamics', 'run.npz', '--json', '--backend', 'cpu');
    expect(gpu.code, gpu.stderr).toBe(0);
    const g = JSON.parse(gpu.stdout);
    const c = JSON.parse(cpu.stdout);
    expect(g.conventions.backend).toBe('webgpu');
    expectClose(g.values.flat(2), c.values.flat(2), TOL.f32Mean, 'dynamics grid');
  });
});

describe('svcca-lens errors: exit 2, one line, no stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['missing file', ['compare', 'nope.npy', 'x.npy'], /^svcca-lens: nope\.npy: no such file$/],
    ['truncated npy', ['compare', 'other/truncated.npy', 'x.npy'], /^svcca-lens: other\/truncated\.npy: .*truncated|^svcca-lens: other\/truncated\.npy: /],
    ['missing member', ['compare', 'run.npz:step_3/fc1', 'x.npy'], /^svcca-lens: run\.npz(:step_3\/fc1)?: /],
    ['different datapoints', ['compare', 'x.npy', 'run.npz:step_1/fc1'], /^svcca-lens: x\.npy: has 2000 datapoints but run\.npz:step_1\/fc1 has 300/],
    [
      'bad option',
      ['compare', 'x.npy', 'y.npy', '--metric', 'bogus'],
      /^svcca-lens: --metric must be one of svcca, cca, pwcca, cka, cka-debiased \(got bogus\)/,
    ],
    ['unknown command', ['frobnicate'], /^svcca-lens: unknown command frobnicate/],
    ['missing reference step', ['dynamics', 'run.npz', '--reference', '5'], /^svcca-lens: run\.npz: has no step 5/],
  ];
  for (const [label, args, pattern] of cases) {
    it(label, async () => {
      const { code, stderr, stdout } = await cli(...args);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      const lines = stderr.trimEnd().split('\n');
      expect(lines, stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
      expect(stderr).not.toMatch(/\n\s+at /);
    });
  }
  it('--backend webgpu without an adapter says what to do (after any lines the Vulkan loader prints itself)', async () => {
    // A Vulkan driver file that does not exist: Dawn finds no usable adapter.
    const { code, stderr, stdout } = await cliWith({ driver: '/nonexistent/vk_icd.json' }, 'compare', 'x.npy', 'y.npy', '--backend', 'webgpu');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const ours = stderr
      .trimEnd()
      .split('\n')
      .filter((line) => line.startsWith('svcca-lens:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/^svcca-lens: --backend webgpu: (no WebGPU adapter|no WebGPU API here).*use --backend cpu\)/);
  });
  it('auto says which backend ran and why, in the JSON conventions', async () => {
    const r = JSON.parse((await cli('compare', 'x.npy', 'y.npy', '--json')).stdout);
    expect(r.conventions.backend).toBe('cpu');
    expect(r.conventions.backendReason).toMatch(/^CPU \(float64\)/);
  });
  it('warnings go to stderr and into the JSON', async () => {
    const { stdout, stderr } = await cli('compare', 'run.npz:step_1/fc1', 'run.npz:step_1/fc2', '--metric', 'cca', '--json', '--dims', '3');
    const r = JSON.parse(stdout);
    expect(Array.isArray(r.warnings)).toBe(true);
    for (const w of r.warnings) expect(stderr).toContain(w);
  });
  it('--help prints the usage and exits 0', async () => {
    const { code, stdout } = await cli('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/svcca-lens compare A B/);
  });
  it('--version (and -V) prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const { code, stdout } = await cli(flag);
      expect(code).toBe(0);
      expect(stdout).toBe(`svcca-lens ${version}\n`);
    }
  });

  for (const command of ['compare', 'dynamics', 'cross', 'view']) {
    it(`${command} --help prints that command's usage, options and examples, and exits 0 (-h too)`, async () => {
      for (const flag of ['--help', '-h']) {
        const { code, stdout, stderr } = await cli(command, 'whatever.npz', flag);
        expect(code, stderr).toBe(0);
        expect(stdout).toMatch(new RegExp(`^usage: svcca-lens ${command} `));
        expect(stdout).toMatch(/\nexamples:\n/);
        expect(stdout).toMatch(/exit status: 0 done; 2 bad input/);
        if (command !== 'view') expect(stdout).toMatch(/--metric svcca\|cca/);
      }
    });
  }
});
