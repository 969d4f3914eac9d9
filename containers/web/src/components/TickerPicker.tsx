import { useQuery } from '@tanstack/react-query';
import { useDeferredValue, useId } from 'react';
import { api } from '../api/client';
import type { TickerInfo } from '../api/types';

/** A symbol input suggesting the tickers the app holds prices for. */
export function TickerPicker({
  label,
  value,
  onChange,
  placeholder,
  id,
  required,
  hideLabel = true,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  id?: string;
  required?: boolean;
  hideLabel?: boolean;
}) {
  const generated = useId();
  const inputId = id ?? generated;
  const listId = `${inputId}-tickers`;
  const query = useDeferredValue(value.trim().toUpperCase());
  const valid = /^[A-Z0-9.\-=^_]{1,24}$/.test(query);
  const suggestions = useQuery({
    queryKey: ['tickers', query],
    queryFn: () => api<TickerInfo[]>(`/api/tickers?q=${encodeURIComponent(query)}&limit=8`),
    enabled: valid,
    staleTime: 5 * 60_000,
  });
  return (
    <>
      <label htmlFor={inputId} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <input
        id={inputId}
        list={listId}
        value={value}
        required={required}
        placeholder={placeholder}
        autoComplete="off"
        spellCheck={false}
        autoCapitalize="characters"
        onChange={(event) => onChange(event.target.value)}
      />
      <datalist id={listId}>
        {(suggestions.data ?? []).map((ticker) => (
          <option key={ticker.symbol} value={ticker.symbol}>
            {`${ticker.symbol} · prices to ${ticker.last_date}`}
          </option>
        ))}
      </datalist>
    </>
  );
}
