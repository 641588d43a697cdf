// The CLI's help texts: the overview (`svcca-lens --help`) and each command's own (`svcca-lens CMD --help`).

import { DEFAULT_BASELINE_SEED, DEFAULT_FREEZE_THRESHOLD } from '../analysis/chanceDefs';
import { METRICS } from '../analysis/metricDefs';
import { DEFAULT_OPTIONS } from '../analysis/types';

/** The commands, as argv[0]. */
export const COMMANDS = ['compare', 'dynamics', 'cross', 'classes', 'view'] as const;

/** The refusal of a first argument that is not a command (without the "svcca-lens: " prefix). */
export function unknownCommand(name: string): string {
  return `unknown command ${name || '(none)'}; use ${COMMANDS.slice(0, -1).join(', ')} or ${COMMANDS[COMMANDS.length - 1]}`;
}

/** The classes command's own flags (parsed in classes.ts). */
const CLASS_OPTIONS_HELP = `  --layer L                   only this layer (default: every layer)
  --target logits|indicator   the class target (default: logits when the bundle has a layer named
                              logits, else the indicator 1[label = c])
  --logits LAYER              the layer holding one logit per class (default: the layer named logits)
  --threshold T               firstStep: the first step a class reaches ρ ≥ T (default 0.8)
  --run NAME                  which run (default: the first)`;

export const OPTIONS_HELP = `options:
  --metric ${METRICS.join('|')}   (default ${DEFAULT_OPTIONS.metric})
  --keep F | --dims K         SVCCA's SVD step: variance fraction (default 0.99) or fixed k
  --epsilon E                 cca_core's epsilon (default 1e-10)
  --layout auto|datapoints-first|neurons-first
  --conv flatten|positions|meanpool|dft        (default dft; CKA/PWCCA switch conv layers off the DFT)
  --conv-layout auto|nchw|nhwc
  --pwcca reference|paper     PWCCA weighting (default reference)
  --backend auto|cpu|webgpu   (default auto)
  --threads N                 threads of the float64 CPU path (default: one per core, at most 16;
                              1: no worker threads); the numbers are the same on any count
  --json                      one JSON object on stdout
  --baseline P                also the chance level of every value: its value between unrelated data,
                              P draws of the null (P ≥ 2; 20 is a good start): {mean, sd, z, p,
                              permutations (the draws), seed, null} per value in --json (null where
                              the value is null), a chance line or table in the text
  --baseline-null auto|gaussian|permutation
                              which null (default auto): gaussian draws the canonical correlations
                              against independent Gaussian data from the kept dimensions alone (cca,
                              svcca; cheap); permutation permutes B's datapoints and recomputes
                              (every metric; exact, P times the work); auto: gaussian for cca and
                              svcca, permutation for pwcca, cka and --conv positions
  --seed S                    the null's seed (default ${DEFAULT_BASELINE_SEED}): same seed, same numbers`;

export const EXIT_HELP = `exit status: 0 done; 2 bad input or a bad call (one line on stderr: "svcca-lens: …").`;

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
svcca-lens COMMAND --help: that command's options and examples. svcca-lens --version: the version.
${EXIT_HELP}
BUNDLE: a .npz, .safetensors, torch.save (.pt) or pickle (.pkl) file with arrays named
[<run>/]step_<N>/<layer> (torch/pickle: nested dicts {"step_<N>": {"<layer>": t}} too), an HDF5
file with datasets /[<run>/]step_<N>/<layer>, a folder [<run>/]step_<N>/<layer>.npy, or a folder of
step_<N>.safetensors (.pt, .pkl, .h5) files holding one array per layer. dynamics, cross --all-pairs
and classes also take several such files given together (a.npz b.npz), one run per file named after
it, as the app reads files dropped together.`;

/** \`svcca-lens COMMAND --help\`: what the command computes, its options and examples. */
export const COMMAND_HELP: ReadonlyMap<string, string> = new Map([
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
  a folder [<run>/]step_<N>/<layer>.npy, or a folder of step_<N> files with one array per layer;
  or one file per seed (svcca-lens dynamics seedA.npz seedB.npz --run seedB): runs named after the files.
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
                              the diagonal with its spread, perRun[r][t][i][j] each run's values (JSON);
                              with --baseline each run's chance level (same permutations for every run):
                              freeze[].chance the chance at each run's freeze step, whether T lies above
                              chance + 2 sd there, and their mean ± sd over runs; chanceCells[t][i][j]
                              A run whose job fails is left out with a warning naming it and why
                              (failedRuns in --json); fewer than 2 runs computed: exit 2
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
  (default: the last step both have). A and B may be the same bundle, or one bundle given alone
  (svcca-lens cross seeds.npz): A is then its first run and B its second, unless --run-a / --run-b
  say otherwise. Where a bundle holds several runs and none is named, stderr says which was taken.
${OPTIONS_HELP}
many seeds:
  svcca-lens cross BUNDLE --all-pairs [--step N] [options]
                              every unordered pair of BUNDLE's runs (A = the earlier run) at step N
                              (default: the last step all runs have); cells[i][j] = {mean, sd (ddof 1),
                              min, max, n} over pairs, pairs[] each pair's values, diagonal[] the same
                              layer across seeds with its spread (JSON); with --baseline every pair's
                              chance level combined per cell (chance[i][j]: chance mean ± sd over pairs,
                              Stouffer's Z, Cantelli's p) and per layer whether it agrees across seeds
                              more than chance (diagonal[].chance: Holm over the layers, α = 0.05);
                              a pair whose job fails is left out with a warning naming it and why
                              (failedPairs in --json); no pair computed: exit 2
  --baseline-cells all|diagonal   with --baseline: every cell (default) or only A's layer i against B's layer i
examples:
  svcca-lens cross public/demo/fashion-resnet.npz public/demo/fashion-resnet.npz --run-a seed0 --run-b seed1
  svcca-lens cross seed0.npz seed1.npz --baseline 20 --json | jq .baseline
  svcca-lens cross seed0.npz seed1.npz --step 700 --json
  svcca-lens cross seeds.npz --all-pairs --json | jq '.diagonal'
  svcca-lens cross seeds.npz --all-pairs --baseline 20 --baseline-cells diagonal
${EXIT_HELP}`,
  ],
  [
    'classes',
    `usage: svcca-lens classes BUNDLE [--layer L] [--target logits|indicator] [--logits LAYER] [--run R] [options]
  Class sensitivity over training (paper §4.3, Figure 6): values[l][c][t] = the CCA correlation between
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
