def main() -> None:
    raise SystemExit("trainer: not yet written")
