"""Importance scoring throughput: 100,000 new engagers against 300 seeds and 300,000 follow edges.

Prints one JSON document: engagers scored per second on SQLite and on PostgreSQL, the way the ingest hook
scores them (pages of 100 new engagers, each in its own transaction: find the unscored ones, compute their
scores from the edges, store them), and the time that takes next to one poll interval (30 minutes).

    .venv/bin/python bench/importance.py [--engagers 100000] [--seeds 300] [--edges 300000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from socap import migrations  # noqa: E402
from socap.auth.models import Workspace  # noqa: E402
from socap.db import Database, upsert  # noqa: E402
from socap.importance import scoring  # noqa: E402
from socap.importance.models import Account, Follow, ImportantAccount  # noqa: E402
from socap.models import Base  # noqa: E402

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql://postgres@127.0.0.1:5432/socap_bench_importance"
POLL_SECONDS = 30 * 60


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fresh_database(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        path = tmp / "importance_bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin = Database(PG_ADMIN)
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("DROP DATABASE IF EXISTS socap_bench_importance"))
            conn.execute(text("CREATE DATABASE socap_bench_importance"))
        admin.dispose()
        url = PG_URL
    migrations.upgrade(url)
    return url


def populate(db: Database, *, seeds: int, edges: int, engagers: int, rng: random.Random) -> list[int]:
    universe = engagers * 2  # seeds follow engagers and many accounts that never engage
    with db.write() as s:
        s.add(Workspace(id=1, name="bench", created_at=NOW))
        s.flush()
        upsert(s, ImportantAccount, [{"id": i + 1, "workspace_id": 1, "username": f"seed{i}", "x_user_id": 10**15 + i,
                                      "category": "investor", "weight": rng.randint(1, 3), "active": True}
                                     for i in range(seeds)], index_elements=["id"])
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < edges:
        pairs.add((rng.randint(1, seeds), 10**12 + rng.randrange(universe)))
    rows = [{"seed_id": a, "account_id": b} for a, b in pairs]
    for start in range(0, len(rows), 20_000):
        with db.write() as s:
            upsert(s, Follow, rows[start:start + 20_000], index_elements=["seed_id", "account_id"], batch_size=2000)
    ids = [10**12 + i for i in range(engagers)]
    for start in range(0, len(ids), 10_000):
        with db.write() as s:
            upsert(s, Account, [{"id": i, "username": f"u{i}", "name": "", "bio": "", "refreshed_at": NOW}
                                for i in ids[start:start + 10_000]], index_elements=["id"], batch_size=2000)
    return ids


def measure(kind: str, tmp: Path, args) -> dict:
    url = fresh_database(kind, tmp)
    db = Database(url)
    rng = random.Random(7)
    started = time.perf_counter()
    ids = populate(db, seeds=args.seeds, edges=args.edges, engagers=args.engagers, rng=rng)
    if kind == "postgresql" and not args.no_analyze:
        with db.engine.connect() as conn:  # what autovacuum does soon after a bulk load (and sync does itself)
            conn.execute(text("ANALYZE"))
            conn.commit()
    setup = time.perf_counter() - started
    log(f"{kind}: populated in {setup:.1f}s; scoring {len(ids)} engagers in pages of 100")
    started = time.perf_counter()
    scored = 0
    for start in range(0, len(ids), 100):
        with db.write() as s:
            fresh = scoring.unscored(s, workspace_id=1, account_ids=ids[start:start + 100])
            scored += len(scoring.store_scores(s, workspace_id=1, account_ids=fresh, now=NOW))
    elapsed = time.perf_counter() - started
    with db.session() as s:
        followed = s.execute(text("SELECT count(*) FROM account_importance WHERE score > 0")).scalar()
    db.dispose()
    with Database(url).engine.connect() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in ("follow", "account", "account_importance"):
                conn.execute(text(f"DELETE FROM {table.name}"))
        conn.commit()
    return {"engagers_scored": scored, "with_nonzero_score": followed, "seconds": round(elapsed, 2),
            "engagers_per_second": round(scored / elapsed),
            "share_of_one_poll_interval": round(elapsed / POLL_SECONDS, 4),
            "setup_seconds": round(setup, 1)}


def categorizations(count: int = 20_000) -> dict:
    """Bio/name categorization alone (it runs for every new engager at ingest): a mix of real-looking bios."""
    from socap.importance.categories import default_rules

    bios = [("General Partner @ Seedcamp. Investing in dev tools.", "Ana Rossi"),
            ("Founder & CEO of Nimbus. Building in public.", "Kai Larsen"),
            ("Senior engineer. Rust, Go, distributed systems.", "Eli Patel"),
            ("Tech reporter at The Verge. DMs open.", "Luna Ivanova"),
            ("Devoted dad, coffee snob, Seahawks fan", ""),
            ("WordPress fan. I blog about my garden.", ""),
            ("", "VC Angel Investor | ex-Google"),
            ("東京のスタートアップ創業者。", "")]
    work = (bios * (count // len(bios) + 1))[:count]
    rules = default_rules()
    started = time.perf_counter()
    for bio, name in work:
        rules.categorize(bio, name)
    elapsed = time.perf_counter() - started
    return {"categorizations": count, "seconds": round(elapsed, 3), "per_second": round(count / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engagers", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--edges", type=int, default=300_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--no-analyze", action="store_true", help="PostgreSQL: score on stale planner statistics")
    parser.add_argument("--tmp", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    args.tmp.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": "importance scoring of new engagers",
              "setup": {"engagers": args.engagers, "seeds": args.seeds, "edges": args.edges, "page": 100},
              "goal": "well under one poll interval (1800 s) for 100,000 engagers", "results": {}}
    kinds = ["sqlite"] + ([] if args.skip_postgres else ["postgresql"])
    result["categorization"] = categorizations()
    for kind in kinds:
        result["results"][kind] = measure(kind, args.tmp, args)
    result["met"] = all(r["seconds"] < POLL_SECONDS / 10 for r in result["results"].values())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
