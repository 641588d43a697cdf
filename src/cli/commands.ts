// svcca-lens's commands (compare, dynamics, cross, classes, view): the engine on the command line
// (Node). Loaded by main.ts only once the call is a command, so that --help, --version and a
// misspelt command start without parsing the engine. Errors: exit status 2 and one line on stderr,
// "svcca-lens: FILE[:MEMBER]: what is wrong"; warnings go to stderr and, with --json, into the JSON
// object too.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { registerCpuBackend, registerGpuBackend, resolveBackend } from '../analysis/backend';
import { createNodePool } from '../analysis/pool/node';
import type { CpuPool } from '../analysis/pool/pool';
import { computeCross, computeDynamics, comparePair } from '../analysis/engine';
import { webgpuBackendFactory } from '../analysis/gpu';
import { nodeGpu, nodeGpuFailure } from '../gpu/node';
import { type AnalysisOptions, type CrossResult, type DynamicsResult, type PairResult } from '../analysis/types';
import { loadArrayRef, openBundlePath, openBundlePaths } from '../io/node';
import { InputError } from '../io/types';
import { printableLines, terminalSafeJson } from '../io/printable';
import { formatCross, formatDynamics, formatFreeze, formatPair } from './format';
import { freezeSteps } from '../analysis/baseline';
import { convReductionFits, switchNotice, workingConvReduction } from '../analysis/compatibility';
import { registerIncrementalSha256, rememberEntryDigest, withCrossProvenance, withDynamicsProvenance } from '../analysis/provenance';
import { anyConv, chosenRun, isInformational } from '../analysis/rules';
import type { Bundle } from '../io/types';
import type { OpenedBundle } from '../io/bundle';
import { ensureBuilt, listInputs, openBrowser, serveView } from './view';
import { computeCrossAllPairs, computeDynamicsAllRuns, SeedsFailedError } from '../analysis/seedJobs';
import { formatSeedsCross, formatSeedsDynamics, seedsCrossJson, seedsDynamicsJson } from './seeds';

import { classesCommand, pairSweepK } from './classes';
import type { Output } from './output';
import { unknownCommand } from './help';
import { UsageError, expectPositional, expectStudy, numberFlag, parseArgs, type Parsed } from './args';

const STUDY = 'one bundle (a file or folder, or one file per run)';

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
function fitConvReduction(parsed: Parsed, bundles: readonly { entries: readonly { shape: readonly number[] }[] }[]): string | null {
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
      port = numberFlag('--port', value, (v) => Number.isInteger(v) && v >= 0 && v < 65536, 'a port number (0: any free port)');
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
    return [...b.excluded, ...found, ...b.warnings];
  });
}

/**
 * The runs `cross` compares where --run-a / --run-b are not given: each bundle's first run, except
 * that A and B being the same bundle compares two different runs of it (as the app's Across runs
 * view opens on its first two), so `cross seeds.npz seeds.npz` is not a run against itself.
 */
export function crossRuns(runsA: (string | null)[], runsB: (string | null)[], givenA: string | undefined, givenB: string | undefined, sameBundle: boolean) {
  const other = (runs: (string | null)[], not: string | null) => runs.find((r) => r !== not) ?? runs[0];
  const runA = givenA ?? (sameBundle && givenB !== undefined ? other(runsA, givenB) : runsA[0]);
  const runB = givenB ?? (sameBundle ? other(runsB, runA) : runsB[0]);
  return { runA, runB };
}

/** "FILE's run R" where the file holds several runs, "FILE" alone otherwise (its one run is named after it). */
function runLabel(bundle: OpenedBundle, run: string | null): string {
  return bundle.runs.length > 1 ? `${bundle.name}'s run ${run}` : bundle.name;
}

/** The note that a command took one run of several without being told which (nothing for a one-run bundle). */
function runChosenNote(bundle: OpenedBundle, run: string | null, subject: string, howToChange: string): string[] {
  if (bundle.runs.length < 2) return [];
  const listed = bundle.runs.length > 8 ? `${bundle.runs.slice(0, 8).join(', ')}, …` : bundle.runs.join(', ');
  return [`${bundle.name} holds ${bundle.runs.length} runs (${listed}); ${subject} ${run}: ${howToChange}`];
}

/** The float64 path's worker threads of the command running (started on its first parallel work). */
let cpuPool: CpuPool | null = null;

/** Runs one command (argv[0]: compare, dynamics, cross, classes or view); returns the exit status. */
export async function runCommand(argv: string[], out: Output): Promise<number> {
  try {
    return await command(argv, out);
  } finally {
    const failure = cpuPool?.startFailure;
    if (failure) out.stderr(`svcca-lens: warning: worker threads could not start (${failure}); computed on one thread`);
    cpuPool?.close();
    cpuPool = null;
    registerCpuBackend(null);
    registerIncrementalSha256(null);
  }
}

async function command(argv: string[], out: Output): Promise<number> {
  try {
    if (argv[0] === 'view') return await view(argv.slice(1), out);
    const parsed = parseArgs(argv);
    cpuPool = createNodePool(parsed.threads);
    registerCpuBackend(cpuPool);
    // Every array hashed as read, without a copy (provenance.ts): --json never reads one again.
    registerIncrementalSha256(() => createHash('sha256'));
    const { backend, reason } = await chooseBackend(parsed.options);
    if (parsed.options.backend === 'webgpu') out.stderr(`svcca-lens: backend: ${reason}`);
    if (parsed.allRuns && parsed.command !== 'dynamics') throw new UsageError('--all-runs belongs to dynamics (cross takes --all-pairs)');
    if (parsed.allPairs && parsed.command !== 'cross') throw new UsageError('--all-pairs belongs to cross (dynamics takes --all-runs)');
    let warnings: string[];
    // Which run a command took where the user named none and the bundle holds several: the text
    // output's header does not say, so it goes to stderr as a note (the JSON has it as `run`).
    const notes: string[] = [];
    // The JSON is built only for --json: its provenance hashes every array the job read (for arrays
    // not hashed as read, a second read of each), which the plain-text output never shows.
    let json: () => unknown;
    let text: string;
    if (parsed.command === 'compare') {
      expectPositional(parsed, 2, 'two arrays, A and B');
      const [a, b] = await Promise.all(parsed.positional.map((ref) => loadArrayRef(ref)));
      // As dynamics and cross do: a metric that cannot run through the DFT takes its working reduction for conv arrays.
      const switched = fitConvReduction(parsed, [{ entries: [a.array, b.array] }]);
      const result = await comparePair(a, b, parsed.options, backend, parsed.baseline);
      if (switched) result.warnings.unshift(switched);
      ({ warnings } = result);
      text = formatPair(result, a.name, b.name);
      json = () => compareJson(result);
      if (parsed.sweepK) {
        const sweep = pairSweepK(a, b, parsed.options);
        warnings.push(...sweep.warnings);
        json = () => Object.assign(compareJson(result), { sweepK: sweep.json.sweepK, k99: sweep.json.k99 });
        text += '\n' + sweep.text;
      }
    } else if (parsed.command === 'dynamics' && parsed.allRuns) {
      expectStudy(parsed, STUDY);
      if (parsed.run !== undefined) throw new UsageError('--all-runs and --run exclude each other');
      const bundle = await openBundlePaths(parsed.positional);
      const switched = fitConvReduction(parsed, [bundle]);
      const result = await computeDynamicsAllRuns(
        { bundle, reference: parsed.reference, threshold: parsed.threshold, baseline: parsed.baseline },
        parsed.options,
        {},
        backend,
      );
      if (switched) result.warnings.unshift(switched);
      result.warnings.push(...leftOutWarnings([bundle]));
      result.conventions.backendReason = reason;
      json = () => seedsDynamicsJson(result, { bundle: bundle.name, entries: bundle.entries, options: parsed.options, reason });
      ({ warnings } = result);
      text = formatSeedsDynamics(result);
    } else if (parsed.command === 'cross' && parsed.allPairs) {
      expectStudy(parsed, 'one bundle with two or more runs (a file or folder, or one file per run)');
      if (parsed.runA !== undefined || parsed.runB !== undefined) throw new UsageError('--all-pairs and --run-a/--run-b exclude each other');
      const bundle = await openBundlePaths(parsed.positional);
      const switched = fitConvReduction(parsed, [bundle]);
      const result = await computeCrossAllPairs({ bundle, step: parsed.step, baseline: parsed.baseline }, parsed.options, {}, backend);
      if (switched) result.warnings.unshift(switched);
      result.warnings.push(...leftOutWarnings([bundle]));
      result.conventions.backendReason = reason;
      json = () => seedsCrossJson(result, { bundle: bundle.name, entries: bundle.entries, options: parsed.options, reason });
      ({ warnings } = result);
      text = formatSeedsCross(result);
    } else if (parsed.command === 'dynamics') {
      expectStudy(parsed, STUDY);
      const bundle = await openBundlePaths(parsed.positional);
      const switched = fitConvReduction(parsed, [bundle]);
      const result: DynamicsResult = await computeDynamics(
        // With --json, each array is hashed as the job reads it and its k99 computed there too: the
        // provenance's content hash and k99 table read nothing again.
        {
          bundle,
          run: parsed.run,
          reference: parsed.reference,
          baseline: parsed.baseline,
          ...(parsed.json ? { onArrayRead: rememberEntryDigest, k99: true } : {}),
        },
        parsed.options,
        {},
        backend,
      );
      if (switched) result.warnings.unshift(switched);
      result.warnings.push(...leftOutWarnings([bundle]));
      result.conventions.backendReason = reason;
      const run = chosenRun(bundle, parsed.run);
      if (parsed.run === undefined)
        notes.push(...runChosenNote(bundle, run, 'this is', '--run NAME picks another, --all-runs gives mean ± sd over all of them'));
      const freeze = freezeSteps(result, parsed.threshold);
      json = async () => {
        const described = await withDynamicsProvenance(result, { bundle, run, options: parsed.options, leftOut: [], reason });
        // `freeze` when asked about (--baseline or --threshold): otherwise the schema stays the app's Export JSON.
        return parsed.baseline || parsed.thresholdGiven ? { ...described, freeze: { threshold: parsed.threshold, layers: freeze } } : described;
      };
      ({ warnings } = result);
      text = formatDynamics(result) + '\n' + formatFreeze(freeze, parsed.threshold, result.reference);
    } else if (parsed.command === 'cross') {
      // One bundle alone is A and B both: two of its runs, as the app's Across runs view opens.
      if (parsed.positional.length !== 1) expectPositional(parsed, 2, 'two bundles, A and B (or one bundle of several runs)');
      const paths = parsed.positional.length === 1 ? [parsed.positional[0], parsed.positional[0]] : parsed.positional;
      const sameBundle = resolve(paths[0]) === resolve(paths[1]);
      const [bundleA, bundleB]: OpenedBundle[] = sameBundle
        ? await openBundlePath(paths[0]).then((opened) => [opened, opened])
        : await Promise.all(paths.map((p) => openBundlePath(p)));
      if (parsed.positional.length === 1 && bundleA.runs.length < 2)
        throw new UsageError(`cross takes two bundles, A and B, or one bundle of several runs; ${bundleA.name} holds one run: give a second bundle`);
      const { runA, runB } = crossRuns(bundleA.runs, bundleB.runs, parsed.runA, parsed.runB, sameBundle);
      if (parsed.runA === undefined)
        notes.push(...runChosenNote(bundleA, runA, 'A is', `--run-a NAME picks another${sameBundle ? ', --all-pairs compares every pair of them' : ''}`));
      if (parsed.runB === undefined) notes.push(...runChosenNote(bundleB, runB, 'B is', '--run-b NAME picks another'));
      const switched = fitConvReduction(parsed, [bundleA, bundleB]);
      const result: CrossResult = await computeCross(
        { a: { bundle: bundleA, run: runA }, b: { bundle: bundleB, run: runB }, step: parsed.step, baseline: parsed.baseline },
        parsed.options,
        {},
        backend,
      );
      if (switched) result.warnings.unshift(switched);
      result.warnings.push(...leftOutWarnings(sameBundle ? [bundleA] : [bundleA, bundleB]));
      result.conventions.backendReason = reason;
      if (sameBundle && runA === runB) result.warnings.push(`A and B are the same run (${runLabel(bundleA, runA)}): every layer is compared with itself`);
      json = () =>
        withCrossProvenance(result, {
          a: { bundle: bundleA.name, run: runA, entries: bundleA.entries, leftOut: [] },
          b: { bundle: bundleB.name, run: runB, entries: bundleB.entries, leftOut: [] },
          options: parsed.options,
          reason,
        });
      ({ warnings } = result);
      text = formatCross(result);
    } else if (parsed.command === 'classes') {
      expectStudy(parsed, STUDY);
      const bundle = await openBundlePaths(parsed.positional);
      if (parsed.run === undefined) notes.push(...runChosenNote(bundle, chosenRun(bundle, undefined), 'this is', '--run NAME picks another'));
      ({ json, text, warnings } = await classesCommand(bundle, parsed.run, parsed.classes, parsed.options));
      warnings.push(...leftOutWarnings([bundle]));
    } else {
      throw new UsageError(unknownCommand(parsed.command));
    }
    let printed: string;
    if (parsed.json) {
      const built = (await json()) as { conventions: { backendReason?: string } };
      built.conventions.backendReason = reason;
      printed = terminalSafeJson(JSON.stringify(built));
    } else printed = printableLines(text);
    // How conv layers were read and reduced is a note, not a warning (as the app's Notes line).
    for (const n of notes) out.stderr(`svcca-lens: note: ${n}`);
    for (const w of warnings) out.stderr(`svcca-lens: ${isInformational(w) ? 'note' : 'warning'}: ${w}`);
    out.stdout(printed);
    return 0;
  } catch (error) {
    if (error instanceof InputError || error instanceof SeedsFailedError) {
      // SeedsFailedError: too few runs (pairs) of --all-runs / --all-pairs succeeded; it names each failed one and why.
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
