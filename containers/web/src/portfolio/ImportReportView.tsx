import type { ImportReport } from '../api/types';

/** What a CSV import did: the count imported, or every rejected row with its reason. */
export function ImportReportView({ report, fileName }: { report: ImportReport; fileName?: string }) {
  const source = fileName ? ` from ${fileName}` : '';
  if (report.errors.length === 0) {
    return (
      <p className="success-note" role="status">
        Imported {report.imported} transaction{report.imported === 1 ? '' : 's'}
        {source}.
      </p>
    );
  }
  const rows = [...report.errors].sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
  const badRows = new Set(rows.map((e) => e.row).filter((row) => row !== null)).size;
  return (
    <div className="import-report" role="alert">
      <p className="form-error">
        Nothing was imported{source}: {badRows > 0 ? `${badRows} row${badRows === 1 ? '' : 's'} ` : 'the file '}
        {badRows === 1 || badRows === 0 ? 'has' : 'have'} {rows.length === 1 ? 'a problem' : `${rows.length} problems`}.
        Fix {rows.length === 1 ? 'it' : 'them'} and import the file again.
      </p>
      <div className="table-wrap">
        <table className="report-errors">
          <caption className="visually-hidden">Problems found in the file</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Column</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((error, index) => (
              <tr key={`${error.row}-${error.field}-${index}`}>
                <td>{error.row ?? 'file'}</td>
                <td>{error.field ?? '—'}</td>
                <td>{error.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
