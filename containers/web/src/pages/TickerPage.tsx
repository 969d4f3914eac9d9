import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api } from '../api/client';
import { keys, predictionQuery, useTrackRecord, useWatchlist } from '../api/queries';
import type { Prediction, PriceHistory, TrackRecord, Watchlist } from '../api/types';
import { AsOf, Change, Probability } from '../components/Figures';
import { ErrorNote, isNotFound, Loading } from '../components/Status';
import { featureName, formatMoney, formatNumber, formatPercent, formatQuantity } from '../lib/format';
import { NotFound } from './NotFound';

const CandleChart = lazy(() => import('../charts/CandleChart'));

export default function TickerPage() {
  const symbol = (useParams().symbol ?? '').toUpperCase();
  const prices = useQuery({
    queryKey: keys.prices(symbol),
    queryFn: () => api<PriceHistory>(`/api/prices/${encodeURIComponent(symbol)}`),
  });
  const prediction = useQuery(predictionQuery(symbol));

  if (prices.isError && isNotFound(prices.error)) return <NotFound what="ticker" />;
  const bars = prices.data?.bars ?? [];
  const last = bars.at(-1);
  const previous = bars.at(-2);

  return (
    <div className="page ticker">
      <div className="page-head">
        <h1>{symbol}</h1>
        {prices.data && (
          <p className="muted">
            Prices from {prices.data.source} · <AsOf date={prices.data.as_of} />
          </p>
        )}
        <WatchButton symbol={symbol} />
      </div>
      <section className="card" aria-labelledby="price-title">
        <div className="card-head">
          <h2 id="price-title">Price and volume, last year held</h2>
          {last && (
            <p>
              <strong>{formatMoney(last.close)}</strong>{' '}
              {previous && <Change value={last.close - previous.close} pct={last.close / previous.close - 1} />}{' '}
              <span className="muted">volume {formatQuantity(last.volume)}</span>
            </p>
          )}
        </div>
        {prices.isPending ? (
          <Loading what="prices" />
        ) : prices.isError ? (
          <ErrorNote error={prices.error} />
        ) : (
          <Suspense fallback={<Loading what="chart" />}>
            <CandleChart bars={bars} ticker={symbol} />
          </Suspense>
        )}
      </section>
      <div className="grid two">
        <PredictionCard prediction={prediction.data} error={prediction.error} pending={prediction.isPending} />
        <TrackRecordCard version={prediction.data?.model_version} />
      </div>
    </div>
  );
}

function WatchButton({ symbol }: { symbol: string }) {
  const watchlist = useWatchlist();
  const queryClient = useQueryClient();
  const tickers = watchlist.data?.tickers.map((q) => q.ticker) ?? [];
  const watched = tickers.includes(symbol);
  const toggle = useMutation({
    mutationFn: () =>
      api<Watchlist>('/api/watchlist', {
        method: 'PUT',
        json: { tickers: watched ? tickers.filter((t) => t !== symbol) : [...tickers, symbol] },
      }),
    onSuccess: (saved) => queryClient.setQueryData(keys.watchlist, saved),
  });
  if (!watchlist.data) return null;
  return (
    <>
      <button type="button" onClick={() => toggle.mutate()} disabled={toggle.isPending} aria-pressed={watched}>
        {watched ? '★ On your watchlist' : '☆ Add to watchlist'}
      </button>
      {toggle.error && <ErrorNote error={toggle.error} />}
    </>
  );
}

function PredictionCard({
  prediction,
  error,
  pending,
}: {
  prediction: Prediction | undefined;
  error: unknown;
  pending: boolean;
}) {
  const maxContribution = Math.max(...(prediction?.drivers ?? []).map((d) => Math.abs(d.contribution ?? 0)), 1e-9);
  return (
    <section className="card" aria-labelledby="prediction-title" data-testid="prediction">
      <div className="card-head">
        <h2 id="prediction-title">Model prediction</h2>
        {prediction && <AsOf date={prediction.data_as_of} />}
      </div>
      {pending ? (
        <Loading what="the prediction" />
      ) : error || !prediction ? (
        <ErrorNote error={error} title="No prediction" />
      ) : (
        <>
          <p className="big-figure">
            <Probability value={prediction.prob_up} />
            <span className="big-figure-label"> chance to beat the market over {prediction.horizon_days} trading days</span>
          </p>
          <p className="explain">
            <strong>What this means:</strong> the probability that {prediction.ticker}'s {prediction.horizon_days}-day
            return beats the median return of the market's tickers over the same days. 50% is a coin toss; the
            model is honest about how small its edge is (see its track record).
          </p>
          <details className="label-details">
            <summary>The model's exact definition</summary>
            <p>{prediction.label}</p>
          </details>
          <dl className="facts">
            <div>
              <dt>Expected return vs market</dt>
              <dd>{formatPercent(prediction.expected_return, 2, true)}</dd>
            </div>
            <div>
              <dt>Horizon</dt>
              <dd>{prediction.horizon_days} trading days</dd>
            </div>
            <div>
              <dt>Model version</dt>
              <dd>
                <Link to="/models">{prediction.model_version}</Link>
              </dd>
            </div>
            <div>
              <dt>Based on prices to</dt>
              <dd>{prediction.as_of}</dd>
            </div>
          </dl>
          <h3>What drove it</h3>
          <p className="muted small">
            Change in the probability when each feature is set to its typical value: a positive bar pushed the
            probability up.
          </p>
          <ul className="drivers">
            {prediction.drivers.map((driver) => {
              const contribution = driver.contribution ?? 0;
              const width = `${(Math.abs(contribution) / maxContribution) * 50}%`;
              return (
                <li key={driver.feature}>
                  <span className="driver-name" title={driver.feature}>
                    {featureName(driver.feature)}
                  </span>
                  <span className="driver-bar" aria-hidden="true">
                    <span
                      className={contribution >= 0 ? 'pos' : 'neg'}
                      style={contribution >= 0 ? { left: '50%', width } : { right: '50%', width }}
                    />
                  </span>
                  <span className="driver-value">
                    {formatPercent(contribution, 1, true)}
                    <span className="muted small">
                      {' '}
                      (value {formatNumber(driver.value, 3)}, typical {formatNumber(driver.reference, 3)})
                    </span>
                  </span>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
}

export function TrackRecordCard({ version }: { version: string | undefined }) {
  const record = useTrackRecord(version);
  return (
    <section className="card" aria-labelledby="track-title" data-testid="track-record">
      <h2 id="track-title">Live track record</h2>
      {!version ? (
        <p className="muted">Shown once a prediction names its model version.</p>
      ) : record.isPending ? (
        <Loading what="the track record" />
      ) : record.isError ? (
        <ErrorNote error={record.error} />
      ) : (
        <TrackRecordFigures record={record.data} />
      )}
    </section>
  );
}

export function TrackRecordFigures({ record }: { record: TrackRecord }) {
  const live = record.live;
  const oos = record.out_of_sample as Record<string, number | null | undefined>;
  return (
    <>
      <p className="muted small">
        How the predictions served by version {record.model_version} did once their prices arrived, next to
        the out-of-sample figures of its training.
      </p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Measure</th>
              <th scope="col" className="num">Live</th>
              <th scope="col" className="num">Out of sample</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Hit rate</th>
              <td className="num">{formatPercent(live.hit_rate, 1)}</td>
              <td className="num">{formatPercent(oos.accuracy, 1)}</td>
            </tr>
            <tr>
              <th scope="row">Brier score (0.25 = coin)</th>
              <td className="num">{formatNumber(live.brier, 3)}</td>
              <td className="num">{formatNumber(oos.brier, 3)}</td>
            </tr>
            <tr>
              <th scope="row">Daily IC</th>
              <td className="num">{formatNumber(live.ic_mean, 3)}</td>
              <td className="num">{formatNumber(oos.ic_mean, 3)}</td>
            </tr>
          </tbody>
        </table>
      </div>
      <p className="small">
        {live.scored} scored, {live.pending} waiting for their prices
        {live.last_as_of ? ` (latest scored prediction as of ${live.last_as_of})` : ''}.
        {live.ic_reason ? ` ${live.ic_reason}.` : ''}
      </p>
    </>
  );
}
