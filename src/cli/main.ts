// svcca-lens: the engine on the command line (Node). Runs through tsx from bin/svcca-lens.mjs, so it
// needs no build step. Errors: exit status 2 and one line on stderr, "svcca-lens: FILE[:MEMBER]: what
// is wrong"; warnings go to stderr and, with --json, into the JSON object too.

import { existsSync } from 'node:fs';
import { registerGpuBackend, resolveBackend } from '../analysis/backend';
import { computeCross, computeDynamics, comparePair } from '../analysis/engine';
import { webgpuBackendFactory } from '../analysis/gpuBackend';
import { nodeGpu, nodeGpuFailure } from '../gpu/node';
import { CONV_REDUCTIONS, DEFAULT_OPTIONS, METRICS, type AnalysisOptions, type ConvReduction, type CrossResult, type DynamicsResult, type Metric, type PairResult } from '../analysis/types';
import { loadArrayRef, openBundlePath } from '../io/node';
import { InputError } from '../io/types';
import { formatCross, formatDynamics, formatPair } from './format';

export const USAGE = `usage:
  svcca-lens compare A B [options]          A, B: file.npy, file.npz:member, file.safetensors:tensor
  svcca-lens dynamics BUNDLE [--reference last|STEP] [--run NAME] [options]
                                             values[t][i][j] = sim(layer i at step t, layer j at reference)
  svcca-lens cross BUNDLE_A BUNDLE_B [--step N] [--run-a NAME] [--run-b NAME] [options]
                                             values[i][j] = sim(A's layer i, B's layer j)
options:
  --metric svcca|cca|pwcca|cka|cka-debiased   (default svcca)
  --keep F | --dims K         SVCCA's SVD step: variance fraction (default 0.99) or fixed k
  --epsilon E                 cca_core's epsilon (default 1e-10)
  --layout auto|datapoints-first|neurons-first
  --conv flatten|positions|meanpool|dft        (default dft)
  --conv-layout auto|nchw|nhwc
  --pwcca reference|paper     PWCCA weighting (default reference)
  --backend auto|cpu|webgpu   (default auto)
  --json                      one JSON object on stdout
BUNDLE: a .npz with members step_<N>/<layer> (or <run>/step_<N>/<layer>), a folder
[<run>/]step_<N>/<layer>.npy, or a folder of step_<N>.safetensors files.`;

/** A mistake in how the command was called (not in the data). */
class UsageError extends Error {}

interface Parsed {
  command: string;
  positional: string[];
  options: AnalysisOptions;
  json: boolean;
  reference: 'last' | number;
  step?: number;
  run?: string;
  runA?: string;
  runB?: string;
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
  const parsed: Parsed = { command: command ?? '', positional: [], options, json: false, reference: 'last' };
  const valueFlags = new Set([
    '--metric', '--keep', '--dims', '--epsilon', '--layout', '--conv', '--conv-layout', '--pwcca', '--backend',
    '--reference', '--step', '--run', '--run-a', '--run-b',
  ]);
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--json') {
      parsed.json = true;
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
        options.metric = oneOf(flag, value, METRICS) as Metric;
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
        options.convReduction = oneOf(flag, value, CONV_REDUCTIONS) as ConvReduction;
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
    }
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
  if (options.backend === 'auto' && !gpuVisible()) return { ...(await resolveBackend('cpu')), reason: 'CPU (float64): no GPU device is visible on this machine' };
  registerGpuBackend(webgpuBackendFactory(nodeGpu));
  try {
    return await resolveBackend(options.backend);
  } catch (error) {
    const loading = nodeGpuFailure();
    throw new UsageError(`--backend webgpu: ${(error as Error).message}${loading ? ` (the webgpu package did not load: ${loading})` : ''} (install the optional 'webgpu' package and a Vulkan, Metal or D3D12 driver, or use --backend cpu)`);
  }
}

interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processOutput: Output = {
  stdout: (text) => process.stdout.write(text + '\n'),
  stderr: (text) => process.stderr.write(text + '\n'),
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
  };
}

/** Runs one command; returns the exit status. */
export async function main(argv: string[], out: Output = processOutput): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      out.stdout(USAGE);
      return argv.length === 0 ? 2 : 0;
    }
    const parsed = parseArgs(argv);
    const { backend, reason } = await chooseBackend(parsed.options);
    if (parsed.options.backend === 'webgpu') out.stderr(`svcca-lens: backend: ${reason}`);
    let warnings: string[];
    let json: unknown;
    let text: string;
    if (parsed.command === 'compare') {
      expectPositional(parsed, 2, 'two arrays, A and B');
      const [a, b] = await Promise.all(parsed.positional.map((ref) => loadArrayRef(ref)));
      const result = await comparePair(a, b, parsed.options, backend);
      ({ warnings } = result);
      json = compareJson(result);
      text = formatPair(result, a.name, b.name);
    } else if (parsed.command === 'dynamics') {
      expectPositional(parsed, 1, 'one bundle');
      const bundle = await openBundlePath(parsed.positional[0]);
      const result: DynamicsResult = await computeDynamics({ bundle, run: parsed.run, reference: parsed.reference }, parsed.options, {}, backend);
      ({ warnings } = result);
      json = result;
      text = formatDynamics(result);
    } else if (parsed.command === 'cross') {
      expectPositional(parsed, 2, 'two bundles, A and B');
      const [bundleA, bundleB] = await Promise.all(parsed.positional.map((p) => openBundlePath(p)));
      const result: CrossResult = await computeCross(
        { a: { bundle: bundleA, run: parsed.runA }, b: { bundle: bundleB, run: parsed.runB }, step: parsed.step },
        parsed.options,
        {},
        backend,
      );
      ({ warnings } = result);
      json = result;
      text = formatCross(result);
    } else {
      throw new UsageError(`unknown command ${parsed.command || '(none)'}; use compare, dynamics or cross`);
    }
    (json as { conventions: { backendReason?: string } }).conventions.backendReason = reason;
    for (const w of warnings) out.stderr(`svcca-lens: warning: ${w}`);
    out.stdout(parsed.json ? JSON.stringify(json) : text);
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
