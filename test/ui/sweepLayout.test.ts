// Layout of the k sweep: positions from the numbers, and the k99 marks (merged when equal, at the
// right edge and said so when beyond the largest k).
import { describe, expect, it } from 'vitest';
import { layoutSweep } from '../../src/ui/charts/sweepLayout';

const frame = { width: 400, height: 200, margin: { top: 10, right: 10, bottom: 40, left: 50 } };
const points = [1, 2, 3, 4].map((k) => ({ k, similarity: 1 - k / 10 }));

describe('layoutSweep', () => {
  it('puts k = 1 at the left edge, the largest k at the right, similarity 1 at the top', () => {
    const l = layoutSweep([{ k: 1, similarity: 1 }, ...points.slice(1)], [2, 3], ['A', 'B'], frame);
    expect(l.points[0]).toMatchObject({ x: 50, y: 10 });
    expect(l.points[3].x).toBe(390);
    expect(l.path.startsWith('M50,10')).toBe(true);
  });

  it('marks each side’s k99, one mark when they agree, at the edge when beyond the largest k', () => {
    expect(layoutSweep(points, [2, 3], ['A', 'B'], frame).marks.map((m) => m.label)).toEqual(['k99 A = 2', 'k99 B = 3']);
    expect(layoutSweep(points, [3, 3], ['A', 'B'], frame).marks.map((m) => m.label)).toEqual(['k99 = 3 (both)']);
    const beyond = layoutSweep(points, [9, 2], ['A', 'B'], frame).marks;
    expect(beyond[0]).toMatchObject({ label: 'k99 A = 9 (beyond k = 4)', x: 390, anchor: 'end' });
  });
});
