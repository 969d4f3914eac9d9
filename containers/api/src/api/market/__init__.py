"""Market data: ticker search, daily price history, quotes and the user's watchlist."""
