import { centerStoredRows } from '../../src/math/reduce';
import { symmetricTopEigen } from '../../src/math/eigenTop';
import { wasmResident } from '../../src/math/wasmProducts';
import { ActivationGenerator, DEFAULT_GENERATOR } from '../bench-data';
import { now } from './args';
const n = 512, m = 10000;
const gen = new ActivationGenerator({ ...DEFAULT_GENERATOR, widths: [n, n], steps: 1, datapoints: m });
const arrays = [gen.generate(0, 0), gen.generate(1, 0)];
for (let call = 0; call < 4; call++) {
  const data = arrays[call % 2];
  const t: Record<string, number> = {};
  let t0 = now();
  const r = wasmResident(n, m)!;
  t.reserve = now() - t0; t0 = now();
  centerStoredRows({ data, neurons: n, datapoints: m, neuronsFirst: false } as never, r.data());
  t.centre = now() - t0; t0 = now();
  const g = r.gram()!;
  t.gram = now() - t0; t0 = now();
  const eig = symmetricTopEigen({ rows: n, cols: n, data: g }, () => 53);
  t.eigen = now() - t0; t0 = now();
  const p = r.leftMultiply(eig.vectors.data.subarray(0, 53 * n), 53)!;
  t.project = now() - t0;
  r.release();
  console.log(call, Object.entries(t).map(([k, v]) => `${k} ${(v * 1000).toFixed(0)}`).join('  '), p.length);
}
