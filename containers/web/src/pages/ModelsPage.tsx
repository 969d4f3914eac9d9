import { useQuery } from '@tanstack/react-query';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../api/client';
import { keys, useProductionModel } from '../api/queries';
import type { ModelVersion, ProductionModel } from '../api/types';
import { ErrorNote, isNotFound, Loading } from '../components/Status';
import { formatDay, formatNumber, formatPercent, formatTimestamp } from '../lib/format';
import { TrackRecordCard } from './TickerPage';

type Metrics = Record<string, number | string | null | undefined>;
interface Strategy {
  total_return?: number | null;
  cagr?: number | null;
  sharpe?: number | null;
  max_drawdown?: number | null;
  equity_curve?: [string, number][];
}

const STRATEGIES: { key: string; label: string; colour: string; dash?: string }[] = [
  { key: 'long_only', label: 'Model long-only', colour: '#15803d' },
  { key: 'long_short', label: 'Model long-short', colour: '#2563eb' },
  { key: 'buy_and_hold', label: 'Buy and hold (equal weight)', colour: '#0f172a', dash: '6 3' },
  { key: 'momentum_long_only', label: 'Momentum long-only', colour: '#d97706', dash: '2 3' },
  { key: 'reversal_long_only', label: 'Reversal long-only', colour: '#9333ea', dash: '2 3' },
];

export default function ModelsPage() {
  const production = useProductionModel();
  const versions = useQuery({ queryKey: keys.versions, queryFn: () => api<ModelVersion[]>('/api/models') });
  return (
    <div className="page models">
      <h1>Models</h1>
      {versions.data && <LatestDecision versions={versions.data} />}
      {production.isPending ? (
        <Loading what="the production model" />
      ) : production.isError ? (
        isNotFound(production.error) ? (
          <p className="card">No model is in production yet: the trainer has not promoted one.</p>
        ) : (
          <ErrorNote error={production.error} />
        )
      ) : (
        <ProductionCard model={production.data} />
      )}
      <section className="card" aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        {versions.isPending ? (
          <Loading what="versions" />
        ) : versions.isError ? (
          <ErrorNote error={versions.error} />
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Status</th>
                  <th scope="col">Family</th>
                  <th scope="col" className="num">Accuracy</th>
                  <th scope="col" className="num">Majority</th>
                  <th scope="col" className="num">Daily IC</th>
                  <th scope="col">Leak check</th>
                  <th scope="col">Trained</th>
                </tr>
              </thead>
              <tbody>
                {versions.data.map((v) => (
                  <tr key={v.version}>
                    <th scope="row">{v.version}</th>
                    <td>
                      <span className={`badge ${v.status}`}>{v.status}</span>
                    </td>
                    <td>{v.family}</td>
                    <td className="num">{formatPercent(v.metrics.accuracy, 1)}</td>
                    <td className="num">{formatPercent(v.metrics.majority_rate, 1)}</td>
                    <td className="num">{formatNumber(v.metrics.ic_mean, 3)}</td>
                    <td>{v.leak_check_passed === null ? '—' : v.leak_check_passed ? 'passed' : 'FAILED'}</td>
                    <td>{formatTimestamp(v.trained_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function LatestDecision({ versions }: { versions: ModelVersion[] }) {
  const latest = versions[0];
  if (!latest) return null;
  const promoted = latest.status === 'production' || latest.promoted_at !== null;
  return (
    <section className="card" aria-labelledby="decision-title" data-testid="promotion-decision">
      <h2 id="decision-title">
        Latest candidate {latest.version}: {promoted ? 'promoted' : latest.status === 'candidate' ? 'not yet decided' : 'not promoted'}
      </h2>
      <p>{latest.promotion_reason ?? 'No promotion decision recorded yet.'}</p>
    </section>
  );
}

function ProductionCard({ model }: { model: ProductionModel }) {
  const card = model.card as Record<string, unknown>;
  const metrics = (card.metrics ?? {}) as Metrics;
  const baselines = (card.baselines ?? {}) as Record<string, Metrics>;
  const backtest = (card.backtest ?? {}) as Record<string, Strategy | number | string>;
  const data = (card.data ?? {}) as { start?: string; end?: string; tickers?: string[] };
  const oos = (card.oos_window ?? {}) as { start?: string; end?: string };
  const leak = (card.leak_check ?? {}) as { passed?: boolean; reasons?: string[] };
  const notes = (card.notes ?? []) as string[];
  const warnings = (card.warnings ?? []) as string[];
  const columns: [string, Metrics][] = [
    [`Model (${model.family})`, metrics],
    ...Object.entries(baselines).map(([name, m]): [string, Metrics] => [`${name[0].toUpperCase()}${name.slice(1)} baseline`, m]),
  ];
  const rows: { key: string; label: string; format: (v: number | null | undefined) => string }[] = [
    { key: 'accuracy', label: 'Accuracy', format: (v) => formatPercent(v, 1) },
    { key: 'majority_rate', label: 'Majority-class rate', format: (v) => formatPercent(v, 1) },
    { key: 'mcc', label: 'MCC', format: (v) => formatNumber(v, 3) },
    { key: 'brier', label: 'Brier score', format: (v) => formatNumber(v, 3) },
    { key: 'ic_mean', label: 'Daily IC', format: (v) => formatNumber(v, 3) },
    { key: 'ic_ir', label: 'ICIR', format: (v) => formatNumber(v, 2) },
    { key: 'rank_ic_mean', label: 'Daily rank IC', format: (v) => formatNumber(v, 3) },
  ];
  const num = (v: unknown) => (typeof v === 'number' ? v : null);

  return (
    <>
      <section className="card" aria-labelledby="production-title" data-testid="model-card">
        <div className="card-head">
          <h2 id="production-title">
            In production: {model.version} <span className="badge production">production</span>
          </h2>
          <span className="as-of">
            trained on data {formatDay(data.start)} – {formatDay(data.end)} · {data.tickers?.length ?? '?'} tickers
          </span>
        </div>
        <p className="explain">
          <strong>What prob_up means:</strong> {model.label ?? 'the probability the model gives to its label.'}
        </p>
        <h3>Out-of-sample metrics next to the baselines</h3>
        <p className="small muted">
          Walk-forward test window {formatDay(oos.start)} – {formatDay(oos.end)}, {metrics.n_test_rows ?? '?'} predictions
          over {metrics.n_test_days ?? '?'} days. Published anchor: Qlib's LightGBM on Alpha158 reaches IC ≈ 0.045.
        </p>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Measure</th>
                {columns.map(([name]) => (
                  <th scope="col" className="num" key={name}>
                    {name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.key}>
                  <th scope="row">{row.label}</th>
                  {columns.map(([name, m]) => (
                    <td className="num" key={name}>
                      {row.format(num(m[row.key]))}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="small">
          Leak check: {leak.passed ? 'passed' : 'failed'}
          {leak.reasons && leak.reasons.length > 0 ? ` (${leak.reasons.join('; ')})` : ''}. Promotion:{' '}
          {model.promotion_reason ?? '—'}
        </p>
      </section>
      <div className="grid two">
        <section className="card" aria-labelledby="backtest-title">
          <h2 id="backtest-title">Backtest after costs</h2>
          <EquityCurves backtest={backtest} />
          <p className="small muted">
            {typeof backtest.method === 'string' ? backtest.method : ''}{' '}
            {typeof backtest.cost_bps === 'number' ? `Costs: ${backtest.cost_bps} bps per trade.` : ''}
          </p>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Strategy</th>
                  <th scope="col" className="num">Total return</th>
                  <th scope="col" className="num">Sharpe</th>
                  <th scope="col" className="num">Max drawdown</th>
                </tr>
              </thead>
              <tbody>
                {STRATEGIES.filter((s) => typeof backtest[s.key] === 'object').map((s) => {
                  const strategy = backtest[s.key] as Strategy;
                  return (
                    <tr key={s.key}>
                      <th scope="row">{s.label}</th>
                      <td className="num">{formatPercent(strategy.total_return, 1, true)}</td>
                      <td className="num">{formatNumber(strategy.sharpe, 2)}</td>
                      <td className="num">{formatPercent(strategy.max_drawdown, 1)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
        <TrackRecordCard version={model.version} />
      </div>
      {warnings.length > 0 && (
        <section className="card" aria-labelledby="warnings-title" role="note">
          <h2 id="warnings-title">Simple rules that did better</h2>
          <ul>
            {warnings.map((warning) => (
              <li key={warning}>{warning}</li>
            ))}
          </ul>
        </section>
      )}
      {notes.length > 0 && (
        <section className="card" aria-labelledby="notes-title">
          <h2 id="notes-title">Notes of the model card</h2>
          <ul>
            {notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function EquityCurves({ backtest }: { backtest: Record<string, Strategy | number | string> }) {
  const present = STRATEGIES.filter((s) => Array.isArray((backtest[s.key] as Strategy | undefined)?.equity_curve));
  const byDate = new Map<string, Record<string, number | string>>();
  for (const s of present) {
    for (const [date, value] of (backtest[s.key] as Strategy).equity_curve ?? []) {
      const row = byDate.get(date) ?? { date };
      row[s.key] = value;
      byDate.set(date, row);
    }
  }
  const data = [...byDate.values()].sort((a, b) => String(a.date).localeCompare(String(b.date)));
  if (data.length === 0) return <p className="muted">No equity curves in this card.</p>;
  return (
    <figure className="chart" aria-label="Equity curves of the backtest against buy-and-hold">
      <ResponsiveContainer width="100%" height={280}>
        <LineChart data={data} margin={{ top: 5, right: 10, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eef2f7" />
          <XAxis dataKey="date" minTickGap={40} fontSize={11} />
          <YAxis domain={['auto', 'auto']} width={48} fontSize={11} tickFormatter={(v: number) => v.toFixed(2)} />
          <Tooltip formatter={(v, name) => [formatNumber(Number(v), 3), name]} labelFormatter={(d) => formatDay(String(d))} />
          <Legend />
          {present.map((s) => (
            <Line
              key={s.key}
              dataKey={s.key}
              name={s.label}
              stroke={s.colour}
              strokeDasharray={s.dash}
              dot={false}
              isAnimationActive={false}
              strokeWidth={s.key === 'long_only' ? 2.5 : 1.5}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
