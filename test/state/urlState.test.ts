import { describe, expect, it } from 'vitest';
import { initialState } from '../../src/state/appStore';
import { parseHash, stateFromUrl, toHash } from '../../src/state/urlState';

describe('URL hash', () => {
  it('is empty for the default view', () => {
    expect(toHash(initialState())).toBe('');
    expect(parseHash('')).toEqual({ options: {} });
  });

  it('round-trips metric, settings, checkpoint, selected pair and colour domain', () => {
    const s = {
      ...initialState(),
      stepIndex: 3,
      selected: { view: 'dynamics' as const, t: 3, i: 1, j: 4 },
      domain: 'fit' as const,
      multiples: true,
      threshold: 0.9,
      showFreeze: false,
      reference: 200,
      runIndex: 1,
      activeBundle: 'b.npz',
      dropped: { 'b.npz': ['fc,2', 'logits'] },
    };
    s.options = {
      ...s.options,
      metric: 'pwcca',
      keep: { kind: 'dims', k: 20 },
      epsilon: 1e-6,
      convReduction: 'meanpool',
      layout: 'neurons-first',
      convLayout: 'nchw',
      backend: 'cpu',
      pwccaVariant: 'paper',
    };
    const hash = toHash(s);
    expect(hash).not.toContain('b.npz'); // names of the data's layers only, never the data
    const back = parseHash(hash);
    expect(back.options).toEqual(s.options);
    expect(back).toMatchObject({
      stepIndex: 3,
      selected: s.selected,
      domain: 'fit',
      multiples: true,
      threshold: 0.9,
      showFreeze: false,
      reference: 200,
      runIndex: 1,
    });
    expect(back.dropped).toEqual(['fc,2', 'logits']);
  });

  it('keeps the across-runs sides and step for that view', () => {
    const s = {
      ...initialState(),
      tab: 'cross' as const,
      crossA: { bundle: 'x.npz', run: 'a' },
      crossB: { bundle: 'x.npz', run: null },
      crossStep: 40,
      selected: { view: 'cross' as const, t: 0, i: 2, j: 1 },
    };
    const back = parseHash(toHash(s));
    expect(back).toMatchObject({ tab: 'cross', crossA: s.crossA, crossB: s.crossB, crossStep: 40, selected: s.selected });
  });

  it('keeps the chance level, its cells, the heatmap mode and the many-seeds mode', () => {
    const s = { ...initialState(), chance: true, heatMode: 'z' as const, seedsView: { dynamics: false, cross: true } };
    expect(toHash(s)).toBe('#chance=1&heat=z&seeds=cross');
    expect(parseHash(toHash(s))).toMatchObject({ chance: true, chanceCells: 'diagonal', heatMode: 'z', seedsView: { dynamics: false, cross: true } });
    const all = { ...s, chanceCells: 'all' as const, heatMode: 'above-chance' as const, seedsView: { dynamics: true, cross: true } };
    expect(parseHash(toHash(all))).toMatchObject({ chance: true, chanceCells: 'all', heatMode: 'above-chance', seedsView: { dynamics: true, cross: true } });
    // An above-chance mode without the chance level is not a view: ignored.
    expect(parseHash('#heat=z')).toEqual({ options: {} });
    expect(toHash({ ...initialState(), heatMode: 'z' })).toBe('');
  });

  it('ignores what it does not understand', () => {
    const back = parseHash('#metric=nope&keep=v7&eps=-1&t=-2&pair=1.x&view=zzz&thr=3&conv=dft&layout=sideways&x=1&chance=2&heat=zz');
    expect(back).toEqual({ options: { convReduction: 'dft' } });
  });

  it('merges options over the current ones', () => {
    const merged = stateFromUrl(parseHash('#metric=cka'), initialState());
    expect(merged.options).toMatchObject({ metric: 'cka', epsilon: 1e-10, keep: { kind: 'variance', fraction: 0.99 } });
  });
});
