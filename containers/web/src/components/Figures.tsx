import { asOfText, formatDay, formatMoney, formatPercent, tone } from '../lib/format';

/** The "data as of" date every price-dependent figure carries. */
export function AsOf({
  date,
  today,
  compact = false,
}: {
  date: string | null | undefined;
  today?: Date;
  /** Just the date (table cells whose column says "As of"). */
  compact?: boolean;
}) {
  const label = asOfText(date, today);
  return (
    <span className={`as-of${label.stale ? ' stale' : ''}${compact ? ' compact' : ''}`} title={label.title}>
      <time dateTime={date ?? undefined}>{compact && date ? formatDay(date) : label.text}</time>
      {label.stale && <span className="visually-hidden"> ({label.title})</span>}
    </span>
  );
}

/** A change in money and/or percent, coloured and signed, with words for screen readers. */
export function Change({
  value,
  pct,
  currency = 'USD',
}: {
  value?: number | null;
  pct?: number | null;
  currency?: string;
}) {
  // The money change decides the colour: a percentage of a negative base points the other way.
  const direction = tone(value ?? pct);
  const parts = [
    value !== undefined ? formatMoney(value, currency, { signed: true }) : null,
    pct !== undefined ? formatPercent(pct, 2, true) : null,
  ].filter(Boolean);
  const text = value !== undefined && pct !== undefined ? `${parts[0]} (${parts[1]})` : parts[0];
  return (
    <span className={`change ${direction}`}>
      <span aria-hidden="true">{direction === 'up' ? '▲ ' : direction === 'down' ? '▼ ' : ''}</span>
      {text}
    </span>
  );
}

export function Probability({ value }: { value: number | null | undefined }) {
  if (value === null || value === undefined) return <span>—</span>;
  const direction = value > 0.5 ? 'up' : value < 0.5 ? 'down' : 'flat';
  return <span className={`prob ${direction}`}>{formatPercent(value, 1)}</span>;
}
