// The GPU backend chooses its path per metric with `switch` statements whose default hands the
// metric to `unreachableMetric(metric: never)`: a metric added to `Metric` and not handled there does
// not compile. The type-level half is checked by `npx tsc --noEmit` (this file is in tsconfig's
// include): the `@ts-expect-error` below must meet an error, or tsc fails on the unused directive.
// The runtime half checks that every switch on the metric in src/analysis/gpu/ ends that way, and
// that no `if` on the metric is left to choose a path silently.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unreachableMetric } from '../../src/analysis/gpu/types';
import { METRICS } from '../../src/analysis/metricDefs';
import type { Metric } from '../../src/analysis/types';

/** What adding a sixth metric to the union does to a GPU switch that was complete for five. */
type WithANewMetric = Metric | 'rsa';

function handledBeforeTheNewMetric(metric: WithANewMetric): string {
  switch (metric) {
    case 'svcca':
    case 'cca':
    case 'pwcca':
      return 'cca path';
    case 'cka':
    case 'cka-debiased':
      return 'cka path';
    default:
      // @ts-expect-error 'rsa' is not assignable to never: the switch must handle the new metric before it compiles.
      return unreachableMetric(metric);
  }
}

/** The same switch, complete: it compiles, and every metric of today takes a path. */
function handled(metric: Metric): string {
  switch (metric) {
    case 'svcca':
    case 'cca':
    case 'pwcca':
      return 'cca path';
    case 'cka':
    case 'cka-debiased':
      return 'cka path';
    default:
      return unreachableMetric(metric);
  }
}

const GPU_DIR = join(__dirname, '..', '..', 'src', 'analysis', 'gpu');
const gpuSources = readdirSync(GPU_DIR)
  .filter((name) => name.endsWith('.ts'))
  .map((name) => ({ name, text: readFileSync(join(GPU_DIR, name), 'utf8') }));

describe('exhaustive dispatch on the metric in the GPU backend', () => {
  it('a switch missing a metric reaches unreachableMetric, which refuses it at run time too', () => {
    expect(METRICS.map(handled)).toEqual(['cca path', 'cca path', 'cca path', 'cka path', 'cka path']);
    expect(() => handledBeforeTheNewMetric('rsa')).toThrow(/does not handle the metric rsa/);
  });

  it('every switch on the metric in src/analysis/gpu/ ends in the never default', () => {
    let switches = 0;
    for (const { name, text } of gpuSources) {
      for (const match of text.matchAll(/switch \(([\w.]*metric)\) \{/g)) {
        switches++;
        // The switch's body up to its closing brace at the same indentation.
        const indent = text.slice(text.lastIndexOf('\n', match.index) + 1, match.index).match(/^\s*/)![0];
        const body = text.slice(match.index, text.indexOf(`\n${indent}}`, match.index));
        expect(body, `${name}: switch (${match[1]})`).toMatch(new RegExp(`default:\\s*return unreachableMetric\\(${match[1].replace('.', '\\.')}\\);`));
      }
    }
    expect(switches).toBeGreaterThanOrEqual(5); // factors.ts (3), whitening.ts, index.ts
  });

  it('no if chain on the metric chooses a GPU path', () => {
    const comparisons = gpuSources.flatMap(({ name, text }) => [...text.matchAll(/metric\s*[!=]==\s*'[\w-]+'/g)].map((m) => `${name}: ${m[0]}`));
    expect(comparisons).toEqual([]);
  });
});
