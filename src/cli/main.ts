// svcca-lens: the engine on the command line (Node). Runs through tsx from bin/svcca-lens.mjs, so it
// needs no build step. Errors: exit status 2 and one line on stderr, "svcca-lens: FILE[:MEMBER]: what
// is wrong"; warnings go to stderr and, with --json, into the JSON object too.

import { existsSync } from 'node:fs';
import { registerGpuBackend, resolveBackend } from '../analysis/backend';
import { computeCross, computeDynamics, comparePair } from '../analysis/engine';
import { dimensionsOverTraining } from '../analysis/classes';
import { webgpuBackendFactory } from '../analysis/gpu';
import { nodeGpu, nodeGpuFailure } from '../gpu/node';
import { METRICS } from '../analysis/metricDefs';
import {
  CONV_REDUCTIONS,
  DEFAULT_OPTIONS,
  type AnalysisOptions,
  type BaselineRequest,
  type ConvReduction,
  type CrossResult,
  type DynamicsResult,
  type Metric,
  type PairResult,
} from '../analysis/types';
import { loadArrayRef, openBundlePath } from '../io/node';
import { InputError } from '../io/types';
import { printable, printableLines, terminalSafeJson } from '../io/printable';
import { formatCross, formatDynamics, formatFreeze, formatPair } from './format';
import { DEFAULT_BASELINE_SEED, MAX_PERMUTATIONS, freezeSteps } from '../analysis/baseline';
import { DEFAULT_FREEZE_THRESHOLD } from '../analysis/chanceDefs';
import { convReductionFits, switchNotice, workingConvReduction } from '../analysis/compatibility';
import { withCrossProvenance, withDynamicsProvenance } from '../analysis/provenance';
import { anyConv } from '../analysis/rules';
import type { Bundle } from '../io/types';
import type { OpenedBundle } from '../io/bundle';
import { ensureBuilt, listInputs, openBrowser, serveView } from './view';
import { computeCrossAllPairs, computeDynamicsAllRuns } from '../analysis/seedJobs';
import { formatSeedsCross, formatSeedsDynamics, seedsCrossJson, seedsDynamicsJson } from './seeds';

import { CLASS_OPTIONS_HELP, classesCommand, pairSweepK, parseClassFlag, CLASS_VALUE_FLAGS, type ClassFlags } from './classes';

const OPTIONS_HELP = `options:
  --metric ${METRICS.join('|')}   (default ${DEFAULT_OPTIONS.metric})
  --keep F | --dims K         SVCCA's SVD step: variance fraction (default 0.99) or fixed k
  --epsilon E                 cca_core's epsilon (default 1e-10)
  --layout auto|datapoints-first|neurons-first
  --conv flatten|positions|meanpool|dft        (default dft; CKA/PWCCA switch conv layers off the DFT)
  --conv-layout auto|nchw|nhwc
  --pwcca reference|paper     PWCCA weighting (default reference)
  --backend auto|cpu|webgpu   (default auto)
  --json                      one JSON object on stdout
  --baseline P                also the chance level of every value: the same pair with B's datapoints
                              permuted, P times (P ≥ 2; 20 is a good start): {mean, sd, z, p,
                              permutations, seed} per value in --json (null where the value is null),
                              a chance line or table in the text
  --seed S                    the permutations' seed (default ${DEFAULT_BASELINE_SEED}): same seed, same numbers`;

const EXIT_HELP = `exit status: 0 done; 2 bad input or a bad call (one line on stderr: "svcca-lens: …").`;

export const USAGE = `usage:
  svcca-lens compare A B [options]          A, B: file.npy, or FILE:NAME: file.npz:member,
                                             file.safetensors:tensor, file.pt:layer1.0.conv (torch.save;
                                             .pth/.ckpt too), file.pkl:key (pickle), file.h5:group/dataset
  svcca-lens dynamics BUNDLE [--reference last|STEP] [--run NAME] [options]
                                             values[t][i][j] = sim(layer i at step t, layer j at reference)
  svcca-lens dynamics BUNDLE --all-runs [--threshold T] [options]
                                             mean ± sd over runs per cell, freeze steps per run
  svcca-lens cross BUNDLE_A BUNDLE_B [--step N] [--run-a NAME] [--run-b NAME] [options]
                                             values[i][j] = sim(A's layer i, B's layer j)
  svcca-lens cross BUNDLE --all-pairs [--step N] [options]
                                             mean ± sd over every pair of runs per cell
  svcca-lens classes BUNDLE [--layer L] [--target logits|indicator] [--logits LAYER] [--run R]
                                             values[l][c][t] = ρ(layer l at step t, class c's logit or indicator)
  svcca-lens view PATH… [--port N] [--open]  the app on http://127.0.0.1:N (default 6060) with these
                                             files or folders loaded, as if dropped together; Ctrl+C stops it
${OPTIONS_HELP}
svcca-lens COMMAND --help: that command's options and examples.
${EXIT_HELP}
BUNDLE: a .npz, .safetensors, torch.save (.pt) or pickle (.pkl) file with arrays named
[<run>/]step_<N>/<layer> (torch/pickle: nested dicts {"step_<N>": {"<layer>": t}} too), an HDF5
file with datasets /[<run>/]step_<N>/<layer>, a folder [<run>/]step_<N>/<layer>.npy, or a folder of
step_<N>.safetensors (.pt, .pkl, .h5) files holding one array per layer.`;

/** \`svcca-lens COMMAND --help\`: what the command computes, its options and examples. */
const COMMAND_HELP: ReadonlyMap<string, string> = new Map([
  [
    'compare',
    `usage: svcca-lens compare A B [options]
  The similarity of two representations of the same datapoints.
  A, B: file.npy, or FILE:NAME in any format the app reads (file.npz:member, file.safetensors:tensor,
  file.pt:layer1.0.conv, file.pkl:name, file.h5:group/dataset)
${OPTIONS_HELP}
  --sweep-k                   also SVCCA's similarity against the number k of SVD directions kept on
                              both sides, k = 1…min(rank A, rank B), from one SVD per side
                              (JSON: sweepK [{k, similarity}], k99 [A, B]; text: a compact table)
examples:
  svcca-lens compare conv1.npy conv2.npy
  svcca-lens compare conv1.npy conv2.npy --baseline 99 --seed 3
  svcca-lens compare conv1.npy conv2.npy --sweep-k
  svcca-lens compare run.npz:step_700/s1b1 run.npz:step_700/s2b1 --metric cca --epsilon 0 --json
${EXIT_HELP}`,
  ],
  [
    'dynamics',
    `usage: svcca-lens dynamics BUNDLE [--reference last|STEP] [--run NAME] [options]
  Learning dynamics (paper Figure 4): values[t][i][j] = sim(layer i at step t, layer j at the reference step).
  BUNDLE: a .npz, .safetensors, .pt, .pkl or .h5 file with arrays named [<run>/]step_<N>/<layer>,
  a folder [<run>/]step_<N>/<layer>.npy, or a folder of step_<N> files with one array per layer.
${OPTIONS_HELP}
  --baseline-cells all|diagonal   with --baseline: every cell (default) or only the convergence
                              curves' cells (layer i against its own reference)
  --threshold T               the freeze step's threshold (default ${DEFAULT_FREEZE_THRESHOLD}): per layer, the step
                              from which it stays ≥ T, with its chance level there ("freeze" in --json
                              with --threshold or --baseline); with --all-runs per run and its mean,
                              min and max over runs
many seeds:
  --all-runs                  every run with two or more checkpoints, each against its own reference;
                              cells[t][i][j] = {mean, sd (ddof 1), min, max, n} over runs, curves[i][t]
                              the diagonal with its spread, perRun[r][t][i][j] each run's values (JSON)
examples:
  svcca-lens dynamics public/demo/fashion-resnet.npz --run seed0
  svcca-lens dynamics public/demo/fashion-resnet.npz --run seed0 --baseline 20 --seed 7
  svcca-lens dynamics runs/ --reference 1600 --metric pwcca --json | jq .values
  svcca-lens dynamics seeds.npz --all-runs --threshold 0.9 --json | jq '.freeze'
--json also gives k99[t][i]: the SVD directions holding 99% of layer i's variance at steps[t]
(conv layers flattened, or mean-pooled with --conv meanpool).
${EXIT_HELP}`,
  ],
  [
    'cross',
    `usage: svcca-lens cross BUNDLE_A BUNDLE_B [--step N] [--run-a NAME] [--run-b NAME] [options]
  Across runs (paper Figure 1): values[i][j] = sim(A's layer i, B's layer j) at one step
  (default: the last step both have). A and B may be the same bundle with two runs.
${OPTIONS_HELP}
many seeds:
  svcca-lens cross BUNDLE --all-pairs [--step N] [options]
                              every unordered pair of BUNDLE's runs (A = the earlier run) at step N
                              (default: the last step all runs have); cells[i][j] = {mean, sd (ddof 1),
                              min, max, n} over pairs, pairs[] each pair's values, diagonal[] the same
                              layer across seeds with its spread (JSON)
  --baseline-cells all|diagonal   with --baseline: every cell (default) or only A's layer i against B's layer i
examples:
  svcca-lens cross public/demo/fashion-resnet.npz public/demo/fashion-resnet.npz --run-a seed0 --run-b seed1
  svcca-lens cross seed0.npz seed1.npz --baseline 20 --json | jq .baseline
  svcca-lens cross seed0.npz seed1.npz --step 700 --json
  svcca-lens cross seeds.npz --all-pairs --json | jq '.diagonal'
${EXIT_HELP}`,
  ],
  [
    'classes',
    `usage: svcca-lens classes BUNDLE [--layer L] [--target logits|indicator] [--logits LAYER] [--run R] [options]
  Class sensitivity over training (paper §5, Figure 5): values[l][c][t] = the CCA correlation between
  layer l at steps[t] after SVCCA's SVD step (same --keep/--dims and --epsilon) and class c's target:
  its logit (column c of the logits layer at the same step) or the indicator 1[label = c].
  With a 1-D target this is the multiple correlation ‖Z y‖/‖y‖. Needs the bundle's labels.
${CLASS_OPTIONS_HELP}
${OPTIONS_HELP}
examples:
  svcca-lens classes public/demo/fashion-resnet.npz --run seed0
  svcca-lens classes public/demo/fashion-resnet.npz --target indicator --layer s3b2 --json | jq .firstStep
${EXIT_HELP}`,
  ],
  [
    'view',
    `usage: svcca-lens view PATH… [--port N] [--open]
  Serves the app on http://127.0.0.1:N (default 6060) with these files or folders loaded, as if
  dropped together; nothing leaves this machine. Ctrl+C stops it.
examples:
  svcca-lens view runs/seed0.npz runs/seed1.npz labels.npy
  svcca-lens view activations/ --open --port 8080
${EXIT_HELP}`,
  ],
]);

/** A mistake in how the command was called (not in the data). */
class UsageError extends Error {}

interface Parsed {
  command: string;
  positional: string[];
  options: AnalysisOptions;
  json: boolean;
  /** Whether --conv was given (otherwise a metric that cannot run through the DFT gets a reduction that works). */
  convGiven: boolean;
  reference: 'last' | number;
  step?: number;
  run?: string;
  runA?: string;
  runB?: string;
  /** Many seeds: dynamics over every run, cross over every pair of runs. */
  allRuns: boolean;
  allPairs: boolean;
  /** --baseline P / --seed S / --baseline-cells: the chance level, when asked for. */
  baseline?: BaselineRequest;
  seed?: number;
  baselineCells?: 'all' | 'diagonal';
  threshold: number;
  thresholdGiven?: boolean;
  /** compare --sweep-k */
  sweepK?: boolean;
  /** The classes command's flags (cli/classes.ts). */
  classes: ClassFlags;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got ${value})`);
  return value as T;
}

function number(flag: string, value: string, check: (v: number) => boolean, what: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || !check(v)) throw new UsageError(`${flag} must be ${what} (got ${value})`);
  return v;
}

export function parseArgs(argv: string[]): Parsed {
  const [command, ...rest] = argv;
  const options: AnalysisOptions = { ...DEFAULT_OPTIONS };
  const parsed: Parsed = {
    command: command ?? '',
    positional: [],
    options,
    json: false,
    convGiven: false,
    reference: 'last',
    allRuns: false,
    allPairs: false,
    threshold: DEFAULT_FREEZE_THRESHOLD,
    classes: {},
  };
  const valueFlags = new Set([
    '--metric',
    '--keep',
    '--dims',
    '--epsilon',
    '--layout',
    '--conv',
    '--conv-layout',
    '--pwcca',
    '--backend',
    '--reference',
    '--step',
    '--run',
    '--run-a',
    '--run-b',
    '--baseline',
    '--seed',
    '--baseline-cells',
    ...CLASS_VALUE_FLAGS,
  ]);
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--json') {
      parsed.json = true;
      continue;
    }
    if (arg === '--all-runs' || arg === '--all-pairs') {
      if (arg === '--all-runs') parsed.allRuns = true;
      else parsed.allPairs = true;
      continue;
    }
    if (arg === '--sweep-k') {
      parsed.sweepK = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      parsed.positional.push(arg);
      continue;
    }
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!valueFlags.has(flag)) throw new UsageError(`unknown option ${flag}`);
    const value = inline ?? rest[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    switch (flag) {
      case '--metric':
        options.metric = oneOf<Metric>(flag, value, METRICS);
        break;
      case '--keep':
        options.keep = { kind: 'variance', fraction: number(flag, value, (v) => v > 0 && v <= 1, 'a fraction in (0, 1]') };
        break;
      case '--dims':
        options.keep = { kind: 'dims', k: number(flag, value, (v) => Number.isInteger(v) && v >= 1, 'a positive integer') };
        break;
      case '--epsilon':
        options.epsilon = number(flag, value, (v) => v >= 0, 'a number ≥ 0');
        break;
      case '--layout':
        options.layout = oneOf(flag, value, ['auto', 'datapoints-first', 'neurons-first'] as const);
        break;
      case '--conv':
        options.convReduction = oneOf<ConvReduction>(flag, value, CONV_REDUCTIONS);
        parsed.convGiven = true;
        break;
      case '--conv-layout':
        options.convLayout = oneOf(flag, value, ['auto', 'nchw', 'nhwc'] as const);
        break;
      case '--pwcca':
        options.pwccaVariant = oneOf(flag, value, ['reference', 'paper'] as const);
        break;
      case '--backend':
        options.backend = oneOf(flag, value, ['auto', 'cpu', 'webgpu'] as const);
        break;
      case '--reference':
        parsed.reference = value === 'last' ? 'last' : number(flag, value, (v) => Number.isInteger(v) && v >= 0, 'last or a step number');
        break;
      case '--step':
        parsed.step = number(flag, value, (v) => Number.isInteger(v) && v >= 0, 'a step number');
        break;
      case '--run':
        parsed.run = value;
        break;
      case '--run-a':
        parsed.runA = value;
        break;
      case '--run-b':
        parsed.runB = value;
        break;
      case '--baseline':
        parsed.baseline = {
          permutations: number(
            flag,
            value,
            (v) => Number.isInteger(v) && v >= 2 && v <= MAX_PERMUTATIONS,
            `a whole number of permutations from 2 to ${MAX_PERMUTATIONS}`,
          ),
          seed: DEFAULT_BASELINE_SEED,
          cells: 'all',
        };
        break;
      case '--seed':
        parsed.seed = number(flag, value, (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, 'a whole number from 0 to 4294967295');
        break;
      case '--baseline-cells':
        parsed.baselineCells = oneOf(flag, value, ['all', 'diagonal'] as const);
        break;
      case '--threshold':
        // classes: the correlation a class must reach (cli/classes.ts); otherwise the freeze threshold.
        if (parsed.command === 'classes') {
          parseClassFlag(parsed.classes, flag, value, number, oneOf);
          break;
        }
        parsed.threshold = number(flag, value, (v) => v >= 0 && v <= 1, 'a similarity in [0, 1]');
        parsed.thresholdGiven = true;
        break;
      default:
        parseClassFlag(parsed.classes, flag, value, number, oneOf);
    }
  }
  if (parsed.baseline) {
    if (parsed.seed !== undefined) parsed.baseline.seed = parsed.seed;
    if (parsed.baselineCells) parsed.baseline.cells = parsed.baselineCells;
  } else if (parsed.seed !== undefined || parsed.baselineCells) {
    throw new UsageError(`${parsed.seed !== undefined ? '--seed' : '--baseline-cells'} applies to the chance level: add --baseline P`);
  }
  return parsed;
}

function expectPositional(parsed: Parsed, count: number, names: string): void {
  if (parsed.positional.length !== count) {
    throw new UsageError(`${parsed.command} takes ${names} (got ${parsed.positional.length} argument${parsed.positional.length === 1 ? '' : 's'})`);
  }
}

/**
 * Whether this machine shows a GPU that Dawn could drive. Loading Dawn costs start-up time and its
 * drivers write to stderr, so 'auto' only probes where a GPU is visible: a DRM render node or an
 * NVIDIA device (Linux), macOS and Windows (Metal, D3D12), or an explicitly chosen Vulkan ICD.
 */
function gpuVisible(): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return true;
  return existsSync('/dev/dri') || existsSync('/dev/nvidia0');
}

/** Picks the backend for this run; a message, not a stack trace, when WebGPU is demanded but missing. */
async function chooseBackend(options: AnalysisOptions) {
  if (options.backend === 'cpu') return resolveBackend('cpu');
  if (options.backend === 'auto' && !gpuVisible())
    return { ...(await resolveBackend('cpu')), reason: 'CPU (float64): no GPU device is visible on this machine' };
  registerGpuBackend(webgpuBackendFactory(nodeGpu));
  try {
    return await resolveBackend(options.backend);
  } catch (error) {
    const loading = nodeGpuFailure();
    throw new UsageError(
      `--backend webgpu: ${(error as Error).message}${loading ? ` (the webgpu package did not load: ${loading})` : ''} (install the optional 'webgpu' package and a Vulkan, Metal or D3D12 driver, or use --backend cpu)`,
    );
  }
}

interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The process's streams. Every stderr line is one message that may carry text from a file (a
 *  name, a dtype, header text), so it is escaped here, at the boundary (io/printable); stdout's
 *  result is escaped where it is written, below. */
const processOutput: Output = {
  stdout: (text) => process.stdout.write(text + '\n'),
  stderr: (text) => process.stderr.write(printable(text, Number.POSITIVE_INFINITY) + '\n'),
};

function compareJson(r: PairResult) {
  return {
    metric: r.metric,
    similarity: r.similarity,
    mean98: r.mean98,
    meanSquared: r.meanSquared,
    rho: r.rho,
    kept: r.kept,
    datapoints: r.datapoints,
    neurons: r.neurons,
    dropped: r.dropped,
    conventions: r.conventions,
    warnings: r.warnings,
    provenance: r.provenance,
    ...(r.baseline ? { baseline: r.baseline } : {}),
  };
}

/**
 * CKA or PWCCA on conv layers under the default DFT: use a reduction that works (as the app does)
 * and say so, unless --conv dft was asked for explicitly (then the engine's refusal stands).
 */
function fitConvReduction(parsed: Parsed, bundles: Bundle[]): string | null {
  const { options } = parsed;
  if (parsed.convGiven || convReductionFits(options.metric, options.convReduction)) return null;
  if (!bundles.some((b) => anyConv(b.entries))) return null;
  options.convReduction = workingConvReduction(options.metric);
  return `${switchNotice(options.metric, options.convReduction)} Pass --conv to choose another.`;
}

/**
 * `view PATH… [--port N] [--open]`: serves the app and the files until interrupted; resolves with
 * the exit status when the server closes (SIGINT / SIGTERM), so the process stays up until then.
 */
async function view(args: string[], out: Output): Promise<number> {
  const paths: string[] = [];
  let port = 6060;
  let open = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--open') open = true;
    else if (arg === '--port' || arg.startsWith('--port=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
      if (value === undefined) throw new UsageError('--port needs a value');
      port = number('--port', value, (v) => Number.isInteger(v) && v >= 0 && v < 65536, 'a port number (0: any free port)');
    } else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg} for view (it takes --port N and --open)`);
    else paths.push(arg);
  }
  if (paths.length === 0) throw new UsageError('view takes one or more files or folders');
  let input;
  try {
    input = listInputs(paths);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  ensureBuilt(out.stderr);
  const served = await serveView(input, port).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(error.code === 'EADDRINUSE' ? `port ${port} is in use; choose another with --port N (0: any free port)` : error.message);
  });
  const count = `${input.files.length} file${input.files.length === 1 ? '' : 's'}`;
  out.stdout(
    `svcca-lens view: ${input.name === count ? count : `${input.name} (${count})`}, served on 127.0.0.1 only; nothing leaves this machine. Ctrl+C stops it.`,
  );
  out.stdout(served.url);
  if (open && !openBrowser(served.url)) out.stderr('svcca-lens view: could not start a browser; open the URL above');
  return new Promise((resolveExit) => {
    const stop = () => {
      served.server.close(() => resolveExit(0));
      served.server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** One warning per bundle naming everything it left out: files and members outside the
 *  step × layer grid, and files that could not be read, with their reader's reason; then the
 *  bundle's own warnings (labels left out, names that look like paths). */
function leftOutWarnings(bundles: OpenedBundle[]): string[] {
  return bundles.flatMap((b) => {
    const found: string[] = [];
    if (b.unmatched.length > 0) {
      const listed = b.unmatched.length > 20 ? `${b.unmatched.slice(0, 20).join(', ')} and ${b.unmatched.length - 20} more` : b.unmatched.join(', ');
      const why = b.unreadable.length > 0 ? `; could not be read: ${b.unreadable.join('; ')}` : '';
      found.push(`${b.name}: left out ${b.unmatched.length} file(s) or member(s) that are not [<run>/]step_<N>/<layer> arrays: ${listed}${why}`);
    }
    return [...found, ...b.warnings];
  });
}

/** Runs one command; returns the exit status. */
export async function main(argv: string[], out: Output = processOutput): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      out.stdout(USAGE);
      return argv.length === 0 ? 2 : 0;
    }
    const commandHelp = COMMAND_HELP.get(argv[0]);
    if (commandHelp && argv.slice(1).some((a) => a === '--help' || a === '-h')) {
      out.stdout(commandHelp);
      return 0;
    }
    if (argv[0] === 'view') return await view(argv.slice(1), out);
    const parsed = parseArgs(argv);
    const { backend, reason } = await chooseBackend(parsed.options);
    if (parsed.options.backend === 'webgpu') out.stderr(`svcca-lens: backend: ${reason}`);
    if (parsed.allRuns && parsed.command !== 'dynamics') throw new UsageError('--all-runs belongs to dynamics (cross takes --all-pairs)');
    if (parsed.allPairs && parsed.command !== 'cross') throw new UsageError('--all-pairs belongs to cross (dynamics takes --all-runs)');
    let warnings: string[];
    let json: unknown;
    let text: string;
    if (parsed.command === 'compare') {
      expectPositional(parsed, 2, 'two arrays, A and B');
      const [a, b] = await Promise.all(parsed.positional.map((ref) => loadArrayRef(ref)));
      const result = await comparePair(a, b, parsed.options, backend, parsed.baseline);
      ({ warnings } = result);
      json = compareJson(result);
      text = formatPair(result, a.name, b.name);
      if (parsed.sweepK) {
        const sweep = pairSweepK(a, b, parsed.options);
        warnings.push(...sweep.warnings);
        Object.assign(json as object, { sweepK: sweep.json.sweepK, k99: sweep.json.k99 });
        text += '\n' + sweep.text;
      }
    } else if (parsed.command === 'dynamics' && parsed.allRuns) {
      expectPositional(parsed, 1, 'one bundle');
      if (parsed.run !== undefined) throw new UsageError('--all-runs and --run exclude each other');
      const bundle = await openBundlePath(parsed.positional[0]);
      const switched = fitConvReduction(parsed, [bundle]);
      const result = await computeDynamicsAllRuns({ bundle, reference: parsed.reference, threshold: parsed.threshold }, parsed.options, {}, backend);
      if (switched) result.warnings.unshift(switched);
      result.warnings.push(...leftOutWarnings([bundle]));
      result.conventions.backendReason = reason;
      json = await seedsDynamicsJson(result, { bundle: bundle.name, entries: bundle.entries, options: parsed.options, reason });
      ({ warnings } = result);
      text = formatSeedsDynamics(result);
    } else if (parsed.command === 'cross' && parsed.allPairs) {
      expectPositional(parsed, 1, 'one bundle with two or more runs');
      if (parsed.runA !== undefined || parsed.runB !== undefined) throw new UsageError('--all-pairs and --run-a/--run-b exclude each other');
      const bundle = await openBundlePath(parsed.positional[0]);
      const switched = fitConvReduction(parsed, [bundle]);
      const result = await computeCrossAllPairs({ bundle, step: parsed.step }, parsed.options, {}, backend);
      if (switched) result.warnings.unshift(switched);
      result.warnings.push(...leftOutWarnings([bundle]));
      result.conventions.backendReason = reason;
      json = await seedsCrossJson(result, { bundle: bundle.name, entries: bundle.entries, options: parsed.options, reason });
      ({ warnings } = result);
      text = formatSeedsCross(result);
    } else if (parsed.command === 'dynamics') {
      expectPositional(parsed, 1, 'one bundle');
      const bundle = await openBundlePath(parsed.positional[0]);
      const switched = fitConvReduction(parsed, [bundle]);
      const result: DynamicsResult = await computeDynamics(
        { bundle, run: parsed.run, reference: parsed.reference, baseline: parsed.baseline },
        parsed.options,
        {},
        backend,
      );
      if (switched) result.warnings.unshift(switched);
      result.warnings.push(...leftOutWarnings([bundle]));
      result.conventions.backendReason = reason;
      const run = parsed.run === undefined ? bundle.runs[0] : parsed.run;
      const freeze = freezeSteps(result, parsed.threshold);
      const described = await withDynamicsProvenance(result, {
        bundle: bundle.name,
        run,
        entries: bundle.entries,
        options: parsed.options,
        leftOut: [],
        reason,
      });
      // `freeze` when asked about (--baseline or --threshold): otherwise the schema stays the app's Export JSON.
      json = parsed.baseline || parsed.thresholdGiven ? { ...described, freeze: { threshold: parsed.threshold, layers: freeze } } : described;
      if (parsed.json) (json as { k99?: number[][] }).k99 = (await dimensionsOverTraining(bundle, run, parsed.options)).k99;
      ({ warnings } = result);
      text = formatDynamics(result) + '\n' + formatFreeze(freeze, parsed.threshold, result.reference);
    } else if (parsed.command === 'cross') {
      expectPositional(parsed, 2, 'two bundles, A and B');
      const [bundleA, bundleB] = await Promise.all(parsed.positional.map((p) => openBundlePath(p)));
      const switched = fitConvReduction(parsed, [bundleA, bundleB]);
      const result: CrossResult = await computeCross(
        { a: { bundle: bundleA, run: parsed.runA }, b: { bundle: bundleB, run: parsed.runB }, step: parsed.step, baseline: parsed.baseline },
        parsed.options,
        {},
        backend,
      );
      if (switched) result.warnings.unshift(switched);
      result.warnings.push(...leftOutWarnings(parsed.positional[0] === parsed.positional[1] ? [bundleA] : [bundleA, bundleB]));
      result.conventions.backendReason = reason;
      const runA = parsed.runA === undefined ? bundleA.runs[0] : parsed.runA;
      const runB = parsed.runB === undefined ? bundleB.runs[0] : parsed.runB;
      json = await withCrossProvenance(result, {
        a: { bundle: bundleA.name, run: runA, entries: bundleA.entries, leftOut: [] },
        b: { bundle: bundleB.name, run: runB, entries: bundleB.entries, leftOut: [] },
        options: parsed.options,
        reason,
      });
      ({ warnings } = result);
      text = formatCross(result);
    } else if (parsed.command === 'classes') {
      expectPositional(parsed, 1, 'one bundle');
      const bundle = await openBundlePath(parsed.positional[0]);
      ({ json, text, warnings } = await classesCommand(bundle, parsed.run, parsed.classes, parsed.options));
      warnings.push(...leftOutWarnings([bundle]));
    } else {
      throw new UsageError(`unknown command ${parsed.command || '(none)'}; use compare, dynamics, cross, classes or view`);
    }
    (json as { conventions: { backendReason?: string } }).conventions.backendReason = reason;
    for (const w of warnings) out.stderr(`svcca-lens: warning: ${w}`);
    out.stdout(parsed.json ? terminalSafeJson(JSON.stringify(json)) : printableLines(text));
    return 0;
  } catch (error) {
    if (error instanceof InputError) {
      out.stderr(`svcca-lens: ${error.message}`);
    } else if (error instanceof UsageError) {
      out.stderr(`svcca-lens: ${error.message} (see svcca-lens --help)`);
    } else {
      // A bug, not bad input: still one line, no stack trace.
      out.stderr(`svcca-lens: internal error: ${(error as Error).message ?? String(error)}`);
    }
    return 2;
  }
}
