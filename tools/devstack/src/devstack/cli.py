"""``devstack up|down|status|env`` — the local stack as plain processes, state under var/."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

from devstack.config import StackSettings, load_stack_settings
from devstack.errors import StackError
from devstack.services import Service, all_services, applications, infrastructure, setup_tasks


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _relative(settings: StackSettings, path: object) -> str:
    text = str(path)
    root = str(settings.project_root) + "/"
    return text[len(root) :] if text.startswith(root) else text


def print_overview(settings: StackSettings, services: Sequence[Service]) -> None:
    rows = [("SERVICE", "STATE", "URL", "PID", "LOG")]
    for service in services:
        health = service.health()
        pid = service.pid()
        state = "up" if health.up else f"down ({health.detail})" if health.detail else "down"
        rows.append(
            (
                service.name,
                state,
                service.url,
                str(pid) if pid else "-",
                _relative(settings, service.log_file),
            )
        )
    print(_table(rows))


def print_environment(settings: StackSettings, prefix: str = "export ") -> None:
    for key, value in settings.service_environment().items():
        print(f"{prefix}{key}={shlex.quote(value)}")


def up(settings: StackSettings, *, bootstrap: bool = True) -> int:
    for service in infrastructure(settings):
        print(f"• {service.name}")
        started = service.start()
        print(f"  {'started' if started else 'already running'} at {service.url}")
    for task in setup_tasks():
        if task.is_bootstrap and not bootstrap:
            print(f"• {task.name}: skipped (--no-bootstrap)")
            continue
        print(f"• {task.name}")
        task.run(settings)
    for service in applications(settings) if bootstrap else []:
        print(f"• {service.name}")
        started = service.start()
        print(f"  {'started' if started else 'already running'} at {service.url}")
    print()
    print_overview(settings, all_services(settings))
    web = next((s for s in applications(settings) if s.name == "web"), None) if bootstrap else None
    if web is not None:
        print(f"\nOpen {web.url} in a browser.")
    print('\nEnvironment for the local stack (`eval "$(devstack env)"`):')
    print_environment(settings, prefix="  ")
    return 0


def down(settings: StackSettings) -> int:
    for service in reversed(all_services(settings)):
        stopped = service.stop()
        print(f"{service.name}: {'stopped' if stopped else 'was not running'}")
    print(f"data kept in {settings.pgdata}")
    return 0


def status(settings: StackSettings) -> int:
    services = all_services(settings)
    print_overview(settings, services)
    all_up = True
    for service in services:
        all_up = all_up and service.health().up
        lines = service.extra_status()
        if lines:
            print(f"\n{service.name}:")
            for line in lines:
                print(f"  {line}")
    return 0 if all_up else 1


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="start everything and return once healthy")
    up_parser.add_argument(
        "--no-bootstrap",
        action="store_true",
        help="infrastructure and migrations only: skip `trainer bootstrap` (lake restore "
        "and first model) and the services that need a model",
    )
    commands.add_parser("down", help="stop everything devstack started; data stays in var/")
    commands.add_parser("status", help="what runs where; exit 1 if anything is down")
    commands.add_parser("env", help="print `export` lines for the local stack's settings")
    args = parser.parse_args(argv)

    settings = load_stack_settings()
    try:
        if args.command == "up":
            code = up(settings, bootstrap=not args.no_bootstrap)
        elif args.command == "down":
            code = down(settings)
        elif args.command == "status":
            code = status(settings)
        else:
            print_environment(settings)
            code = 0
    except StackError as exc:
        print(f"devstack {args.command}: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    raise SystemExit(code)
