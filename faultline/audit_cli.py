"""`faultline audit verify`: check the ticket audit chain and name whatever was tampered with.

Exit status 0 when the chain is intact, 1 when anything was edited, deleted or
reordered (each problem printed on its own line), 2 when the database cannot be read.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from faultline.settings import Settings
from fieldservice import audit
from storage.database import make_engine, make_session_factory


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("audit", help="the tamper-evident ticket audit chain")
    what = parser.add_subparsers(dest="what", required=True)
    verify = what.add_parser("verify", help="check every entry; exit 1 naming what was changed")
    verify.add_argument(
        "--database-url", dest="database_url", default=None, help="(env FAULTLINE_DATABASE_URL)"
    )
    verify.add_argument(
        "--expect-head",
        default=None,
        metavar="SEQ:HASH",
        help="the head printed by an earlier verify, kept elsewhere: detects truncation",
    )


def run(args: argparse.Namespace) -> int:
    if args.what != "verify":
        return 2
    url = args.database_url or Settings().database_url
    expected = None
    if args.expect_head:
        seq, _, digest = args.expect_head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            print(f"--expect-head {args.expect_head!r} is not SEQ:SHA256HEX", file=sys.stderr)
            return 2
        expected = (int(seq), digest)
    engine = make_engine(url)
    try:
        if "audit_entries" not in inspect(engine).get_table_names():
            print(
                f"{url}: no audit chain here (run `faultline run` once to migrate)", file=sys.stderr
            )
            return 2
        with make_session_factory(engine)() as session:
            report = audit.verify(session=session, expected_head=expected)
    except SQLAlchemyError as exc:
        print(f"cannot read {url}: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for problem in report.problems:
        print(f"TAMPERED: {problem.what}")
    head = f"#{report.head[0]}:{report.head[1]}" if report.head else "none (empty chain)"
    if report.ok:
        print(f"audit chain intact: {report.entries} entries, head {head}")
        return 0
    print(f"audit chain BROKEN: {len(report.problems)} problem(s) in {report.entries} entries")
    return 1
