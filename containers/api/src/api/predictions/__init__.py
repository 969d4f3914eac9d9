"""Predictions: the model server's answer per ticker, cached in PostgreSQL, and their live
track record once the prices of their horizon arrive."""
