import { Link, Navigate } from 'react-router-dom';
import { usePortfolios } from '../api/queries';
import { AsOf, Change } from '../components/Figures';
import { ErrorNote, Loading } from '../components/Status';
import { formatMoney } from '../lib/format';

/** /portfolios: straight to the only portfolio, else a list; none yet → the dashboard's form. */
export default function PortfolioIndex() {
  const portfolios = usePortfolios();
  if (portfolios.isPending) return <Loading what="your portfolios" />;
  if (portfolios.isError) return <ErrorNote error={portfolios.error} />;
  if (portfolios.data.length === 0) return <Navigate to="/" replace />;
  if (portfolios.data.length === 1) return <Navigate to={`/portfolios/${portfolios.data[0].id}`} replace />;
  return (
    <div className="page">
      <h1>Your portfolios</h1>
      <div className="card table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Portfolio</th>
              <th scope="col" className="num">Value</th>
              <th scope="col" className="num">Day</th>
              <th scope="col">As of</th>
            </tr>
          </thead>
          <tbody>
            {portfolios.data.map((p) => (
              <tr key={p.id}>
                <th scope="row">
                  <Link to={`/portfolios/${p.id}`}>{p.name}</Link>
                </th>
                <td className="num">{formatMoney(p.value, p.base_currency)}</td>
                <td className="num">
                  <Change pct={p.day_change_pct} />
                </td>
                <td>
                  <AsOf date={p.as_of} compact />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
