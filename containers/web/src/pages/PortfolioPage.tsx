import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ApiError, api, fieldMessage } from '../api/client';
import { keys, useHoldings } from '../api/queries';
import type {
  Holding,
  Holdings,
  ImportReport,
  PortfolioSummary,
  TransactionCreate,
  TransactionOut,
} from '../api/types';
import { AsOf, Change } from '../components/Figures';
import { ErrorNote, isNotFound, Loading } from '../components/Status';
import { TickerPicker } from '../components/TickerPicker';
import { formatMoney, formatPercent, formatQuantity } from '../lib/format';
import { ImportReportView } from '../portfolio/ImportReportView';
import { RiskSection } from '../portfolio/RiskSection';
import { NotFound } from './NotFound';

export default function PortfolioPage() {
  const id = Number(useParams().portfolioId);
  const valid = Number.isInteger(id) && id > 0;
  const summary = useQuery({
    queryKey: keys.portfolio(id),
    queryFn: () => api<PortfolioSummary>(`/api/portfolios/${id}`),
    enabled: valid,
  });
  const holdings = useHoldings(valid && summary.isSuccess ? id : undefined);

  if (!valid || (summary.isError && isNotFound(summary.error))) return <NotFound what="portfolio" />;
  if (summary.isPending) return <Loading what="the portfolio" />;
  if (summary.isError) return <ErrorNote error={summary.error} />;
  const portfolio = summary.data;
  const currency = portfolio.base_currency;

  return (
    <div className="page portfolio">
      <div className="page-head">
        <h1>{portfolio.name}</h1>
        <AsOf date={portfolio.as_of} />
      </div>
      <section className="card" aria-label="Value">
        <p className="big-figure" data-testid="portfolio-value">
          {formatMoney(portfolio.value, currency)}
        </p>
        <p>
          Day change <Change value={portfolio.day_change} pct={portfolio.day_change_pct} currency={currency} />
        </p>
        {holdings.data && (
          <dl className="facts">
            <div>
              <dt>Holdings</dt>
              <dd>{formatMoney(holdings.data.holdings_value, currency)}</dd>
            </div>
            <div>
              <dt>Cash</dt>
              <dd>{formatMoney(holdings.data.cash, currency)}</dd>
            </div>
            <div>
              <dt>Cost basis</dt>
              <dd>{formatMoney(holdings.data.cost_basis, currency)}</dd>
            </div>
            <div>
              <dt>Unrealised P&amp;L</dt>
              <dd>
                <Change value={holdings.data.unrealised_pnl} currency={currency} />
              </dd>
            </div>
            <div>
              <dt>Realised P&amp;L</dt>
              <dd>
                <Change value={holdings.data.realised_pnl} currency={currency} />
              </dd>
            </div>
            <div>
              <dt>Dividends</dt>
              <dd>{formatMoney(holdings.data.dividends, currency)}</dd>
            </div>
          </dl>
        )}
      </section>
      <section className="card" aria-labelledby="holdings-title">
        <div className="card-head">
          <h2 id="holdings-title">Holdings</h2>
          <span className="muted small">average cost method</span>
        </div>
        {holdings.isPending ? (
          <Loading what="holdings" />
        ) : holdings.isError ? (
          <ErrorNote error={holdings.error} />
        ) : (
          <HoldingsTable holdings={holdings.data} />
        )}
      </section>
      <div className="grid two">
        <AddTransaction portfolioId={id} />
        <ImportCsv portfolioId={id} />
      </div>
      <RiskSection portfolioId={id} holdings={holdings.data} />
      <Transactions portfolioId={id} currency={currency} />
    </div>
  );
}

function HoldingsTable({ holdings }: { holdings: Holdings }) {
  const currency = holdings.base_currency;
  if (holdings.holdings.length === 0) {
    return <p className="muted">No open positions. Record a buy below, or import a CSV of your trades.</p>;
  }
  return (
    <div className="table-wrap">
      <table data-testid="holdings">
        <thead>
          <tr>
            <th scope="col">Ticker</th>
            <th scope="col" className="num">Shares</th>
            <th scope="col" className="num">Avg cost</th>
            <th scope="col" className="num">Last</th>
            <th scope="col" className="num">Value</th>
            <th scope="col" className="num">Unrealised</th>
            <th scope="col" className="num">Weight</th>
            <th scope="col">Price date</th>
          </tr>
        </thead>
        <tbody>
          {holdings.holdings.map((h: Holding) => (
            <tr key={h.ticker}>
              <th scope="row">
                <Link to={`/tickers/${encodeURIComponent(h.ticker)}`}>{h.ticker}</Link>
              </th>
              <td className="num">{formatQuantity(h.quantity)}</td>
              <td className="num">{formatMoney(h.average_cost, currency)}</td>
              <td className="num">{formatMoney(h.last_price, currency)}</td>
              <td className="num">{formatMoney(h.market_value, currency)}</td>
              <td className="num">
                <Change value={h.unrealised_pnl} pct={h.unrealised_pnl_pct} currency={currency} />
              </td>
              <td className="num">{formatPercent(h.weight, 1)}</td>
              <td>
                <AsOf date={h.price_date} compact />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const TYPES: TransactionCreate['type'][] = ['buy', 'sell', 'dividend', 'deposit', 'withdrawal'];

function today(): string {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
}

function useInvalidatePortfolio(portfolioId: number) {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['portfolio', portfolioId] }),
      queryClient.invalidateQueries({ queryKey: keys.portfolios }),
    ]);
}

function AddTransaction({ portfolioId }: { portfolioId: number }) {
  const invalidate = useInvalidatePortfolio(portfolioId);
  const [type, setType] = useState<TransactionCreate['type']>('buy');
  const [date, setDate] = useState(today());
  const [ticker, setTicker] = useState('');
  const [quantity, setQuantity] = useState('');
  const [price, setPrice] = useState('');
  const [fee, setFee] = useState('');
  const [amount, setAmount] = useState('');
  const [saved, setSaved] = useState<TransactionOut | null>(null);
  const id = useId();
  const trade = type === 'buy' || type === 'sell';
  const cash = type === 'deposit' || type === 'withdrawal';

  const add = useMutation({
    mutationFn: () => {
      const number = (text: string) => (text.trim() === '' ? null : Number(text));
      const body: TransactionCreate = {
        type,
        date,
        ticker: cash ? null : ticker.trim().toUpperCase() || null,
        quantity: cash ? null : number(quantity),
        price: cash ? null : number(price),
        fee: number(fee) ?? 0,
        amount: trade ? null : number(amount),
      };
      return api<TransactionOut>(`/api/portfolios/${portfolioId}/transactions`, { method: 'POST', json: body });
    },
    onSuccess: async (transaction) => {
      setSaved(transaction);
      setQuantity('');
      setPrice('');
      setFee('');
      setAmount('');
      await invalidate();
    },
  });
  const error = add.error instanceof ApiError ? add.error : null;
  const problem = (field: string) =>
    error?.field === field ? (
      <span className="field-error" role="alert">
        {fieldMessage(error)}
      </span>
    ) : null;
  const generalError = add.error && !['ticker', 'quantity', 'price', 'fee', 'amount', 'date'].includes(error?.field ?? '');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(null);
    add.mutate();
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Add a transaction</h2>
      <form className="stack-form" onSubmit={submit} data-testid="add-transaction">
        <div>
          <label htmlFor={`${id}-type`}>Type</label>
          <select id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value as TransactionCreate['type'])}>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-date`}>Date</label>
          <input id={`${id}-date`} type="date" value={date} max={today()} onChange={(e) => setDate(e.target.value)} required />
          {problem('date')}
        </div>
        {!cash && (
          <div>
            <TickerPicker id={`${id}-ticker`} label="Ticker" hideLabel={false} value={ticker} onChange={setTicker} required />
            {problem('ticker')}
          </div>
        )}
        {!cash && (
          <div>
            <label htmlFor={`${id}-quantity`}>{type === 'dividend' ? 'Shares (optional)' : 'Shares'}</label>
            <input id={`${id}-quantity`} type="number" inputMode="decimal" min="0" step="any" value={quantity} onChange={(e) => setQuantity(e.target.value)} required={trade} />
            {problem('quantity')}
          </div>
        )}
        {!cash && (
          <div>
            <label htmlFor={`${id}-price`}>{type === 'dividend' ? 'Per share (optional)' : 'Price per share'}</label>
            <input id={`${id}-price`} type="number" inputMode="decimal" min="0" step="any" value={price} onChange={(e) => setPrice(e.target.value)} required={trade} />
            {problem('price')}
          </div>
        )}
        {!trade && (
          <div>
            <label htmlFor={`${id}-amount`}>{type === 'dividend' ? 'Cash received' : 'Amount'}</label>
            <input id={`${id}-amount`} type="number" inputMode="decimal" min="0" step="any" value={amount} onChange={(e) => setAmount(e.target.value)} required={cash} />
            {problem('amount')}
          </div>
        )}
        <div>
          <label htmlFor={`${id}-fee`}>Fee</label>
          <input id={`${id}-fee`} type="number" inputMode="decimal" min="0" step="any" value={fee} onChange={(e) => setFee(e.target.value)} />
          {problem('fee')}
        </div>
        <div className="actions">
          <button className="primary" type="submit" disabled={add.isPending}>
            {add.isPending ? 'Saving…' : 'Add transaction'}
          </button>
        </div>
      </form>
      {generalError && add.error && (
        <p className="form-error" role="alert">
          {error ? fieldMessage(error) : add.error.message}
        </p>
      )}
      {saved && (
        <p className="success-note" role="status">
          Recorded: {saved.type} {saved.ticker ?? ''} on {saved.date}.
        </p>
      )}
    </section>
  );
}

function ImportCsv({ portfolioId }: { portfolioId: number }) {
  const invalidate = useInvalidatePortfolio(portfolioId);
  const input = useRef<HTMLInputElement>(null);
  const [fileName, setFileName] = useState<string>();
  const [report, setReport] = useState<ImportReport | null>(null);
  const id = useId();
  const upload = useMutation({
    mutationFn: async (file: File) => {
      try {
        return await api<ImportReport>(`/api/portfolios/${portfolioId}/transactions/import`, {
          method: 'POST',
          body: await file.text(),
          contentType: 'text/csv',
        });
      } catch (error) {
        // A rejected file answers 422 with the row-by-row report beside the error.
        const payload = error instanceof ApiError ? (error.payload as Partial<ImportReport>) : null;
        if (payload && Array.isArray(payload.errors)) return { imported: 0, errors: payload.errors };
        throw error;
      }
    },
    onSuccess: async (result) => {
      setReport(result);
      if (result.errors.length === 0) await invalidate();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const file = input.current?.files?.[0];
    if (!file) return;
    setReport(null);
    setFileName(file.name);
    upload.mutate(file);
  };
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Import a CSV</h2>
      <p className="small muted">
        Header <code>date,type,ticker,quantity,price,fee</code> (an <code>amount</code> column is optional), ISO
        dates, one transaction per line. Every row is checked; if one fails, nothing is imported.
      </p>
      <form className="inline-form" onSubmit={submit}>
        <label htmlFor={`${id}-file`} className="visually-hidden">
          CSV file
        </label>
        <input id={`${id}-file`} ref={input} type="file" accept=".csv,text/csv" required />
        <button type="submit" disabled={upload.isPending}>
          {upload.isPending ? 'Importing…' : 'Import'}
        </button>
      </form>
      {upload.error && <ErrorNote error={upload.error} />}
      {report && <ImportReportView report={report} fileName={fileName} />}
    </section>
  );
}

function Transactions({ portfolioId, currency }: { portfolioId: number; currency: string }) {
  const transactions = useQuery({
    queryKey: keys.transactions(portfolioId),
    queryFn: () => api<TransactionOut[]>(`/api/portfolios/${portfolioId}/transactions`),
  });
  const [showAll, setShowAll] = useState(false);
  const list = [...(transactions.data ?? [])].reverse();
  const shown = showAll ? list : list.slice(0, 10);
  return (
    <section className="card" aria-labelledby="transactions-title">
      <h2 id="transactions-title">Transactions</h2>
      {transactions.isPending ? (
        <Loading what="transactions" />
      ) : transactions.isError ? (
        <ErrorNote error={transactions.error} />
      ) : list.length === 0 ? (
        <p className="muted">None recorded yet.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Type</th>
                  <th scope="col">Ticker</th>
                  <th scope="col" className="num">Shares</th>
                  <th scope="col" className="num">Price</th>
                  <th scope="col" className="num">Fee</th>
                  <th scope="col" className="num">Cash effect</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((t) => (
                  <tr key={t.id}>
                    <td>{t.date}</td>
                    <td>{t.type}</td>
                    <td>{t.ticker ?? '—'}</td>
                    <td className="num">{formatQuantity(t.quantity)}</td>
                    <td className="num">{formatMoney(t.price, currency)}</td>
                    <td className="num">{formatMoney(t.fee, currency)}</td>
                    <td className="num">
                      <Change value={t.cash_effect} currency={currency} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {list.length > 10 && (
            <button type="button" onClick={() => setShowAll(!showAll)}>
              {showAll ? 'Show the latest 10' : `Show all ${list.length}`}
            </button>
          )}
        </>
      )}
    </section>
  );
}
