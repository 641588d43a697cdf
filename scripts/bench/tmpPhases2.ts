import { storedRowMeans } from '../../src/math/reduce';
import { wasmStreamedGram, wasmStreamedLeftMultiply } from '../../src/math/wasmProducts';
import { symmetricTopEigen } from '../../src/math/eigenTop';
import { ActivationGenerator, DEFAULT_GENERATOR } from '../bench-data';
import { now } from './args';
const n = 512, m = 10000;
const gen = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [n, n], steps: 1, datapoints: m });
const arrays = [gen.generate(0, 0), gen.generate(1, 0)];
for (let call = 0; call < 4; call++) {
  const data = arrays[call % 2];
  const t: Record<string, number> = {};
  let t0 = now();
  const stored = { data, neurons: n, datapoints: m, neuronsFirst: false };
  const layer = { ...stored, means: storedRowMeans(stored) };
  t.means = now() - t0; t0 = now();
  const g = wasmStreamedGram(layer)!;
  t.gram = now() - t0; t0 = now();
  const eig = symmetricTopEigen({ rows: n, cols: n, data: g }, () => 53);
  t.eigen = now() - t0; t0 = now();
  const p = wasmStreamedLeftMultiply(layer, eig.vectors.data.subarray(0, 53 * n), 53)!;
  t.project = now() - t0;
  console.log(call, Object.entries(t).map(([k, v]) => `${k} ${(v * 1000).toFixed(0)}`).join('  '), p.length);
}
