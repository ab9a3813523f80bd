"""``python -m social_crm_module``: run one connector outside Odoo.

Admins use it to test credentials and see what a sync would bring in::

    python -m social_crm_module fetch --network feed --base-url https://example.org/feed.rss
    SCRM_ACCESS_TOKEN=... python -m social_crm_module check --network mastodon \\
        --base-url https://mastodon.social
    python -m social_crm_module profiles alice bob --config bluesky.json

Commands:

- ``fetch``: walk pages with ``iter_pages`` and print each interaction as one JSON
  line on stdout; the final cursor goes to stderr (``cursor: ...``) and, with
  ``--cursor-file``, back into that file, so the next run resumes after it;
- ``check``: verify the credentials and print the account as JSON;
- ``profiles HANDLE...``: look authors up and print them as JSON lines.

Configuration: a JSON file (``--config``) with ``network``, ``base_url``,
``options``, ``credentials`` and ``timeout``; flags override it. Credentials may
also come from environment variables ``SCRM_<KEY>`` (``SCRM_ACCESS_TOKEN``,
``SCRM_APP_PASSWORD``...), which override the file. Credentials are never printed.

Exit codes: 0 ok, 2 usage, 3 auth refused, 4 rate limited (``retry_at`` on
stderr), 5 transient (timeout, 5xx), 6 payload or any other connector error.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from .connectors import connector_class
from .errors import AuthError, ConnectorError, RateLimited, TransientError
from .interaction import Network

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_RATE_LIMITED = 4
EXIT_TRANSIENT = 5
EXIT_ERROR = 6
ENV_PREFIX = "SCRM_"


class UsageError(Exception):
    """Bad flags or configuration: exit code 2."""


def _add_common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The connector flags, accepted before or after the command."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--config", default=default, help="JSON configuration file")
    parser.add_argument(
        "--network", default=default, choices=[n.value for n in Network], help="which connector"
    )
    parser.add_argument("--base-url", default=default, help="instance, PDS, API or feed URL")
    parser.add_argument(
        "--option",
        action="append",
        default=default,
        metavar="KEY=VALUE",
        help="connector option (repeatable)",
    )
    parser.add_argument(
        "--timeout", type=float, default=default, help="seconds per request (default 10)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m social_crm_module",
        description="Run one social CRM connector outside Odoo.",
        epilog="Credentials come from SCRM_<KEY> environment variables or the config file.",
    )
    _add_common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fetch = commands.add_parser("fetch", help="print interactions as JSON lines")
    _add_common(fetch, suppress=True)
    fetch.add_argument("--max-pages", type=int, default=None, help="stop after N pages")
    where = fetch.add_mutually_exclusive_group()
    where.add_argument("--cursor", default=None, help="resume after this cursor")
    where.add_argument(
        "--cursor-file", type=Path, default=None, help="read the cursor from, and save it to, FILE"
    )

    check = commands.add_parser("check", help="verify the credentials")
    _add_common(check, suppress=True)

    profiles = commands.add_parser("profiles", help="look authors up")
    _add_common(profiles, suppress=True)
    profiles.add_argument("handles", nargs="+", metavar="HANDLE")
    return parser


# -- configuration ----------------------------------------------------------------------


def _options(cls: type, options: Mapping[str, Any], flags: Iterable[str]) -> dict[str, Any]:
    """The config file's options, then the ``--option KEY=VALUE`` flags; only the
    keys the connector reads (``option_keys``): a typo is refused, not ignored."""
    options = dict(options)
    for item in flags:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--option takes KEY=VALUE, got {item!r}")
        options[key.strip()] = value
    for key in options:
        if key not in cls.option_keys:
            known = ", ".join(cls.option_keys) or "none"
            raise UsageError(f"unknown {cls.code} option {key!r} (known: {known})")
    return options


def load_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, Any]:
    """Merge the config file, the flags and the environment into connector kwargs."""
    config: dict[str, Any] = {}
    if args.config:
        try:
            config = json.loads(Path(args.config).read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"cannot read the config file ({exc.strerror})") from exc
        except ValueError as exc:
            raise UsageError("the config file is not valid JSON") from exc
        if not isinstance(config, dict):
            raise UsageError("the config file must hold a JSON object")
    network = args.network or config.get("network")
    if not network:
        raise UsageError('say which network: --network or "network" in the config file')
    try:
        network = Network(str(network))
    except ValueError as exc:
        raise UsageError(f"unknown network {network!r}") from exc
    options = config.get("options") or {}
    credentials = config.get("credentials") or {}
    if not isinstance(options, dict) or not isinstance(credentials, dict):
        raise UsageError('"options" and "credentials" must be JSON objects')
    cls = connector_class(network)
    options = _options(cls, options, args.option or ())
    credentials = {str(k): str(v) for k, v in credentials.items() if v is not None}
    for key in cls.credential_keys:
        value = environ.get(ENV_PREFIX + key.upper())
        if value:
            credentials[key] = value
    timeout = args.timeout if args.timeout is not None else config.get("timeout", 10.0)
    try:
        timeout = float(timeout)
    except (TypeError, ValueError) as exc:
        raise UsageError("the timeout must be a number of seconds") from exc
    return {
        "network": network,
        "base_url": args.base_url or config.get("base_url") or "",
        "options": options,
        "credentials": credentials,
        "timeout": timeout,
    }


# -- output ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def to_json(record: Any) -> str:
    return json.dumps(_plain(record), ensure_ascii=False, separators=(",", ":"))


# -- commands ----------------------------------------------------------------------------


def _fetch(connector: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    cursor = args.cursor
    if args.cursor_file is not None and args.cursor_file.exists():
        cursor = args.cursor_file.read_text(encoding="utf-8").strip() or None
    if args.max_pages is not None and args.max_pages < 1:
        raise UsageError("--max-pages must be at least 1")
    pages = items = skipped = 0
    final = cursor
    try:
        for page in connector.iter_pages(cursor, max_pages=args.max_pages):
            for item in page:
                out.write(to_json(item) + "\n")
            out.flush()
            pages += 1
            items += len(page)
            skipped += page.skipped
            for problem in page.problems:
                err.write(f"skipped: {problem}\n")
            final = page.cursor
    finally:
        err.write(f"pages: {pages}, interactions: {items}, skipped: {skipped}\n")
        err.write(f"cursor: {final if final is not None else ''}\n")
        if args.cursor_file is not None and final is not None and pages:
            tmp = args.cursor_file.with_name(args.cursor_file.name + ".tmp")
            tmp.write_text(final + "\n", encoding="utf-8")
            tmp.replace(args.cursor_file)
    return EXIT_OK


def _check(connector: Any, out: TextIO) -> int:
    out.write(to_json(connector.check()) + "\n")
    return EXIT_OK


def _profiles(connector: Any, handles: Sequence[str], out: TextIO) -> int:
    for author in connector.profiles(handles):
        out.write(to_json(author) + "\n")
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    environ = os.environ if environ is None else environ
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    try:
        return _run(args, out, err, environ)
    except (UsageError, ImportError, ConnectorError) as exc:
        return report(exc, err)


def _run(args: argparse.Namespace, out: TextIO, err: TextIO, environ: Mapping[str, str]) -> int:
    settings = load_settings(args, environ)
    network = settings.pop("network")
    try:
        connector = connector_class(network)(**settings)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.command == "fetch":
        return _fetch(connector, args, out, err)
    if args.command == "check":
        return _check(connector, out)
    return _profiles(connector, args.handles, out)


#: what an error prints and the exit code it gives, most specific first
_ERRORS: tuple[tuple[type[BaseException], str, int], ...] = (
    (UsageError, "error", EXIT_USAGE),
    (ImportError, "error: a library this connector needs is missing", EXIT_ERROR),
    (AuthError, "auth error", EXIT_AUTH),
    (RateLimited, "rate limited", EXIT_RATE_LIMITED),
    (TransientError, "transient error", EXIT_TRANSIENT),
    (ConnectorError, "error", EXIT_ERROR),
)


def report(exc: BaseException, err: TextIO) -> int:
    """Print ``exc`` (never a credential: connector errors carry none) and pick the code."""
    label, code = next((lab, num) for cls, lab, num in _ERRORS if isinstance(exc, cls))
    if isinstance(exc, ImportError):
        err.write(f"{label} ({exc.name})\n")
    elif isinstance(exc, ConnectorError) and code == EXIT_ERROR:
        err.write(f"{label} ({exc.code}): {exc}\n")
    else:
        err.write(f"{label}: {exc}\n")
    if isinstance(exc, RateLimited):
        err.write(f"retry_at: {exc.retry_at.isoformat() if exc.retry_at else 'unknown'}\n")
    return code
