import {
  CandlestickSeries,
  ColorType,
  createChart,
  HistogramSeries,
  type IChartApi,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef } from 'react';
import type { PriceBar } from '../api/types';

function time(iso: string): UTCTimestamp {
  return (Date.parse(`${iso}T00:00:00Z`) / 1000) as UTCTimestamp;
}

/** Daily candles with volume below them (lightweight-charts). */
export default function CandleChart({ bars, ticker }: { bars: PriceBar[]; ticker: string }) {
  const container = useRef<HTMLDivElement>(null);
  const chartRef = useRef<IChartApi | null>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = createChart(element, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: 'transparent' },
        textColor: '#475569',
        attributionLogo: true,
      },
      grid: { vertLines: { color: '#eef2f7' }, horzLines: { color: '#eef2f7' } },
      rightPriceScale: { borderColor: '#dbe2ea' },
      timeScale: { borderColor: '#dbe2ea' },
    });
    chartRef.current = chart;
    const candles = chart.addSeries(CandlestickSeries, {
      upColor: '#16a34a',
      downColor: '#dc2626',
      borderVisible: false,
      wickUpColor: '#16a34a',
      wickDownColor: '#dc2626',
    });
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.28 } });
    const volume = chart.addSeries(HistogramSeries, {
      priceFormat: { type: 'volume' },
      priceScaleId: '',
      color: '#94a3b8',
    });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.78, bottom: 0 } });
    candles.setData(
      bars.map((bar) => ({ time: time(bar.date), open: bar.open, high: bar.high, low: bar.low, close: bar.close })),
    );
    volume.setData(
      bars.map((bar) => ({
        time: time(bar.date),
        value: bar.volume,
        color: bar.close >= bar.open ? 'rgba(22,163,74,0.45)' : 'rgba(220,38,38,0.45)',
      })),
    );
    chart.timeScale().fitContent();
    return () => {
      chart.remove();
      chartRef.current = null;
    };
  }, [bars]);

  const last = bars.at(-1);
  return (
    <figure className="chart candles">
      <div
        ref={container}
        className="candle-canvas"
        role="img"
        aria-label={
          last
            ? `${ticker} daily candles and volume from ${bars[0].date} to ${last.date}; last close ${last.close}`
            : `${ticker}: no prices`
        }
      />
    </figure>
  );
}
