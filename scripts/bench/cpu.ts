// The CPU benchmark (`npm run bench -- --backend cpu`): the float64 engine against the reference
// pair-by-pair algorithm in numpy, measured in ONE run on the same machine, so that the ratios mean
// something on a shared, noisy machine. The jobs and what each measures are described in
// scripts/bench.ts; this file runs them in order, prints the report and writes the JSON.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { comparePair, computeDynamics } from '../../src/analysis/engine';
import { multiplyABt } from '../../src/math/matrix';
import { jacobiEigen } from '../../src/math/eigen';
import { productKernel, setWasmProductsEnabled } from '../../src/math/wasmProducts';
import { ActivationGenerator, DEFAULT_GENERATOR, describeGenerator, formatSeconds, keepCount, populationSpectrum, type GeneratorSpec } from '../bench-data';
import { FULL, KEEP, now, OPTIONS, parseArgs, QUICK, ROOT } from './args';
import { dynamicsJob } from './dynamics';
import { randomSquare, runMicroKernels, yieldLatency } from './micro';
import { pairJob } from './pair';
import { runProductKernels } from './products';
import { threadModes } from './reference';
import { printReport } from './report';
import { syntheticJob } from './synthetic';

export async function runCpuBench(raw: string[]): Promise<void> {
  const args = parseArgs(raw);
  setWasmProductsEnabled(args.products === 'wasm');
  const config = args.quick ? QUICK : FULL;
  const started = new Date();
  const wallStart = now();
  const date = started
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const outFile = resolve(args.out ?? join(ROOT, 'bench-results', `bench-${date}${args.quick ? '-quick' : ''}.json`));
  const tmp = mkdtempSync(join(tmpdir(), 'svcca-bench-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const log = (s: string) => console.log(s);

  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    totalMemoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    loadavgStart: loadavg(),
  };
  const populationK = Object.fromEntries(
    [...new Set([config.pair.n, ...config.small.widths, ...config.large.widths])].map((n) => [
      n,
      keepCount(populationSpectrum(n, DEFAULT_GENERATOR.spectrumExponent), KEEP),
    ]),
  );
  const flopConvention =
    '2 flops per multiply-add; memory-bound passes (transposes, copies) count 0. Ours: the work done — per representation centre 2nm, Gram Xc·Xcᵀ ' +
    'symmetric half (≈ n²m), eigen of the n × n Gram 9n³ (tred2 + tql2, GVL estimate, kept as the model although the engine top-k solver now does ≈ 4n³/3 + 2n²k; Jacobi 6n³ per sweep), projection 2knm, whitening 3km; ' +
    'per pair 2·k1·k2·m for Zx·Zyᵀ plus ≈ k³ for T·Tᵀ and 9k³ for its eigenvalues. numpy: per pair, what the script calls — ' +
    'thin SVD of each side 6mn² + 20n³ (GVL R-SVD estimate), reduce 2k²m, np.cov 2(k1+k2)²m (gemm), pinv 23k³ + eigh 9k³ + sqrt 4k³ per side, final product and SVD.';
  const spectrumText = `λ_i ∝ i^-${DEFAULT_GENERATOR.spectrumExponent} (99% rule keeps k ≈ ${Object.entries(populationK)
    .map(([n, k]) => `${k} of n = ${n}`)
    .join(', ')} for the population spectrum)`;

  log(`SVCCA Lens speed benchmark — backend cpu (float64, one thread)${args.quick ? ' — QUICK sizes' : ''}`);
  log(
    `machine: ${machine.cpus} × ${machine.model}, ${machine.totalMemoryGiB} GiB, Node ${machine.node}; load average ${machine.loadavgStart.map((x) => x.toFixed(2)).join(' ')}`,
  );
  log(`data: synthetic, generated lazily per checkpoint; spectrum ${spectrumText}`);
  log(
    `      model: ${describeGenerator({ ...DEFAULT_GENERATOR, widths: [256], steps: 20, datapoints: 5000 })
      .split('; ')
      .filter((s) => !s.startsWith('1 layers'))
      .join('; ')}`,
  );
  log(`      our cost grows with k (projection 2knm, pairs 2·k1·k2·m); the reference's is dominated by the two SVDs per pair and hardly depends on k.`);
  log(
    `reference: ${args.reference ? `scripts/reference_pairwise.py (numpy, pair by pair), threads: ${args.numpyThreads === 'both' ? 'default and 1' : args.numpyThreads}` : 'skipped (--no-reference)'}`,
  );
  if (args.reference)
    log('efficient numpy: scripts/efficient_numpy.py (our algorithm in numpy: factor once, BLAS Gram + eigh, one small SVD per pair), same threads');
  log(`FLOPs: ${flopConvention}`);
  log(`float64 products: ${productKernel()} (--products ${args.products})`);
  log(`SVCCA options: keep 99% of Σs², ε = ${OPTIONS.epsilon}, mean ρ; arrays (m, n) float32, datapoints first.`);
  log('');

  try {
    // Warm-up: the JIT compiles every kernel on a small job before anything is timed.
    {
      const t = now();
      const warm = syntheticJob({ ...DEFAULT_GENERATOR, widths: [40, 64], steps: 2, datapoints: 600 }, null, () => false);
      await computeDynamics({ bundle: warm.bundle }, OPTIONS);
      const g = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [48, 48], steps: 1, datapoints: 500 });
      const arr = (l: number) => ({ name: `w${l}`, array: { shape: [500, 48], dtype: '<f4', data: g.generate(l, 0) } });
      await comparePair(arr(0), arr(1), OPTIONS);
      jacobiEigen(multiplyABt(randomSquare(40), randomSquare(40)));
      log(`warm-up (JIT): ${formatSeconds(now() - t)}`);
    }
    const yieldSeconds = await yieldLatency();
    log(`event-loop yield (setTimeout 0, the engine yields once per row of pairs): ${formatSeconds(yieldSeconds)}`);
    log('');

    // (a) one pair.
    log(`(a) one SVCCA pair, n = ${config.pair.n}, m = ${config.pair.m}`);
    const pairSpec: GeneratorSpec = { ...DEFAULT_GENERATOR, widths: [config.pair.n, config.pair.n], steps: 1, datapoints: config.pair.m };
    const pairGen = new ActivationGenerator(pairSpec);
    const pair = await pairJob(config.pair.n, config.pair.m, pairGen, args, tmp, log);
    log('');

    // Micro-kernels (on the generator's data; the largest size is side A of job (a), instrumented).
    log('micro-kernels');
    const { micro, pairStages, jacobiExtra } = runMicroKernels(config, pairGen, log);
    log('');
    log('product kernels, WebAssembly SIMD vs plain JS (same run)');
    const wasWasm = setWasmProductsEnabled(true);
    const products = runProductKernels(config, log);
    setWasmProductsEnabled(wasWasm);
    log('');

    // (b), (c) learning dynamics.
    log(`${config.small.label}`);
    const small = await dynamicsJob(config.small, args, tmp, log);
    log('');
    log(`${config.large.label}`);
    const large = await dynamicsJob(config.large, args, tmp, log);
    log('');

    const criterion = printReport({ args, config, machine, pair, small, large, micro, pairStages, jacobiExtra, yieldSeconds }, log);

    const loadEnd = loadavg();
    log(
      `load average at the end: ${loadEnd.map((x) => x.toFixed(2)).join(' ')} (on ${machine.cpus} cores; a load above the core count means other processes shared the CPUs: compare ratios, not seconds)`,
    );
    const environment = [pair, small, large].flatMap((j) => j.numpy).find((r) => r.ok)?.environment ?? null;
    const results = {
      schema: 'svcca-lens-bench/1',
      date: started.toISOString(),
      command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
      quick: args.quick,
      backend: 'cpu',
      precision: 'float64',
      productKernel: productKernel(),
      machine: { ...machine, loadavgEnd: loadEnd },
      totalWallSeconds: now() - wallStart,
      generator: {
        description: describeGenerator({ ...DEFAULT_GENERATOR, widths: [256], steps: 20, datapoints: 5000 }),
        parameters: DEFAULT_GENERATOR,
        spectrum: `λ_i ∝ i^-${DEFAULT_GENERATOR.spectrumExponent}`,
        populationK,
        note: 'our cost depends on k (projection 2knm, pairs 2·k1·k2·m); the reference cost is dominated by two thin SVDs per pair and hardly depends on k',
      },
      options: { keep: KEEP, epsilon: OPTIONS.epsilon, summary: 'mean ρ', layout: 'datapoints-first float32 (m, n)' },
      flopConvention,
      reference: {
        script: 'scripts/reference_pairwise.py',
        threads: threadModes(args),
        environment,
        note: 'default threads = no *_NUM_THREADS variable set (OpenBLAS uses every core); 1 = OPENBLAS/OMP/MKL_NUM_THREADS=1',
      },
      efficient: { script: 'scripts/efficient_numpy.py', threads: threadModes(args) },
      eventLoopYieldSeconds: yieldSeconds,
      jobs: { pair, small, large },
      micro,
      products,
      jacobiExtra,
      criterion,
    };
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(results, null, 1));
    log(`JSON: ${outFile}`);
    log(`total: ${formatSeconds(now() - wallStart)}`);
  } finally {
    cleanup();
  }
}
