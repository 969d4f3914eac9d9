import { useMutation, useQueries, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { ApiError, api, fieldMessage } from '../api/client';
import { keys, predictionQuery, useHoldings, usePortfolios, useWatchlist } from '../api/queries';
import type { PortfolioSummary, Watchlist } from '../api/types';
import { AsOf, Change, Probability } from '../components/Figures';
import { ErrorNote, Loading } from '../components/Status';
import { TickerPicker } from '../components/TickerPicker';
import { formatMoney, formatPercent } from '../lib/format';

const AllocationChart = lazy(() => import('../charts/AllocationChart'));

export function Dashboard() {
  const portfolios = usePortfolios();
  return (
    <div className="page dashboard">
      <h1>Dashboard</h1>
      <div className="grid two">
        <section className="card" aria-labelledby="portfolio-title" data-testid="portfolio-card">
          {portfolios.isPending ? (
            <Loading what="your portfolio" />
          ) : portfolios.isError ? (
            <ErrorNote error={portfolios.error} />
          ) : portfolios.data.length === 0 ? (
            <CreatePortfolio />
          ) : (
            <PortfolioOverview portfolio={portfolios.data[0]} others={portfolios.data.length - 1} />
          )}
        </section>
        <WatchlistCard />
      </div>
    </div>
  );
}

function PortfolioOverview({ portfolio, others }: { portfolio: PortfolioSummary; others: number }) {
  const holdings = useHoldings(portfolio.id);
  const currency = portfolio.base_currency;
  return (
    <>
      <div className="card-head">
        <h2 id="portfolio-title">
          <Link to={`/portfolios/${portfolio.id}`}>{portfolio.name}</Link>
        </h2>
        <AsOf date={portfolio.as_of} />
      </div>
      <p className="big-figure" data-testid="portfolio-value">
        {formatMoney(portfolio.value, currency)}
      </p>
      <p>
        Day change <Change value={portfolio.day_change} pct={portfolio.day_change_pct} currency={currency} />
      </p>
      <dl className="facts">
        <div>
          <dt>Holdings</dt>
          <dd>{formatMoney(portfolio.holdings_value, currency)}</dd>
        </div>
        <div>
          <dt>Cash</dt>
          <dd>{formatMoney(portfolio.cash, currency)}</dd>
        </div>
        <div>
          <dt>Positions</dt>
          <dd>{portfolio.holdings}</dd>
        </div>
      </dl>
      <h3>Allocation</h3>
      {holdings.isPending ? (
        <Loading what="holdings" />
      ) : holdings.isError ? (
        <ErrorNote error={holdings.error} />
      ) : holdings.data.holdings.length === 0 ? (
        <p className="muted">
          No holdings yet. <Link to={`/portfolios/${portfolio.id}`}>Add a transaction</Link>.
        </p>
      ) : (
        <Suspense fallback={<Loading what="chart" />}>
          <AllocationChart holdings={holdings.data.holdings} cash={holdings.data.cash} currency={currency} />
        </Suspense>
      )}
      {others > 0 && (
        <p className="muted">
          You have {others} more portfolio{others > 1 ? 's' : ''}: <Link to="/portfolios">see all</Link>.
        </p>
      )}
    </>
  );
}

function CreatePortfolio() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('My portfolio');
  const create = useMutation({
    mutationFn: () =>
      api<PortfolioSummary>('/api/portfolios', { method: 'POST', json: { name, base_currency: 'USD' } }),
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: keys.portfolios });
      navigate(`/portfolios/${created.id}`);
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <>
      <h2 id="portfolio-title">Your portfolio</h2>
      <p>Start by creating a portfolio; then record deposits and trades, or import a CSV.</p>
      <form className="inline-form" onSubmit={onSubmit}>
        <label htmlFor="new-portfolio-name">Portfolio name</label>
        <input id="new-portfolio-name" value={name} onChange={(e) => setName(e.target.value)} required />
        <button className="primary" type="submit" disabled={create.isPending}>
          Create portfolio
        </button>
      </form>
      {create.error && (
        <p className="form-error" role="alert">
          {create.error instanceof ApiError ? fieldMessage(create.error) : create.error.message}
        </p>
      )}
    </>
  );
}

function WatchlistCard() {
  const watchlist = useWatchlist();
  const queryClient = useQueryClient();
  const [symbol, setSymbol] = useState('');
  const tickers = watchlist.data?.tickers ?? [];
  const predictions = useQueries({ queries: tickers.map((quote) => predictionQuery(quote.ticker)) });

  const update = useMutation({
    mutationFn: (next: string[]) => api<Watchlist>('/api/watchlist', { method: 'PUT', json: { tickers: next } }),
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.watchlist, saved);
      setSymbol('');
    },
  });
  const add = (event: FormEvent) => {
    event.preventDefault();
    const cleaned = symbol.trim().toUpperCase();
    if (cleaned) update.mutate([...tickers.map((q) => q.ticker), cleaned]);
  };
  const remove = (ticker: string) => update.mutate(tickers.map((q) => q.ticker).filter((t) => t !== ticker));

  return (
    <section className="card" aria-labelledby="watchlist-title" data-testid="watchlist">
      <div className="card-head">
        <h2 id="watchlist-title">Watchlist</h2>
        {watchlist.data && watchlist.data.tickers.length > 0 && <AsOf date={watchlist.data.as_of} />}
      </div>
      {watchlist.isPending ? (
        <Loading what="the watchlist" />
      ) : watchlist.isError ? (
        <ErrorNote error={watchlist.error} />
      ) : tickers.length === 0 ? (
        <p className="muted">Your watchlist is empty. Add a ticker below.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Ticker</th>
                <th scope="col" className="num">Close</th>
                <th scope="col" className="num">Day</th>
                <th scope="col" className="num">
                  <abbr title="Probability that the 5-day return beats the median of the market's tickers">
                    P(beats market)
                  </abbr>
                </th>
                <th scope="col">As of</th>
                <th scope="col"><span className="visually-hidden">Remove</span></th>
              </tr>
            </thead>
            <tbody>
              {tickers.map((quote, index) => {
                const prediction = predictions[index];
                return (
                  <tr key={quote.ticker}>
                    <th scope="row">
                      <Link to={`/tickers/${encodeURIComponent(quote.ticker)}`}>{quote.ticker}</Link>
                    </th>
                    <td className="num">{formatMoney(quote.close)}</td>
                    <td className="num">
                      <Change pct={quote.change_pct} />
                    </td>
                    <td className="num" data-testid={`prediction-${quote.ticker}`}>
                      {prediction?.isPending ? (
                        <span className="muted">…</span>
                      ) : prediction?.isError ? (
                        <span className="muted" title={(prediction.error as Error).message}>
                          n/a
                        </span>
                      ) : (
                        <span title={`Expected excess return ${formatPercent(prediction?.data?.expected_return, 2, true)}`}>
                          <Probability value={prediction?.data?.prob_up} />
                        </span>
                      )}
                    </td>
                    <td>
                      <AsOf date={quote.as_of} compact />
                    </td>
                    <td>
                      <button
                        type="button"
                        className="icon"
                        aria-label={`Remove ${quote.ticker} from the watchlist`}
                        onClick={() => remove(quote.ticker)}
                      >
                        ×
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <form className="inline-form" onSubmit={add}>
        <TickerPicker label="Ticker to add to the watchlist" value={symbol} onChange={setSymbol} placeholder="Add a ticker" />
        <button type="submit" disabled={update.isPending}>
          Add
        </button>
      </form>
      {update.error && (
        <p className="form-error" role="alert">
          {update.error instanceof ApiError ? fieldMessage(update.error) : update.error.message}
        </p>
      )}
      <p className="muted small">
        P(beats market): the model's probability that the ticker's 5-day return beats the median of
        the market's tickers. 50% is a coin toss.
      </p>
    </section>
  );
}
