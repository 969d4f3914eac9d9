"""Portfolios: transactions (entered one by one or imported as CSV), holdings valued at the
last close, profit and loss by the average-cost method, and risk from stored prices."""
