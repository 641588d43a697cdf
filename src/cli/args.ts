// The CLI's command line: flags into AnalysisOptions and the commands' own settings, with one-line
// refusals (UsageError) for a call that cannot be right.

import { DEFAULT_BASELINE_SEED, DEFAULT_FREEZE_THRESHOLD, MAX_PERMUTATIONS } from '../analysis/chanceDefs';
import { METRICS } from '../analysis/metricDefs';
import {
  BASELINE_NULLS,
  CONV_REDUCTIONS,
  DEFAULT_OPTIONS,
  type AnalysisOptions,
  type BaselineNull,
  type BaselineRequest,
  type ConvReduction,
  type Metric,
} from '../analysis/types';
import { MAX_THREADS } from '../analysis/pool/pool';
import { CLASS_VALUE_FLAGS, parseClassFlag, type ClassFlags } from './classes';

/** A mistake in how the command was called (not in the data). */
export class UsageError extends Error {}

export interface Parsed {
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
  /** --baseline P / --seed S / --baseline-cells / --baseline-null: the chance level, when asked for. */
  baseline?: BaselineRequest;
  seed?: number;
  baselineCells?: 'all' | 'diagonal';
  baselineNull?: BaselineNull;
  threshold: number;
  thresholdGiven?: boolean;
  /** compare --sweep-k */
  sweepK?: boolean;
  /** The classes command's flags (cli/classes.ts). */
  classes: ClassFlags;
  /** --threads N: threads of the float64 CPU path (default: one per core, analysis/pool/node.ts). */
  threads?: number;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got ${value})`);
  return value as T;
}

export function numberFlag(flag: string, value: string, check: (v: number) => boolean, what: string): number {
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
    '--threads',
    '--baseline-null',
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
        options.keep = { kind: 'variance', fraction: numberFlag(flag, value, (v) => v > 0 && v <= 1, 'a fraction in (0, 1]') };
        break;
      case '--dims':
        options.keep = { kind: 'dims', k: numberFlag(flag, value, (v) => Number.isInteger(v) && v >= 1, 'a positive integer') };
        break;
      case '--epsilon':
        options.epsilon = numberFlag(flag, value, (v) => v >= 0, 'a number ≥ 0');
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
        parsed.reference = value === 'last' ? 'last' : numberFlag(flag, value, (v) => Number.isInteger(v) && v >= 0, 'last or a step number');
        break;
      case '--step':
        parsed.step = numberFlag(flag, value, (v) => Number.isInteger(v) && v >= 0, 'a step number');
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
          permutations: numberFlag(
            flag,
            value,
            (v) => Number.isInteger(v) && v >= 2 && v <= MAX_PERMUTATIONS,
            `a whole number of permutations from 2 to ${MAX_PERMUTATIONS}`,
          ),
          seed: DEFAULT_BASELINE_SEED,
          cells: 'all',
          null: 'auto',
        };
        break;
      case '--seed':
        parsed.seed = numberFlag(flag, value, (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, 'a whole number from 0 to 4294967295');
        break;
      case '--threads':
        parsed.threads = numberFlag(flag, value, (v) => Number.isInteger(v) && v >= 1 && v <= MAX_THREADS, `a whole number from 1 to ${MAX_THREADS}`);
        break;
      case '--baseline-cells':
        parsed.baselineCells = oneOf(flag, value, ['all', 'diagonal'] as const);
        break;
      case '--baseline-null':
        parsed.baselineNull = oneOf(flag, value, BASELINE_NULLS);
        break;
      case '--threshold':
        // classes: the correlation a class must reach (cli/classes.ts); otherwise the freeze threshold.
        if (parsed.command === 'classes') {
          parseClassFlag(parsed.classes, flag, value, numberFlag, oneOf);
          break;
        }
        parsed.threshold = numberFlag(flag, value, (v) => v >= 0 && v <= 1, 'a similarity in [0, 1]');
        parsed.thresholdGiven = true;
        break;
      default:
        parseClassFlag(parsed.classes, flag, value, numberFlag, oneOf);
    }
  }
  if (parsed.baseline) {
    if (parsed.seed !== undefined) parsed.baseline.seed = parsed.seed;
    if (parsed.baselineCells) parsed.baseline.cells = parsed.baselineCells;
    if (parsed.baselineNull) parsed.baseline.null = parsed.baselineNull;
    const metric = parsed.options.metric;
    if (parsed.baseline.null === 'gaussian' && metric !== 'cca' && metric !== 'svcca') {
      throw new UsageError(`--baseline-null gaussian is for --metric cca or svcca (canonical correlations), not ${metric}: use permutation`);
    }
  } else if (parsed.seed !== undefined || parsed.baselineCells || parsed.baselineNull) {
    const flag = parsed.seed !== undefined ? '--seed' : parsed.baselineCells ? '--baseline-cells' : '--baseline-null';
    throw new UsageError(`${flag} applies to the chance level: add --baseline P`);
  }
  return parsed;
}

export function expectPositional(parsed: Parsed, count: number, names: string): void {
  if (parsed.positional.length !== count) {
    throw new UsageError(`${parsed.command} takes ${names} (got ${parsed.positional.length} argument${parsed.positional.length === 1 ? '' : 's'})`);
  }
}

/** A study's inputs: one bundle file or folder, or several files given together (one file per seed). */
export function expectStudy(parsed: Parsed, names: string): void {
  if (parsed.positional.length === 0) throw new UsageError(`${parsed.command} takes ${names} (got no arguments)`);
}
