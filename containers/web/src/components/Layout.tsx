import { useState, type FormEvent } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router-dom';
import { useAccount, useSignOut } from '../auth/account';
import { TickerPicker } from './TickerPicker';

export function Layout() {
  const account = useAccount();
  const signOut = useSignOut();
  const navigate = useNavigate();
  const [symbol, setSymbol] = useState('');

  const openTicker = (event: FormEvent) => {
    event.preventDefault();
    const cleaned = symbol.trim().toUpperCase();
    if (cleaned) {
      navigate(`/tickers/${encodeURIComponent(cleaned)}`);
      setSymbol('');
    }
  };

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="AI Investment Agent, dashboard">
          <span aria-hidden="true" className="brand-mark" />
          <span className="brand-text">AI Investment Agent</span>
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Dashboard
          </NavLink>
          <NavLink to="/portfolios">Portfolio</NavLink>
          <NavLink to="/models">Models</NavLink>
          <NavLink to="/chat">Assistant</NavLink>
        </nav>
        <form className="ticker-search" role="search" onSubmit={openTicker}>
          <TickerPicker
            label="Open a ticker"
            value={symbol}
            onChange={setSymbol}
            placeholder="Ticker, e.g. AAPL"
          />
          <button type="submit">Open</button>
        </form>
        <div className="account">
          <span className="account-email" title="Signed in">
            {account.data?.email}
          </span>
          <button
            type="button"
            onClick={async () => {
              await signOut();
              navigate('/signin', { replace: true });
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="footer">
        Research tool, not financial advice. Predictions are probabilities from a model trained on
        historical prices; read the <NavLink to="/models">model card</NavLink> before trusting one.
      </footer>
    </>
  );
}
