import { describe, expect, it } from 'vitest';
import { matrixCsv, pngWithText, slug, taggedSlug, wrapText } from '../../src/ui/exportChart';

describe('exports', () => {
  it('writes the current matrix as CSV: header of columns, one line per row, empty where not computed', () => {
    const csv = matrixCsv(
      'rows \\ cols',
      ['conv1', 'fc,1'],
      ['a', 'b'],
      [
        [0.5, 1],
        [null, 0.25],
      ],
    );
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
    expect(taggedSlug('spectrum-x.npy-y.npy', 'svcca-gpu-f32')).toBe('spectrum-x.npy-y.npy-svcca-gpu-f32');
    // A long label is cut, never the tag that tells a CPU export from a GPU one.
    const long = taggedSlug(`directions-${'conv1 at step 300 '.repeat(6)}`, 'svcca-dft-cpu-f64');
    expect(long.length).toBeLessThanOrEqual(80);
    expect(long.endsWith('-svcca-dft-cpu-f64')).toBe(true);
  });
});

describe('exports say what they are', () => {
  it('CSV: "# key: value" lines before the header', () => {
    const csv = matrixCsv(
      'r \\ c',
      ['a'],
      ['b'],
      [[0.5]],
      [
        ['bundle', 'digits.npz'],
        ['input hash', '0123456789ab'],
      ],
    );
    expect(csv).toBe('# bundle: digits.npz\n# input hash: 0123456789ab\nr \\ c,b\na,0.5\n');
  });
  it('PNG: tEXt chunks after IHDR, each with its CRC', async () => {
    // A 1 × 1 PNG (signature, IHDR, IDAT, IEND).
    const png = Uint8Array.from(Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'));
    const out = Buffer.from(
      pngWithText(png, [
        ['bundle', 'digits.npz'],
        ['metric', 'svcca'],
      ]),
    );
    expect(out.subarray(0, 33).equals(Buffer.from(png.subarray(0, 33)))).toBe(true); // signature + IHDR untouched
    expect(out.readUInt32BE(33)).toBe('bundle\0digits.npz'.length);
    expect(out.subarray(37, 41).toString('latin1')).toBe('tEXt');
    expect(out.subarray(41, 41 + 17).toString('latin1')).toBe('bundle\0digits.npz');
    const { crc32 } = await import('../../src/io/crc32');
    expect(out.readUInt32BE(41 + 17)).toBe(crc32(out.subarray(37, 41 + 17)));
    expect(out.length).toBe(png.length + (12 + 17) + (12 + 12));
    expect(out.subarray(out.length - 12).equals(Buffer.from(png.subarray(png.length - 12)))).toBe(true); // IEND last
  });
});
