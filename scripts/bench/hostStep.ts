// `npm run bench -- --host-step [--sizes 128,256,512] [--batch 4] [--threads 2] [--out FILE]`
//
// The GPU path's float64 host step (src/analysis/gpu/whitening.ts step 3, SVCCA) on this machine's
// CPU, in ONE run so that the ratios mean something on a shared machine: for a batch of `batch`
// layers of each width n (the Grams of one checkpoint, as the GPU hands them back: f32-rounded),
//   full      the step before: the full eigendecomposition of every Gram (symmetricEigen), 1 thread;
//   top-k     every eigenvalue, the 99% rule, then the k kept eigenvectors only
//             (pool/gramHost.ts gramValues + gramVectors in-process: eigenTop's split);
//   top-k ×T  the same on a CPU pool of T worker threads (the job thread waits), started beforehand.
// Data: scripts/bench-data.ts's synthetic activations (λ_i ∝ i^-2), m = 5000 datapoints, so k is
// the benchmark jobs' k. Times are the best of a few repeats of the whole batch, with the process's
// CPU seconds per repeat (all threads) beside them: on a machine shared with other work, those show
// what running in parallel costs, the wall times what the machine had free.

import { writeFileSync } from 'node:fs';
import { gramValues, gramVectors } from '../../src/analysis/pool/gramHost';
import { createNodePool } from '../../src/analysis/pool/node';
import type { CpuPool } from '../../src/analysis/pool/pool';
import { chooseK, type KeepRule } from '../../src/math/cca';
import { symmetricEigen } from '../../src/math/eigen';
import type { SvdSpectrum } from '../../src/math/gramFactor';
import { centerRows, multiplyABt, type Matrix } from '../../src/math/matrix';
import { ActivationGenerator, DEFAULT_GENERATOR, formatRatio, formatSeconds, renderTable } from '../bench-data';

const KEEP: KeepRule = { kind: 'variance', fraction: 0.99 };
const EPSILON = 1e-10;
const DATAPOINTS = 5000;

function option(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
}

/** The f32-rounded Gram Xc Xcᵀ (n × n, float64) of layer `layer` of a generator's only checkpoint. */
function gramOf(generator: ActivationGenerator, layer: number): Float64Array {
  const n = generator.spec.widths[layer];
  const m = generator.spec.datapoints;
  const stored = generator.generate(layer, 0); // (m, n), datapoints first
  const x: Matrix = { rows: n, cols: m, data: new Float64Array(n * m) };
  for (let d = 0; d < m; d++) for (let i = 0; i < n; i++) x.data[i * m + d] = stored[d * n + i];
  const { centered } = centerRows(x);
  return Float64Array.from(Float32Array.from(multiplyABt(centered, centered).data));
}

/**
 * Best wall time of `repeats` runs of `work`, and the process's CPU seconds per run (every thread's,
 * worker threads included): on a machine shared with other work the wall time of 2 threads says what
 * the machine had free, the CPU time what the parallel step costs beyond the one-thread step.
 */
async function best(repeats: number, work: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  let fastest = Infinity;
  const cpuBefore = process.cpuUsage();
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    await work();
    fastest = Math.min(fastest, (performance.now() - started) / 1000);
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { wall: fastest, cpu: (cpu.user + cpu.system) / 1e6 / repeats };
}

/** The SVCCA host step of whitening.ts on a batch: values, the 99% rule, the kept vectors. */
async function topK(pool: CpuPool | null, grams: Float64Array[], n: number) {
  const sizes = grams.map(() => n);
  const spectra = (await gramValues(pool, 'svd', grams, sizes, DATAPOINTS, EPSILON)) as SvdSpectrum[];
  const ks = spectra.map((s) => chooseK(s.spectrum, KEEP));
  await gramVectors(pool, spectra, ks);
  return ks;
}

export async function runHostStepBench(argv: string[]): Promise<void> {
  const sizes = option(argv, '--sizes', '128,256,512').split(',').map(Number);
  const batch = Number(option(argv, '--batch', '4'));
  const threads = Number(option(argv, '--threads', '2'));
  const out = option(argv, '--out', '');
  const pool = createNodePool(threads);
  console.log(
    `GPU path's float64 host step (SVCCA, 99% rule), ${batch} Grams per size, m = ${DATAPOINTS}, λ_i ∝ i^-2; best of repeats; pool of ${threads} threads`,
  );
  const rows = [];
  try {
    for (const n of sizes) {
      const generator = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: Array.from({ length: batch }, () => n), steps: 1, datapoints: DATAPOINTS });
      const grams = Array.from({ length: batch }, (_, l) => gramOf(generator, l));
      const repeats = n >= 512 ? 2 : n >= 256 ? 3 : 5;
      // Warm-up (twice: each worker is its own isolate, whose JIT warms on its own): WebAssembly
      // kernels here, the pool's workers started and warmed at this size.
      const ks = await topK(null, grams, n);
      for (let r = 0; r < 2; r++) await topK(pool, grams, n);
      const full = await best(repeats, () => grams.map((g) => symmetricEigen({ rows: n, cols: n, data: g })));
      const single = await best(repeats, () => topK(null, grams, n));
      const pooled = await best(repeats, () => topK(pool, grams, n));
      rows.push({ n, k: ks, full: full.wall, topK: single.wall, topKPool: pooled.wall, cpu: { full: full.cpu, topK: single.cpu, topKPool: pooled.cpu } });
      console.log(
        `  n = ${n}: k = ${ks.join('/')}, wall (CPU) seconds: full ${formatSeconds(full.wall)} (${formatSeconds(full.cpu)}), ` +
          `top-k ${formatSeconds(single.wall)} (${formatSeconds(single.cpu)}), top-k × ${threads} ${formatSeconds(pooled.wall)} (${formatSeconds(pooled.cpu)})`,
      );
    }
    // A pool that could not start ran every "× threads" batch in-process: say so rather than print a false ratio.
    if (pool.startFailure) throw new Error(`the CPU pool's worker threads could not start: ${pool.startFailure}`);
  } finally {
    pool.close();
  }
  console.log(
    renderTable(
      [
        'n',
        'k (99%)',
        `full eigen, 1 thread (${batch} Grams)`,
        'top-k, 1 thread',
        `top-k, ${threads} threads`,
        'full / top-k',
        `top-k: 1 / ${threads} threads`,
        `full / top-k × ${threads}`,
        `CPU s: top-k × ${threads} / top-k`,
      ],
      rows.map((r) => [
        String(r.n),
        [...new Set(r.k)].join('/'),
        formatSeconds(r.full),
        formatSeconds(r.topK),
        formatSeconds(r.topKPool),
        formatRatio(r.full / r.topK),
        formatRatio(r.topK / r.topKPool),
        formatRatio(r.full / r.topKPool),
        formatRatio(r.cpu.topKPool / r.cpu.topK),
      ]),
    ),
  );
  if (out)
    writeFileSync(
      out,
      JSON.stringify(
        { command: ['npm run bench --', ...argv].join(' '), date: new Date().toISOString(), batch, threads, datapoints: DATAPOINTS, rows },
        null,
        2,
      ),
    );
}
