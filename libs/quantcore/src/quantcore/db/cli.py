"""``quantcore-db upgrade|downgrade REV|current`` — the explicit migration step."""

from __future__ import annotations

import argparse

from quantcore.db import migrate
from quantcore.settings import DatabaseSettings, load_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="quantcore-db", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upgrade", help="apply migrations up to a revision (default head)")
    up.add_argument("revision", nargs="?", default="head")
    down = sub.add_parser("downgrade", help="revert migrations down to a revision")
    down.add_argument("revision")
    sub.add_parser("current", help="show the applied revision")
    args = parser.parse_args(argv)
    url = load_settings(DatabaseSettings).database_url
    if args.command == "upgrade":
        migrate.upgrade(url, args.revision)
    elif args.command == "downgrade":
        migrate.downgrade(url, args.revision)
    else:
        migrate.current(url)


if __name__ == "__main__":
    main()
