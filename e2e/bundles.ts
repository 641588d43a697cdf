// Deterministic bundles for the explorer's end-to-end tests, written the way training scripts
// write them: an .npz with members [<run>/]step_<N>/<layer> (+ labels, manifest.json), or a folder
// [<run>/]step_<N>/<layer>.npy. The activations have learning dynamics built in: every layer moves
// from noise towards its final representation, lower layers first (bottom-up convergence).

import { zipSync } from 'fflate';
import { encodeNpy } from '../src/io/npy';
import { randn } from './fixtures';
import type { FilePayload } from './fixtures';

export interface BundleSpec {
  layers?: string[];
  steps?: number[];
  runs?: (string | null)[];
  datapoints?: number;
  /** Neurons per layer (cycled). */
  neurons?: number[];
  classes?: number;
  seed?: number;
  /** Quantise activations to a few levels so that a compressed npz stays small (big test bundles). */
  quantise?: boolean;
  labels?: boolean;
  manifest?: boolean;
}

export const DEFAULT_LAYERS = ['conv1', 'conv2', 'fc1', 'fc2', 'logits'];
export const DEFAULT_STEPS = [0, 100, 200, 400, 800, 1600];

/** Members (path without .npy → array) of a bundle. */
export function bundleArrays(spec: BundleSpec = {}): { name: string; shape: number[]; data: Float32Array | Float64Array }[] {
  const layers = spec.layers ?? DEFAULT_LAYERS;
  const steps = spec.steps ?? DEFAULT_STEPS;
  const runs = spec.runs ?? [null];
  const m = spec.datapoints ?? 240;
  const neurons = spec.neurons ?? [16, 14, 12, 10, 8];
  const classes = spec.classes ?? 6;
  const seed = spec.seed ?? 11;
  const latentDim = 12;
  const labels = Float64Array.from({ length: m }, (_, i) => (i * 7 + (i >> 3)) % classes);
  // Latent inputs: a class mean plus noise, so directions over datapoints show the labels.
  const means = randn(seed, classes * latentDim);
  const noise = randn(seed + 1, m * latentDim);
  const latent = Float64Array.from(
    { length: m * latentDim },
    (_, k) => 1.5 * means[labels[Math.floor(k / latentDim)] * latentDim + (k % latentDim)] + noise[k],
  );
  const out: { name: string; shape: number[]; data: Float32Array | Float64Array }[] = [];
  runs.forEach((run, r) => {
    layers.forEach((layer, l) => {
      const n = neurons[l % neurons.length];
      // Final representation: a random map of the latent inputs through tanh, per run.
      const w = randn(seed + 100 * (r + 1) + l, latentDim * n);
      const final = new Float64Array(m * n);
      for (let p = 0; p < m; p++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let d = 0; d < latentDim; d++) s += latent[p * latentDim + d] * w[d * n + j];
          final[p * n + j] = Math.tanh(s / Math.sqrt(latentDim));
        }
      steps.forEach((step, t) => {
        // Progress of layer l at checkpoint t: lower layers get there first.
        const speed = 1 + (layers.length - 1 - l) * 0.6;
        const alpha = Math.min(1, ((t + 1) / steps.length) * speed);
        const eps = randn(seed + 1000 * (r + 1) + 37 * l + t, m * n);
        const data = new Float32Array(m * n);
        for (let k = 0; k < m * n; k++) {
          const v = alpha * final[k] + (1 - alpha) * 0.6 * eps[k];
          data[k] = spec.quantise ? Math.round(v * 2) / 2 : v;
        }
        out.push({ name: `${run === null ? '' : `${run}/`}step_${step}/${layer}`, shape: [m, n], data });
      });
    });
  });
  if (spec.labels ?? true) out.push({ name: 'labels', shape: [m], data: labels });
  return out;
}

/** The bundle as one .npz (stored members, or deflated when `compress`). */
export function npzBundle(fileName: string, spec: BundleSpec = {}, compress = false): FilePayload {
  const members: Record<string, Uint8Array | [Uint8Array, { level: 0 | 6 }]> = {};
  for (const a of bundleArrays(spec)) {
    const bytes = encodeNpy(a.shape, a.data);
    members[`${a.name}.npy`] = compress ? [bytes, { level: 6 }] : [bytes, { level: 0 }];
  }
  if (spec.manifest ?? true) members['manifest.json'] = [new TextEncoder().encode(JSON.stringify({ model: 'toy', seed: spec.seed ?? 11 })), { level: 0 }];
  return { name: fileName, mimeType: 'application/octet-stream', buffer: Buffer.from(zipSync(members)) };
}

/** The bundle as a folder of .npy files: `folder/step_N/layer.npy` (+ labels.npy). */
export function folderBundle(folder: string, spec: BundleSpec = {}): { path: string; buffer: Buffer }[] {
  return bundleArrays(spec).map((a) => ({ path: `${folder}/${a.name}.npy`, buffer: Buffer.from(encodeNpy(a.shape, a.data)) }));
}

/**
 * A bundle heavy enough to watch a job run (and cancel it): `layers` × `steps` arrays of
 * datapoints × neurons, values on five levels from a fast integer generator, deflated (they
 * compress ~8×, so the page gets a few MB).
 */
export function heavyBundle(fileName: string, layers = 6, steps = 8, datapoints = 1000, neurons = 96): FilePayload {
  const members: Record<string, [Uint8Array, { level: 1 }]> = {};
  let state = 12345;
  const levels = [-1, -0.5, 0, 0.5, 1];
  for (let s = 0; s < steps; s++)
    for (let l = 0; l < layers; l++) {
      const data = new Float32Array(datapoints * neurons);
      for (let k = 0; k < data.length; k++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        data[k] = levels[(state >>> 16) % 5];
      }
      members[`step_${s * 100}/layer${l + 1}.npy`] = [encodeNpy([datapoints, neurons], data), { level: 1 }];
    }
  return { name: fileName, mimeType: 'application/octet-stream', buffer: Buffer.from(zipSync(members)) };
}
