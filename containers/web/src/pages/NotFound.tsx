import { Link } from 'react-router-dom';

export function NotFound({ what = 'page' }: { what?: string }) {
  return (
    <section className="not-found" aria-labelledby="not-found-title">
      <h1 id="not-found-title">Not found</h1>
      <p>
        This {what} does not exist, or it is not yours. <Link to="/">Back to the dashboard</Link>
      </p>
    </section>
  );
}
