import { describe, expect, it } from 'vitest';
import {
  asOfText,
  daysBetween,
  featureName,
  formatCompactMoney,
  formatCost,
  formatDay,
  formatMoney,
  formatPercent,
  formatQuantity,
  tone,
} from './format';

describe('numbers', () => {
  it('formats money with the currency and a dash when unknown', () => {
    expect(formatMoney(3855596.091437)).toBe('$3,855,596.09');
    expect(formatMoney(-2053.4, 'USD', { signed: true })).toBe('-$2,053.40');
    expect(formatMoney(99509.03, 'USD', { signed: true })).toBe('+$99,509.03');
    expect(formatMoney(null)).toBe('—');
    expect(formatMoney(Number.NaN)).toBe('—');
    expect(formatMoney(12, 'EUR')).toBe('€12.00');
  });

  it('formats fractions as percentages', () => {
    expect(formatPercent(0.02649274)).toBe('2.65%');
    expect(formatPercent(0.02649274, 1, true)).toBe('+2.6%');
    expect(formatPercent(-0.148595, 1, true)).toBe('-14.9%');
    expect(formatPercent(0, 1, true)).toBe('0.0%');
    expect(formatPercent(undefined)).toBe('—');
  });

  it('keeps quantities exact and compacts axes', () => {
    expect(formatQuantity(26229)).toBe('26,229');
    expect(formatQuantity(0.12345)).toBe('0.1235');
    expect(formatCompactMoney(3855596)).toBe('$3.9M');
  });

  it('gives small chat costs enough places', () => {
    expect(formatCost(0)).toBe('$0.00');
    expect(formatCost(0.0042)).toBe('$0.0042');
    expect(formatCost(1.5)).toBe('$1.50');
  });

  it('names the tone of a change', () => {
    expect(tone(1)).toBe('up');
    expect(tone(-0.1)).toBe('down');
    expect(tone(0)).toBe('flat');
    expect(tone(null)).toBe('flat');
  });
});

describe('as-of dates', () => {
  it('reads a market date without time-zone shifts', () => {
    expect(formatDay('2025-02-14')).toBe('14 Feb 2025');
    expect(formatDay('2013-03-01T00:00:00Z')).toBe('1 Mar 2013');
    expect(formatDay(null)).toBe('—');
  });

  it('counts calendar days to today', () => {
    expect(daysBetween('2025-02-14', new Date(2025, 1, 21))).toBe(7);
    expect(daysBetween('nonsense', new Date())).toBeNull();
  });

  it('labels recent data as current and old data as stale', () => {
    const fresh = asOfText('2025-02-14', new Date(2025, 1, 17));
    expect(fresh).toMatchObject({ text: 'data as of 14 Feb 2025', stale: false });
    expect(fresh.title).toContain('3 days ago');

    const old = asOfText('2013-03-01', new Date(2026, 11, 4));
    expect(old.stale).toBe(true);
    expect(old.title).toContain('5,026 days ago');
    expect(old.title).toContain('not today');
  });

  it('says so when no price is held', () => {
    expect(asOfText(null).text).toBe('no price data yet');
  });
});

describe('feature names', () => {
  it('translates known features and tidies unknown ones', () => {
    expect(featureName('ret_60d')).toBe('60-day return');
    expect(featureName('new_feature_x')).toBe('new feature x');
  });
});
