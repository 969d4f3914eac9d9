import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ImportReportView } from './ImportReportView';

afterEach(cleanup);

describe('ImportReportView', () => {
  it('confirms a clean import with its count', () => {
    render(<ImportReportView report={{ imported: 3, errors: [] }} fileName="trades.csv" />);
    expect(screen.getByRole('status').textContent).toBe('Imported 3 transactions from trades.csv.');
  });

  it('lists every rejected row in line order and says nothing was imported', () => {
    render(
      <ImportReportView
        report={{
          imported: 0,
          errors: [
            { row: 5, field: 'quantity', message: 'sells 20 but 10 are held at that date' },
            { row: 3, field: 'ticker', message: 'unknown ticker ZZZZ' },
            { row: 3, field: 'date', message: 'a date in the future' },
          ],
        }}
      />,
    );
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Nothing was imported');
    expect(alert.textContent).toContain('2 rows have 3 problems');
    const rows = within(screen.getByRole('table')).getAllByRole('row').slice(1);
    expect(rows.map((row) => within(row).getAllByRole('cell')[0].textContent)).toEqual(['3', '3', '5']);
    expect(rows[2].textContent).toContain('sells 20 but 10 are held');
  });

  it('names a problem of the whole file', () => {
    render(
      <ImportReportView report={{ imported: 0, errors: [{ row: null, field: null, message: 'missing column price' }]}} />,
    );
    expect(screen.getByRole('alert').textContent).toContain('the file has a problem');
    expect(screen.getByRole('cell', { name: 'file' })).toBeTruthy();
  });
});
