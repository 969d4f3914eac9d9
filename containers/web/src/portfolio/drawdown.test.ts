import { describe, expect, it } from 'vitest';
import type { PriceBar } from '../api/types';
import { drawdownSeries } from './drawdown';

const bar = (date: string, close: number, adj: number | null = null): PriceBar => ({
  date,
  open: close,
  high: close,
  low: close,
  close,
  adj_close: adj,
  volume: 0,
});

describe('drawdownSeries', () => {
  it('follows one holding from its peak', () => {
    const points = drawdownSeries({ A: 1 }, { A: [bar('2024-01-01', 100), bar('2024-01-02', 120), bar('2024-01-03', 90)] });
    expect(points.map((p) => p.date)).toEqual(['2024-01-01', '2024-01-02', '2024-01-03']);
    expect(points[1].value).toBeCloseTo(1.2);
    expect(points[2].drawdown).toBeCloseTo(-0.25);
  });

  it('weights daily returns on the days every holding has a price, using the adjusted close', () => {
    const points = drawdownSeries(
      { A: 3, B: 1 },
      {
        A: [bar('2024-01-01', 100, 50), bar('2024-01-02', 110, 55), bar('2024-01-03', 110, 55)],
        B: [bar('2024-01-01', 10), bar('2024-01-03', 5)],
      },
    );
    expect(points.map((p) => p.date)).toEqual(['2024-01-01', '2024-01-03']);
    // 75% × +10% + 25% × -50%
    expect(points[1].value).toBeCloseTo(1 + 0.75 * 0.1 - 0.25 * 0.5);
  });

  it('is empty without prices', () => {
    expect(drawdownSeries({}, {})).toEqual([]);
    expect(drawdownSeries({ A: 1 }, { A: [bar('2024-01-01', 1)] })).toEqual([]);
  });
});
