// `node bin/run-ts.mjs scripts/null-agreement.ts [--permutations P] [--draws D] [--cells diagonal|all] [--steps 0,280,700] [--json FILE]`
//
// How far the Gaussian null's chance level (src/math/canonicalNull.ts) lies from the permutation
// null's on real layers: the demo (public/demo/fashion-resnet.npz, run seed0, a ResNet over
// training) and the digits CNN and MLP of test/fixtures/real, each as a learning-dynamics job under
// SVCCA through the DFT (the default) and CCA on mean-pooled layers. Per cell:
//   d = (Gaussian mean − permutation mean) / Gaussian sd,   r = permutation sd / Gaussian sd,
// with D Gaussian draws (default 400: its own Monte-Carlo error is sd/20) and P permutations
// (default 50: the permutation mean's error is sd/7). --cells all compares every cell (the
// permutation null then costs P times the job: --steps keeps only the listed checkpoints, the last
// one, the reference, always). Prints the distribution of d and r per job (docs/benchmarks.md
// "Chance level" quotes it).

import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cpuBackend } from '../src/analysis/backend';
import { computeDynamics } from '../src/analysis/engine';
import { DEFAULT_OPTIONS, type AnalysisOptions, type Baseline } from '../src/analysis/types';
import { openBundlePath } from '../src/io/node';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const permutations = Number(value('--permutations') ?? 50);
const draws = Number(value('--draws') ?? 400);
const cells = (value('--cells') ?? 'diagonal') as 'diagonal' | 'all';
const steps = value('--steps')?.split(',').map(Number) ?? null;

const BUNDLES = [
  { file: 'public/demo/fashion-resnet.npz', run: 'seed0' },
  { file: 'test/fixtures/real/digits-cnn.npz', run: undefined },
  { file: 'test/fixtures/real/digits-mlp.npz', run: undefined },
];
const CONFIGS: { label: string; options: AnalysisOptions }[] = [
  { label: 'svcca dft', options: { ...DEFAULT_OPTIONS, backend: 'cpu' } },
  { label: 'cca meanpool', options: { ...DEFAULT_OPTIONS, metric: 'cca', convReduction: 'meanpool', backend: 'cpu' } },
];

const quantiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => +sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(3);
  return { min: at(0), p10: at(0.1), median: at(0.5), p90: at(0.9), max: +sorted[sorted.length - 1].toFixed(3) };
};

const report = [];
for (const { file, run } of BUNDLES) {
  const whole = await openBundlePath(join(ROOT, file));
  const last = whole.steps[whole.steps.length - 1];
  const keep = (step: number) => steps === null || step === last || steps.includes(step);
  const bundle = { ...whole, steps: whole.steps.filter(keep), entries: whole.entries.filter((e) => keep(e.step)) };
  for (const { label, options } of CONFIGS) {
    const job = (kind: 'gaussian' | 'permutation', count: number) =>
      computeDynamics({ bundle, run, baseline: { permutations: count, seed: 1, cells, null: kind } }, options, {}, cpuBackend);
    const gaussian = await job('gaussian', draws);
    const permuted = await job('permutation', permutations);
    const d: number[] = [];
    const r: number[] = [];
    const fellBack: string[] = [];
    gaussian.baseline!.forEach((grid, t) =>
      grid.forEach((row, i) =>
        row.forEach((g: Baseline | null, j) => {
          const p = permuted.baseline![t][i][j];
          if (!g || !p) return;
          if (g.null !== 'gaussian') {
            fellBack.push(`${gaussian.layers[i]}@${gaussian.steps[t]}: ${g.nullNote ?? ''}`);
            return;
          }
          d.push((g.mean - p.mean) / g.sd);
          r.push(p.sd / g.sd);
        }),
      ),
    );
    const entry = {
      bundle: file,
      run: run ?? null,
      config: label,
      cells: d.length,
      /** (Gaussian mean − permutation mean) / Gaussian sd. */
      d: quantiles(d),
      /** Permutation sd / Gaussian sd. */
      sdRatio: quantiles(r),
      withinTwoSd: +(d.filter((v) => Math.abs(v) <= 2).length / d.length).toFixed(3),
      fellBack,
    };
    console.log(JSON.stringify(entry));
    report.push(entry);
  }
}
const out = value('--json');
if (out) writeFileSync(out, JSON.stringify({ permutations, draws, cells, report }, null, 2) + '\n');
