// How numbers and dates read everywhere in the app. A locale is fixed so a figure reads
// the same on every machine (and in tests); "—" stands for a number the API does not know.

const LOCALE = 'en-US';
export const MISSING = '—';

function isNumber(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function formatMoney(
  value: number | null | undefined,
  currency = 'USD',
  options: { signed?: boolean; digits?: number } = {},
): string {
  if (!isNumber(value)) return MISSING;
  const digits = options.digits ?? 2;
  let text: string;
  try {
    text = new Intl.NumberFormat(LOCALE, {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      signDisplay: options.signed ? 'exceptZero' : 'auto',
    }).format(value);
  } catch {
    // An unknown ISO code: the number with the code beside it.
    text = `${formatNumber(value, digits, options.signed)} ${currency}`;
  }
  return text;
}

export function formatNumber(value: number | null | undefined, digits = 2, signed = false): string {
  if (!isNumber(value)) return MISSING;
  return new Intl.NumberFormat(LOCALE, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: signed ? 'exceptZero' : 'auto',
  }).format(value);
}

/** A quantity of shares: whole numbers without decimals, fractions up to 4 places. */
export function formatQuantity(value: number | null | undefined): string {
  if (!isNumber(value)) return MISSING;
  return new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 4 }).format(value);
}

/** A fraction as a percentage: 0.0265 → "2.65%" (or "+2.65%" when signed). */
export function formatPercent(
  fraction: number | null | undefined,
  digits = 2,
  signed = false,
): string {
  if (!isNumber(fraction)) return MISSING;
  return new Intl.NumberFormat(LOCALE, {
    style: 'percent',
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: signed ? 'exceptZero' : 'auto',
  }).format(fraction);
}

/** Large amounts for chart axes: 3,855,596 → "$3.9M". */
export function formatCompactMoney(value: number | null | undefined, currency = 'USD'): string {
  if (!isNumber(value)) return MISSING;
  try {
    return new Intl.NumberFormat(LOCALE, {
      style: 'currency',
      currency,
      notation: 'compact',
      maximumFractionDigits: 1,
    }).format(value);
  } catch {
    return `${new Intl.NumberFormat(LOCALE, { notation: 'compact', maximumFractionDigits: 1 }).format(value)} ${currency}`;
  }
}

/** "up", "down" or "flat": the CSS tone of a change. */
export function tone(value: number | null | undefined): 'up' | 'down' | 'flat' {
  if (!isNumber(value) || value === 0) return 'flat';
  return value > 0 ? 'up' : 'down';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Parses an ISO date ("2025-02-14", or the date part of a timestamp) as a calendar day. */
export function parseDay(iso: string): { year: number; month: number; day: number } | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!match) return null;
  const [, year, month, day] = match;
  return { year: Number(year), month: Number(month), day: Number(day) };
}

/** "2025-02-14" → "14 Feb 2025": a market date, never shifted by the browser's time zone. */
export function formatDay(iso: string | null | undefined): string {
  if (!iso) return MISSING;
  const day = parseDay(iso);
  if (!day) return iso;
  return `${day.day} ${MONTHS[day.month - 1]} ${day.year}`;
}

/** Whole calendar days from the market date ``iso`` to ``today``. */
export function daysBetween(iso: string, today: Date): number | null {
  const day = parseDay(iso);
  if (!day) return null;
  const from = Date.UTC(day.year, day.month - 1, day.day);
  const to = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  return Math.round((to - from) / 86_400_000);
}

export interface AsOfText {
  text: string;
  /** The data is older than a week: the figures describe the past, not today. */
  stale: boolean;
  title: string;
}

const STALE_AFTER_DAYS = 7;

/** The "data as of" label every number that depends on prices carries. */
export function asOfText(iso: string | null | undefined, today: Date = new Date()): AsOfText {
  if (!iso) {
    return { text: 'no price data yet', stale: false, title: 'No prices are held for this yet' };
  }
  const age = daysBetween(iso, today);
  const stale = age !== null && age > STALE_AFTER_DAYS;
  const text = `data as of ${formatDay(iso)}`;
  if (age === null) return { text, stale: false, title: text };
  const ago =
    age <= 0 ? 'today' : age === 1 ? '1 day ago' : `${new Intl.NumberFormat(LOCALE).format(age)} days ago`;
  return {
    text,
    stale,
    title: stale
      ? `The latest price held is from ${formatDay(iso)} (${ago}); figures describe that day, not today.`
      : `The latest price held is from ${formatDay(iso)} (${ago}).`,
  };
}

/** A timestamp for messages and versions, in the reader's own time zone. */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return MISSING;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** US dollars of chat spend: cents below a dollar need more places ("$0.0042"). */
export function formatCost(usd: number | null | undefined): string {
  if (!isNumber(usd)) return MISSING;
  if (usd === 0) return '$0.00';
  const digits = Math.abs(usd) < 0.01 ? 4 : 2;
  return formatMoney(usd, 'USD', { digits });
}

/** A feature name as a reader says it: "ret_60d" → "60-day return". */
const FEATURE_NAMES: Record<string, string> = {
  ret_1d: '1-day return',
  ret_5d: '5-day return',
  ret_20d: '20-day return',
  ret_60d: '60-day return',
  vol_20d: '20-day volatility',
  beta_60d: '60-day beta',
  rsi_14: 'RSI (14 days)',
  hl_range: 'high–low range',
  mkt_rel_5d: '5-day return vs market',
  mkt_rel_20d: '20-day return vs market',
  sma_gap_10: 'gap to 10-day average',
  sma_gap_50: 'gap to 50-day average',
  volume_z_20: 'volume vs 20-day norm',
};

export function featureName(feature: string): string {
  return FEATURE_NAMES[feature] ?? feature.replace(/_/g, ' ');
}
