def main() -> None:
    raise SystemExit("devstack: not yet written")
