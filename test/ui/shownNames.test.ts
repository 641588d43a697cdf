// Names and messages taken from files are shown escaped on the page (issue 12): control and bidi
// characters become visible escapes, names are capped, whole messages are not cut.
import { describe, expect, it } from 'vitest';
import { layoutHeatmap } from '../../src/ui/charts/heatmapLayout';
import { shownMessage, shownName } from '../../src/ui/format';

const RAW = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('names from files on the page', () => {
  it('escapes terminal and bidi controls in a name and caps its length', () => {
    expect(shownName('fc\u001b[2J')).toBe('fc\\x1b[2J');
    expect(shownName('evil\u202etxt.npy')).toBe('evil\\u202etxt.npy');
    const long = shownName('x'.repeat(500));
    expect(long).toBe(`${'x'.repeat(120)}… (380 more characters)`);
  });

  it('escapes a whole message without cutting it', () => {
    const message = `b.npz:${'y'.repeat(300)}\u009b31m: data is truncated`;
    const shown = shownMessage(message);
    expect(shown).not.toMatch(RAW);
    expect(shown.endsWith('\\x9b31m: data is truncated')).toBe(true);
  });

  it('heatmap row and column labels are escaped before they are laid out', () => {
    const layout = layoutHeatmap({ values: [[0.5, 0.7]], rows: ['conv\u001b]0;x\u0007'], cols: ['a\u202eb', 'ok'], domain: [0, 1], width: 600 });
    expect(layout.rowLabels.map((l) => l.label)).toEqual(['conv\\x1b]0;x\\x07']);
    expect(layout.colLabels.map((l) => l.label)).toEqual(['a\\u202eb', 'ok']);
  });
});
