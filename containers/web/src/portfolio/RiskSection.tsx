import { useQueries, useQuery } from '@tanstack/react-query';
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../api/client';
import { keys } from '../api/queries';
import type { Holdings, PriceHistory, RiskReport } from '../api/types';
import { AsOf } from '../components/Figures';
import { ErrorNote, Loading } from '../components/Status';
import { formatDay, formatNumber, formatPercent } from '../lib/format';
import { drawdownSeries } from './drawdown';

export function RiskSection({ portfolioId, holdings }: { portfolioId: number; holdings?: Holdings }) {
  const hasHoldings = (holdings?.holdings.length ?? 0) > 0;
  const risk = useQuery({
    queryKey: keys.risk(portfolioId),
    queryFn: () => api<RiskReport>(`/api/portfolios/${portfolioId}/risk`),
    enabled: hasHoldings,
  });
  if (!hasHoldings) return null;
  return (
    <section className="card" aria-labelledby="risk-title" data-testid="risk">
      <div className="card-head">
        <h2 id="risk-title">Risk of today's holdings</h2>
        {risk.data && <AsOf date={risk.data.as_of} />}
      </div>
      {risk.isPending ? (
        <Loading what="risk figures" />
      ) : risk.isError ? (
        <ErrorNote error={risk.error} />
      ) : (
        <RiskFigures report={risk.data} />
      )}
    </section>
  );
}

function RiskFigures({ report }: { report: RiskReport }) {
  return (
    <>
      <p className="small muted">
        Over {report.observations} daily returns
        {report.window_start && report.window_end
          ? ` from ${formatDay(report.window_start)} to ${formatDay(report.window_end)}`
          : ''}
        , current weights held constant{report.benchmark ? `; benchmark: ${report.benchmark.description}` : ''}.
      </p>
      {report.explanation && <p className="small">{report.explanation}</p>}
      <dl className="facts">
        <div>
          <dt>Volatility (annualised)</dt>
          <dd>{formatPercent(report.volatility_annualised, 1)}</dd>
        </div>
        <div>
          <dt>Beta</dt>
          <dd>{formatNumber(report.beta, 2)}</dd>
        </div>
        <div>
          <dt>Max drawdown</dt>
          <dd>{report.max_drawdown === null ? '—' : formatPercent(-report.max_drawdown, 1)}</dd>
        </div>
        <div>
          <dt>1-day VaR 95%</dt>
          <dd>{formatPercent(report.var_95_1d, 2)}</dd>
        </div>
        <div>
          <dt>1-day CVaR 95%</dt>
          <dd>{formatPercent(report.cvar_95_1d, 2)}</dd>
        </div>
        {report.concentration && (
          <div>
            <dt>Effective holdings</dt>
            <dd title={`Herfindahl ${formatNumber(report.concentration.herfindahl, 3)}`}>
              {formatNumber(report.concentration.effective_holdings, 1)} (largest {report.concentration.largest_ticker}{' '}
              {formatPercent(report.concentration.largest_weight, 0)})
            </dd>
          </div>
        )}
      </dl>
      <div className="grid two risk-charts">
        <DrawdownChart report={report} />
        {report.correlation && report.correlation.tickers.length > 1 && (
          <CorrelationHeatmap tickers={report.correlation.tickers} matrix={report.correlation.matrix} />
        )}
      </div>
    </>
  );
}

function DrawdownChart({ report }: { report: RiskReport }) {
  const tickers = Object.keys(report.weights);
  const start = report.window_start ?? undefined;
  const end = report.window_end ?? undefined;
  const prices = useQueries({
    queries: tickers.map((ticker) => ({
      queryKey: [...keys.prices(ticker, start), end ?? ''],
      queryFn: () =>
        api<PriceHistory>(
          `/api/prices/${encodeURIComponent(ticker)}?${new URLSearchParams({ ...(start ? { start } : {}), ...(end ? { end } : {}) })}`,
        ),
      enabled: Boolean(start && end),
    })),
  });
  if (!start || !end) return null;
  if (prices.some((p) => p.isPending)) return <Loading what="the drawdown chart" />;
  const failed = prices.find((p) => p.isError);
  if (failed) return <ErrorNote error={failed.error} />;
  const bars = Object.fromEntries(tickers.map((t, i) => [t, prices[i].data!.bars]));
  const series = drawdownSeries(report.weights, bars);
  return (
    <figure className="chart" aria-labelledby="drawdown-caption">
      <h3 id="drawdown-caption">Drawdown</h3>
      <ResponsiveContainer width="100%" height={220}>
        <AreaChart data={series} margin={{ top: 5, right: 10, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eef2f7" />
          <XAxis dataKey="date" tickFormatter={(d: string) => d.slice(0, 7)} minTickGap={40} fontSize={11} />
          <YAxis tickFormatter={(v: number) => formatPercent(v, 0)} width={48} fontSize={11} domain={['auto', 0]} />
          <Tooltip
            formatter={(v) => [formatPercent(Number(v), 1), 'Below peak']}
            labelFormatter={(d) => formatDay(String(d))}
          />
          <Area type="monotone" dataKey="drawdown" stroke="#b91c1c" fill="#fecaca" isAnimationActive={false} dot={false} />
        </AreaChart>
      </ResponsiveContainer>
      <figcaption className="small muted">
        Fall from the running peak of today's holdings.
        {report.max_drawdown_peak && report.max_drawdown_trough
          ? ` Deepest: ${formatDay(report.max_drawdown_peak)} → ${formatDay(report.max_drawdown_trough)}.`
          : ''}
      </figcaption>
    </figure>
  );
}

/** Diverging blue (−1) – white (0) – red (+1). */
export function correlationColour(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '#f1f5f9';
  const v = Math.max(-1, Math.min(1, value));
  const mix = (a: number, b: number, t: number) => Math.round(a + (b - a) * t);
  const [r, g, b] = v >= 0 ? [mix(255, 220, v), mix(255, 38, v), mix(255, 38, v)] : [mix(255, 37, -v), mix(255, 99, -v), mix(255, 235, -v)];
  return `rgb(${r}, ${g}, ${b})`;
}

function CorrelationHeatmap({ tickers, matrix }: { tickers: string[]; matrix: (number | null)[][] }) {
  return (
    <figure className="chart" aria-labelledby="correlation-caption">
      <h3 id="correlation-caption">Correlation of daily returns</h3>
      <div className="table-wrap">
        <table className="heatmap">
          <thead>
            <tr>
              <td />
              {tickers.map((t) => (
                <th scope="col" key={t}>
                  {t}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {tickers.map((row, i) => (
              <tr key={row}>
                <th scope="row">{row}</th>
                {tickers.map((col, j) => {
                  const value = matrix[i]?.[j] ?? null;
                  return (
                    <td
                      key={col}
                      style={{ background: correlationColour(value), color: value !== null && Math.abs(value) > 0.6 ? '#fff' : undefined }}
                      title={`${row} / ${col}: ${formatNumber(value, 2)}`}
                    >
                      {formatNumber(value, 2)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <figcaption className="small muted">1: move together; 0: unrelated; −1: move opposite.</figcaption>
    </figure>
  );
}
