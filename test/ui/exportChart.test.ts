import { describe, expect, it } from 'vitest';
import { matrixCsv, slug, wrapText } from '../../src/ui/exportChart';

describe('exports', () => {
  it('writes the current matrix as CSV: header of columns, one line per row, empty where not computed', () => {
    const csv = matrixCsv('rows \\ cols', ['conv1', 'fc,1'], ['a', 'b'], [
      [0.5, 1],
      [null, 0.25],
    ]);
    expect(csv).toBe('rows \\ cols,a,b\nconv1,0.5,1\n"fc,1",,0.25\n');
  });

  it('keeps full precision in CSV', () => {
    expect(matrixCsv('x', ['r'], ['c'], [[0.123456789012345]])).toContain('0.123456789012345');
  });

  it('wraps captions at spaces', () => {
    expect(wrapText('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(wrapText('', 10)).toEqual([]);
  });

  it('makes file names', () => {
    expect(slug('conv1 at step 10 × fc')).toBe('conv1-at-step-10-fc');
    expect(slug('***')).toBe('chart');
  });
});
