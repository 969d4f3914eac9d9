// The drawdown series of today's holdings, computed as the api's risk report does: daily
// simple returns of the adjusted close on the days every holding has a price, current
// weights held constant, value 1 at the start of the window.
import type { PriceBar } from '../api/types';

export interface DrawdownPoint {
  date: string;
  value: number;
  drawdown: number; // ≤ 0: the fall from the running peak, as a fraction
}

const closeOf = (bar: PriceBar) => bar.adj_close ?? bar.close;

export function drawdownSeries(
  weights: Record<string, number>,
  bars: Record<string, PriceBar[]>,
): DrawdownPoint[] {
  const tickers = Object.keys(weights).filter((t) => (bars[t]?.length ?? 0) > 1);
  if (tickers.length === 0) return [];
  const closes = tickers.map((t) => new Map(bars[t].map((bar) => [bar.date, closeOf(bar)])));
  const dates = [...closes[0].keys()].filter((d) => closes.every((c) => c.has(d))).sort();
  const total = tickers.reduce((sum, t) => sum + weights[t], 0) || 1;
  const points: DrawdownPoint[] = [];
  let value = 1;
  let peak = 1;
  dates.forEach((date, i) => {
    if (i > 0) {
      const previous = dates[i - 1];
      const r = tickers.reduce((sum, t, k) => {
        const before = closes[k].get(previous)!;
        return sum + (weights[t] / total) * (before > 0 ? closes[k].get(date)! / before - 1 : 0);
      }, 0);
      value *= 1 + r;
    }
    peak = Math.max(peak, value);
    points.push({ date, value, drawdown: value / peak - 1 });
  });
  return points;
}
