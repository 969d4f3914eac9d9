// The queries several pages share; keys name what is fetched, in the investor's words.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import type {
  Holdings,
  PortfolioSummary,
  Prediction,
  ProductionModel,
  TrackRecord,
  Watchlist,
} from './types';

export const keys = {
  portfolios: ['portfolios'] as const,
  portfolio: (id: number) => ['portfolio', id] as const,
  holdings: (id: number) => ['portfolio', id, 'holdings'] as const,
  transactions: (id: number) => ['portfolio', id, 'transactions'] as const,
  risk: (id: number) => ['portfolio', id, 'risk'] as const,
  watchlist: ['watchlist'] as const,
  prediction: (ticker: string) => ['prediction', ticker] as const,
  prices: (ticker: string, start?: string) => ['prices', ticker, start ?? 'default'] as const,
  production: ['models', 'production'] as const,
  versions: ['models'] as const,
  trackRecord: (version: string) => ['models', version, 'track-record'] as const,
  conversations: ['conversations'] as const,
  conversation: (id: number) => ['conversation', id] as const,
  usage: ['usage'] as const,
};

export const usePortfolios = () =>
  useQuery({ queryKey: keys.portfolios, queryFn: () => api<PortfolioSummary[]>('/api/portfolios') });

export const useHoldings = (id: number | undefined) =>
  useQuery({
    queryKey: keys.holdings(id ?? -1),
    queryFn: () => api<Holdings>(`/api/portfolios/${id}/holdings`),
    enabled: id !== undefined,
  });

export const useWatchlist = () =>
  useQuery({ queryKey: keys.watchlist, queryFn: () => api<Watchlist>('/api/watchlist') });

export const predictionQuery = (ticker: string) => ({
  queryKey: keys.prediction(ticker),
  queryFn: () => api<Prediction>(`/api/predictions/${encodeURIComponent(ticker)}`),
  staleTime: 5 * 60_000,
});

export const useProductionModel = () =>
  useQuery({
    queryKey: keys.production,
    queryFn: () => api<ProductionModel>('/api/models/production'),
    staleTime: 5 * 60_000,
  });

export const useTrackRecord = (version: string | undefined) =>
  useQuery({
    queryKey: keys.trackRecord(version ?? ''),
    queryFn: () => api<TrackRecord>(`/api/models/${encodeURIComponent(version!)}/track-record`),
    enabled: Boolean(version),
  });
