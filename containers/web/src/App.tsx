import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { RequireAccount } from './auth/RequireAccount';
import { SignIn, SignUp } from './auth/AuthPages';
import { Layout } from './components/Layout';
import { Loading } from './components/Status';
import { Dashboard } from './pages/Dashboard';
import { NotFound } from './pages/NotFound';

// Chart-heavy pages load on demand: the first paint only needs the shell and the dashboard.
const TickerPage = lazy(() => import('./pages/TickerPage'));
const PortfolioPage = lazy(() => import('./pages/PortfolioPage'));
const PortfolioIndex = lazy(() => import('./pages/PortfolioIndex'));
const ModelsPage = lazy(() => import('./pages/ModelsPage'));
const ChatPage = lazy(() => import('./pages/ChatPage'));

export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<SignIn />} />
      <Route path="/signup" element={<SignUp />} />
      <Route
        element={
          <RequireAccount>
            <Layout />
          </RequireAccount>
        }
      >
        <Route index element={<Dashboard />} />
        <Route path="tickers/:symbol" element={<Lazy page={<TickerPage />} />} />
        <Route path="portfolios" element={<Lazy page={<PortfolioIndex />} />} />
        <Route path="portfolios/:portfolioId" element={<Lazy page={<PortfolioPage />} />} />
        <Route path="models" element={<Lazy page={<ModelsPage />} />} />
        <Route path="chat" element={<Lazy page={<ChatPage />} />} />
        <Route path="chat/:conversationId" element={<Lazy page={<ChatPage />} />} />
        <Route path="dashboard" element={<Navigate to="/" replace />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

function Lazy({ page }: { page: React.ReactNode }) {
  return <Suspense fallback={<Loading what="page" />}>{page}</Suspense>;
}
