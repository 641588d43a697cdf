// The CPU benchmark's command line and job sizes (full and --quick), and the SVCCA options every
// job runs with.

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { defaultNodeThreads } from '../../src/analysis/pool/node';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../src/analysis/types';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REFERENCE_SCRIPT = join(ROOT, 'scripts', 'reference_pairwise.py');
export const EFFICIENT_SCRIPT = join(ROOT, 'scripts', 'efficient_numpy.py');
export const now = () => performance.now() / 1000;
/** This process's CPU seconds so far (user + system, all its threads): beside wall time on a shared machine. */
export const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

export interface Args {
  backend: 'cpu' | 'webgpu';
  quick: boolean;
  reference: boolean;
  out: string | null;
  numpyThreads: 'both' | 'default' | '1';
  python: string;
  /** float64 product kernel: the WebAssembly SIMD one (default) or the plain-JS one (the 'before'). */
  products: 'wasm' | 'js';
  /** > 1: the dynamics jobs once more on a CPU pool of this many threads (scripts/bench/threads.ts); default: the CLI's (one per core). */
  threads: number;
}

const USAGE = `usage: npm run bench -- --backend cpu|webgpu [--quick] [--no-reference] [--out FILE] [--numpy-threads both|default|1] [--python PYTHON] [--threads N]
  --backend        cpu (the float64 engine; default) or webgpu (in headless Chromium; see scripts/bench-webgpu.ts)
  --quick          smaller sizes: a smoke run of about half a minute
  --no-reference   skip the numpy reference (scripts/reference_pairwise.py)
  --out FILE       JSON results (default bench-results/bench-<date>.json)
  --numpy-threads  run numpy with its default threads, with 1 thread, or both (default: both)
  --python         Python interpreter with numpy (default: python3)
  --products       float64 product kernel: wasm (WebAssembly SIMD where the engine has it; default) or js (the plain-JS kernel)
  --threads N      also run the dynamics jobs on a CPU pool of N worker threads, as the CLI does, and report wall and CPU time, 1 vs N
                   (default: one per core, the CLI's default; 1: not)
       npm run bench -- --host-step [--sizes 128,256,512] [--batch 4] [--threads 2] [--out FILE]
                   the GPU path's float64 host step: full eigen vs top-k, 1 vs N threads (scripts/bench/hostStep.ts)`;

export function parseArgs(argv: string[]): Args {
  const args: Args = {
    backend: 'cpu',
    quick: false,
    reference: true,
    out: null,
    numpyThreads: 'both',
    python: 'python3',
    products: 'wasm',
    threads: defaultNodeThreads(),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${flag} needs a value`);
      return v;
    };
    if (flag === '--backend') {
      const v = value();
      if (v !== 'cpu' && v !== 'webgpu') fail(`--backend must be cpu or webgpu, got ${v}`);
      args.backend = v;
    } else if (flag.startsWith('--backend=')) {
      const v = flag.slice('--backend='.length);
      if (v !== 'cpu' && v !== 'webgpu') fail(`--backend must be cpu or webgpu, got ${v}`);
      args.backend = v;
    } else if (flag === '--quick') args.quick = true;
    else if (flag === '--no-reference') args.reference = false;
    else if (flag === '--out') args.out = value();
    else if (flag === '--numpy-threads') {
      const v = value();
      if (v !== 'both' && v !== 'default' && v !== '1') fail(`--numpy-threads must be both, default or 1, got ${v}`);
      args.numpyThreads = v;
    } else if (flag === '--python') args.python = value();
    else if (flag === '--products') {
      const v = value();
      if (v !== 'wasm' && v !== 'js') fail(`--products must be wasm or js, got ${v}`);
      args.products = v;
    } else if (flag === '--threads') {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1 || v > 16) fail(`--threads must be a whole number from 1 to 16, got ${v}`);
      args.threads = v;
    } else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown option ${flag}`);
  }
  return args;
}

function fail(message: string): never {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(1);
}

export interface DynamicsConfig {
  label: string;
  widths: number[];
  steps: number;
  datapoints: number;
  /** null: every pair; otherwise a seeded random sample of this many pairs. */
  numpySample: number | null;
  /** Seconds after which a numpy run stops (the pairs done are then a random sample). */
  numpyBudget: { default: number; one: number };
  /** Checkpoints factored by the instrumented replica: 'all' or indices (the reference step is always included). */
  replicaSteps: 'all' | number[];
}

export interface Config {
  pair: { n: number; m: number };
  small: DynamicsConfig;
  large: DynamicsConfig;
  micro: { sizes: [number, number][]; jacobi: number[] };
}

export const FULL: Config = {
  pair: { n: 512, m: 10000 },
  small: {
    label: '(b) dynamics 5×6',
    widths: [64, 96, 128, 128, 128],
    steps: 6,
    datapoints: 2000,
    numpySample: null,
    numpyBudget: { default: 45, one: 150 },
    replicaSteps: 'all',
  },
  large: {
    label: '(c) dynamics 10×20',
    widths: Array(10).fill(256),
    steps: 20,
    datapoints: 5000,
    numpySample: 60,
    numpyBudget: { default: 45, one: 120 },
    replicaSteps: [9],
  },
  micro: {
    sizes: [
      [128, 2000],
      [256, 5000],
      [512, 10000],
    ],
    jacobi: [128, 256, 512],
  },
};

export const QUICK: Config = {
  pair: { n: 256, m: 4000 },
  small: {
    label: '(b) dynamics 5×6 (quick)',
    widths: [32, 48, 64, 64, 64],
    steps: 6,
    datapoints: 1000,
    numpySample: null,
    numpyBudget: { default: 5, one: 8 },
    replicaSteps: 'all',
  },
  large: {
    label: '(c) dynamics 6×6 (quick)',
    widths: Array(6).fill(128),
    steps: 6,
    datapoints: 1500,
    numpySample: 12,
    numpyBudget: { default: 4, one: 6 },
    replicaSteps: [2],
  },
  micro: {
    sizes: [
      [128, 2000],
      [256, 4000],
    ],
    jacobi: [64, 128, 256],
  },
};

export const OPTIONS: AnalysisOptions = {
  ...DEFAULT_OPTIONS,
  metric: 'svcca',
  keep: { kind: 'variance', fraction: 0.99 },
  epsilon: 1e-10,
  layout: 'datapoints-first',
  backend: 'cpu',
};
export const KEEP = 0.99;
