// The last stage of a device run (scripts/device-summary.ts, bundled as summary.mjs by
// scripts/device-bench.sh prepare): on two recorded runs of the real script on this machine's
// SwiftShader (DEVICE_DRY_RUN=1, test/fixtures/device-run/: the tarball `run` leaves in $OUT), one
// complete at the smoke sizes and one cut short at the quick sizes (parity and the larger job hit
// their timeouts); then the verdicts, on the same files made to read as a full-size hardware run.
// Also the benchmark's --only selection, which the device run uses to run one job per process.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { selectParts } from '../../scripts/bench-webgpu';
import { counters, formatSummary, gpuBusy, readDeviceRun, summarize, type DeviceRun, type SummaryRow } from '../../scripts/device-summary';

const root = join(__dirname, '../..');
const fixtures = join(root, 'test/fixtures/device-run');
const scratch = mkdtempSync(join(tmpdir(), 'svcca-device-summary-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A recorded run's files, unpacked as the next session would unpack them. */
function unpack(name: string): string {
  const dir = join(scratch, name);
  execFileSync('mkdir', ['-p', dir]);
  execFileSync('tar', ['-xzf', join(fixtures, `${name}.tar.gz`), '-C', dir]);
  return dir;
}

const row = (rows: SummaryRow[], start: string) => {
  const found = rows.find((r) => r.what.startsWith(start));
  if (!found) throw new Error(`no row starting "${start}" in: ${rows.map((r) => r.what).join(' | ')}`);
  return found;
};

describe('device run summary', () => {
  it('reads a complete smoke run on SwiftShader: every figure present, none judged but parity', () => {
    const run = readDeviceRun(unpack('swiftshader-smoke'));
    expect(run.stages.map((s) => `${s.stage} ${s.status}`)).toEqual([
      'smoke ok',
      'products ok',
      'pair ok',
      'eigen ok',
      'job-0 ok',
      'parity ok',
      'torch ok',
      'torch-extras ok',
    ]);
    // The reference's two stages read as one: the core's f32 figure and the extras' columns per job.
    expect(run.torch!.jobs[0]).toEqual(
      expect.objectContaining({ torch_f32_s: expect.any(Number), torch_f64_s: expect.any(Number), numpy_f64_s: expect.any(Number) }),
    );
    const { header, rows } = summarize(run, 67_000);
    expect(header[0]).toMatch(/^svcca-lens on WebGPU \(float32\) on google swiftshader .* \(software\)$/);
    expect(header[1]).toContain('cpu (no CUDA: PyTorch on the CPU');
    expect(header[2]).toMatch(/^sizes: SMOKE/);
    const job = row(rows, 'dynamics 2 layers × 2 checkpoints, n = 8, m = 100');
    const ours = run.jobs.get(0)!.result.jobs[0];
    const reference = run.torch!.jobs[0].torch_f32_s!;
    expect(job.ours).toMatch(/ ms$/);
    expect(job.reference).toMatch(/ ms PyTorch f32$/);
    // The ratio printed is PyTorch's time over ours, from these two files.
    expect(reference / ours.gpuSeconds).toBeLessThan(1);
    expect(job.ratio).toBe(`${Number((reference / ours.gpuSeconds).toPrecision(2))}×`);
    expect(job.verdict).toBe('not judged (SMOKE sizes)');
    expect(row(rows, '  GPU busy').ours).toMatch(/^\d+% \(/);
    expect(row(rows, 'one SVCCA pair, n = 16, m = 200').verdict).toBe('not judged (SMOKE sizes)');
    expect(row(rows, 'product X·Yᵀ, 64 × 256').ratio).toMatch(/of the 67 TFLOP\/s peak; .*× SGEMM$/);
    expect(row(rows, 'eigendecomposition 16 × 16').verdict).toBe('not judged (not 512)');
    const parity = row(rows, 'precision parity');
    expect(parity.ours).toMatch(/^PASS: \d+ values, worst \|Δ\| \d\.\de-\d, 0 outside, \d+ in float64$/);
    expect(parity.verdict).toBe('met');
    const text = formatSummary(run, 67_000);
    expect(text).toMatch(/^DEVICE RUN SUMMARY\n/);
    expect(text).toContain('stages: smoke ok 3 s, products ok 2 s, pair ok 1 s, eigen ok 1 s, job-0 ok 2 s, parity ok 35 s, torch ok 2 s, torch-extras ok 3 s');
    expect(text).toMatch(/\ndynamics 2 layers × 2 checkpoints, n = 8, m = 100 +[\d.]+ ms +[\d.]+ ms +[\d.]+ ms +[\d.]+ ms +[\d.]+ ms\n/);
    expect(text.trimEnd().split('\n').at(-1)).toBe('targets: 1 met, 0 not met, 5 not judged');
  });

  it('says which parts of a run cut short did not finish, and why', () => {
    const run = readDeviceRun(unpack('swiftshader-quick-cut-short'));
    const { rows } = summarize(run, 67_000);
    const small = row(rows, 'dynamics 4 layers × 4 checkpoints');
    expect(small.ours).toMatch(/ s$/);
    const large = row(rows, 'dynamics 5 layers × 6 checkpoints');
    expect(large.ours).toBe('did not finish within its 46 s');
    // PyTorch did finish that job: its figure stays, with no ratio to make.
    expect(large.reference).toMatch(/ ms PyTorch f32$/);
    expect(large.verdict).toBe('NOT met (no figure)');
    const parity = row(rows, 'precision parity');
    expect(parity.ours).toMatch(/^incomplete: \d+ values/);
    expect(parity.verdict).toBe('NOT met (did not finish within its 20 s)');
    const text = formatSummary(run, 67_000);
    expect(text).toContain('parity timeout 20 s (limit 20 s)');
    expect(text).toContain('job-1 timeout 46 s (limit 46 s), torch-extras skipped');
    // The extras were skipped: their columns are empty, the targets' reference is there.
    expect(text).toMatch(/\ndynamics 5 layers × 6 checkpoints, n ≤ 128, m = 2000 +— +[\d.]+ ms +— +— +—\n/);
  });

  it('judges each target on a full-size run on a hardware adapter with PyTorch on CUDA', () => {
    const run = readDeviceRun(unpack('swiftshader-quick-cut-short'));
    // The recorded files, made to read as the H200 run the script is for: full sizes, no software
    // adapter, PyTorch on CUDA, and figures on both sides of each threshold.
    const asHardware = (r: DeviceRun): DeviceRun => {
      for (const file of [r.products, r.pair, r.eigen, r.smoke, ...r.jobs.values()]) if (file) file.result.software = false;
      r.sizes!.sizes = 'FULL';
      r.torch!.cuda = true;
      return r;
    };
    asHardware(run);
    const small = run.jobs.get(0)!.result.jobs[0];
    const smallReference = run.torch!.jobs.find((j) => j.name === small.name)!;
    smallReference.torch_f32_s = 2.5 * small.gpuSeconds; // 2.5× PyTorch's speed
    small.gpuMillisecondsByStage = { 'factor.gram': 600 * small.gpuSeconds, 'jacobi.sweeps': 200 * small.gpuSeconds }; // 80% busy
    expect(Math.abs(gpuBusy(small)! - 0.8)).toBeLessThan(1e-12);
    run.pair!.result.pair.seconds = 0.04;
    run.torch!.pair_factored_f32_s = 0.06; // 1.5×: not enough
    const product = run.products!.result.products.at(-1)!;
    product.gflops = 0.31 * 67_000;
    const eigen = run.eigen!.result.eigen;
    for (const e of eigen) e.n = 512;
    eigen.find((e) => e.chosen)!.seconds = 0.031;
    const { rows } = summarize(run, 67_000);
    expect(row(rows, small.name)).toMatchObject({ ratio: '2.50×', target: '≥ 2× PyTorch', verdict: 'met' });
    expect(row(rows, '  GPU busy')).toMatchObject({ target: '≥ 70%', verdict: 'met' });
    expect(row(rows, 'dynamics 5 layers × 6 checkpoints').verdict).toBe('NOT met (no figure)');
    expect(row(rows, 'one SVCCA pair')).toMatchObject({ ratio: '1.50×', verdict: 'NOT met' });
    expect(row(rows, 'product X·Yᵀ')).toMatchObject({ target: '≥ 30% of the f32 peak', verdict: 'met' });
    expect(row(rows, 'product X·Yᵀ').ratio).toMatch(/^31% of the 67 TFLOP\/s peak/);
    expect(row(rows, 'eigendecomposition 512 × 512')).toMatchObject({ target: '≤ 30 ms', verdict: 'NOT met' });
    // Without a peak the kernel is not judged; with PyTorch on the CPU no speed ratio is.
    expect(row(summarize(run, null).rows, 'product X·Yᵀ').verdict).toBe('not judged (no --peak-gflops)');
    run.torch!.cuda = false;
    expect(row(summarize(run, 67_000).rows, small.name).verdict).toBe('not judged (PyTorch not on CUDA)');
  });

  it('lists the engine counters of a job (dispatches, submissions, readbacks) when the benchmark reports them', () => {
    const job = {
      name: 'j',
      gpuSeconds: 1,
      gpuMillisecondsByStage: null,
      maxDelta: null,
      dispatches: 120,
      work: { readbacks: 3, bytes: 9, byLabel: { 'pairs.gram': { dispatches: 4 } } },
    };
    expect(counters(job)).toEqual([
      ['dispatches', 120],
      ['work.readbacks', 3],
    ]);
    expect(gpuBusy(job)).toBeNull();
  });

  it('runs as the device runs it: bundled into one file, on a run folder, writing summary.json', async () => {
    const dir = unpack('swiftshader-smoke');
    const bundle = join(scratch, 'summary.mjs');
    await promisify(execFile)(process.execPath, [join(root, 'scripts/bundle-device-bench.mjs'), bundle, 'scripts/device-summary.ts']);
    rmSync(join(dir, 'summary.json'));
    const { stdout } = await promisify(execFile)(process.execPath, [bundle, dir, '--peak-gflops', '67000']);
    expect(stdout).toBe(`${formatSummary(readDeviceRun(dir), 67_000)}\n`);
    const json = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(json.peakGflops).toBe(67_000);
    expect(json.rows.map((r: SummaryRow) => r.verdict)).toContain('met');
    expect(json.stages).toHaveLength(8);
  }, 60_000);
});

describe('benchmark part selection (--only)', () => {
  const config = {
    products: [[256, 5000] as [number, number]],
    eigen: [128, 512],
    pair: { n: 512, m: 10_000 },
    jobs: ['a', 'b', 'c'].map((name) => ({ name, widths: [8], steps: 2, datapoints: 100, cpu: false })),
  };

  it('keeps only the parts named; a pair left out becomes the smallest one', () => {
    expect(selectParts(config, null)).toBe(config);
    expect(selectParts(config, 'job=2')).toEqual({ products: [], eigen: [], pair: { n: 16, m: 200 }, jobs: [config.jobs[2]] });
    expect(selectParts(config, 'products,pair')).toEqual({ products: config.products, eigen: [], pair: config.pair, jobs: [] });
    expect(selectParts(config, 'eigen,jobs').jobs).toHaveLength(3);
  });

  it('names what it cannot select', () => {
    expect(() => selectParts(config, 'job=3')).toThrow('--only job=3: this size set has 3 jobs (job=0 … job=2; --list shows them)');
    expect(() => selectParts(config, 'kernels')).toThrow('--only: unknown part kernels (products, eigen, pair, jobs, job=N)');
    expect(() => selectParts(config, '')).toThrow('--only needs a comma list of parts');
  });
});
