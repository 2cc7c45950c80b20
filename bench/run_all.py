#!/usr/bin/env python
"""Every benchmark, one JSON table: ``make bench`` (``make bench QUICK=1`` for the smaller, faster sizes).

Runs bench/poll_cycle.py, bench/dashboard.py, bench/backfill.py, bench/alert_slots.py and bench/growth.py,
each in its own process (their progress goes to stderr, each one's full JSON report to bench/out/<name>.json),
then prints on stdout one document whose ``table`` has one row per figure: ``value``, ``goal`` and ``met``,
plus the few numbers behind it. bench/README.md says what each figure means.

PostgreSQL (default 127.0.0.1:5432, user postgres): the ingest and dashboard benchmarks use their own
databases, ``socap_bench_runner_ingest`` and ``socap_bench_runner_dashboard``, created if missing; bench/pgdb.py
refuses any database not named ``socap_bench…`` and the other benchmarks' ones. Nothing else is touched.

    .venv/bin/python bench/run_all.py [--quick] [--only poll_cycle,backfill] [--pg-server URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
DEFAULT_PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
NAMES = ("poll_cycle", "dashboard", "backfill", "backfill_threaded", "alert_slots", "growth")
FULL_ONLY = {"backfill_threaded"}


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def commands(quick: bool, pg_server: str, redis_url: str) -> dict[str, list[str]]:
    """Each benchmark's command line: the quick sizes with --quick, else the full ones (see bench/README.md)."""
    q = ["--quick"] if quick else []
    return {
        "poll_cycle": ["poll_cycle.py", *q, *(["--posts", "50", "--window-hours", "4", "--ingest-rows", "3000"]
                                              if quick else []),
                       "--pg-url", f"{pg_server}/socap_bench_runner_ingest"],
        # the dashboard's own --quick: 100 posts, 100,000 engagements (full: 500 posts, 1,000,000)
        "dashboard": ["dashboard.py", *q, "--pg-url", f"{pg_server}/socap_bench_runner_dashboard",
                      "--redis-url", redis_url, "--no-plans"],
        "backfill": ["backfill.py", *q, "--modes", "stepped"],
        # the real engine on a virtual clock: the work's real time counts speed-fold (see bench/README.md)
        "backfill_threaded": ["backfill.py", "--modes", "threaded", "--posts", "160", "--speed", "20"],
        # each real ms of the outbox costs speed virtual ms on top of its 15 s tick (see bench/README.md)
        "alert_slots": ["alert_slots.py", "--speed", "20" if quick else "10"],
        "growth": ["growth.py", *q],
    }


def run(name: str, argv: list[str]) -> tuple[dict | None, float, str | None]:
    """Run one benchmark; (its JSON report, wall seconds, error)."""
    progress(f"{name}: {' '.join(argv)}")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, str(BENCH / argv[0]), *argv[1:]], cwd=BENCH.parent,
                          stdout=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        return None, seconds, f"exit status {done.returncode} (its stderr is above)"
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        return None, seconds, f"no JSON on stdout: {exc}"
    (OUT / f"{name}.json").write_text(json.dumps(report, indent=2, default=str))
    progress(f"{name}: done in {seconds:.0f} s")
    return report, seconds, None


def row(figure: str, case: str | None, value, goal: str, met: bool | None, **detail) -> dict:
    out = {"figure": figure, "case": case, "value": value, "goal": goal, "met": met}
    if detail:
        out["detail"] = detail
    return out


def poll_cycle_rows(r: dict) -> list[dict]:
    rows = []
    for name, regime in r.get("regimes", {}).items():
        ratio = regime["ratio_calls_to_lower_bound"]
        rows.append(row("calls_per_cycle_vs_lower_bound", name, ratio["value"], ratio["goal"], ratio["met"],
                        posts=regime["posts"], cycles=regime["cycles_measured"], calls=regime["calls_total"],
                        lower_bound=regime["lower_bound_total"], reconcile_calls=regime["reconcile_calls_total"],
                        calls_per_cycle=regime["calls_per_cycle_mean"],
                        lower_bound_per_cycle=regime["lower_bound_per_cycle_mean"],
                        missing_engagements=regime["new_engagements_in_window"]["missing"]))
    for name, regime in r.get("regimes", {}).items():
        cost = regime["cost_vs_minimum_billable"]
        rows.append(row("cost_per_campaign_day_vs_minimum_billable", name, cost["ratio"]["value"],
                        cost["ratio"]["goal"], cost["ratio"]["met"],
                        cost_usd_per_campaign_day=cost["cost_usd_per_campaign_day"],
                        minimum_cost_usd_per_campaign_day=cost["minimum_cost_usd_per_campaign_day"],
                        billed_items=cost["billed"], minimum_items=cost["minimum"],
                        window_hours=regime["cycles_measured"] / 2))
    for backend, ingest in r.get("ingest", {}).items():
        if not isinstance(ingest, dict) or backend == "note":
            continue
        if "skipped" in ingest:
            rows.append(row("ingest_throughput_vs_raw_driver", backend, None, ">= 0.5", None,
                            skipped=ingest["skipped"]))
            continue
        ratio = ingest["ratio_to_raw"]
        rows.append(row("ingest_throughput_vs_raw_driver", backend, ratio["value"], ratio["goal"], ratio["met"],
                        ingest_per_s=ingest["ingest_engagements_per_s"], raw_driver_per_s=ingest["raw_driver_per_s"],
                        ratio_with_account_rows=ingest.get("ratio_to_raw_with_account_rows"), rows=ingest["rows"]))
    return rows


def dashboard_rows(r: dict) -> list[dict]:
    views = r["goal"]["views"]
    worst = max(v["uncached_p95_ms"] for v in views.values())
    return [row("dashboard_p95_ms", f"{r['setup'].get('engagements', '?')} engagements", worst, r["goal"]["target"],
                r["goal"]["met"], uncached_p95_ms={k: v["uncached_p95_ms"] for k, v in views.items()},
                raw_sql_p95_ms={k: v["raw_sql_p95_ms"] for k, v in views.items()},
                cached_p95_ms={k: v["cached_p95_ms"] for k, v in views.items()})]


def backfill_rows(r: dict) -> list[dict]:
    rows = []
    for mode in ("stepped", "threaded"):
        m = r.get(mode)
        if not m:
            continue
        ratio = m["ratio_to_bound"]
        detail = {"posts": m["posts"], "backfill_minutes": m["backfill_minutes"],
                  "tasks_without_a_call": (m.get("tasks") or {}).get("tasks_without_a_call"),
                  "bound_minutes": m["bound"]["minutes"],
                  "bound_windows": m["bound"]["windows"], "list_calls_over_forced": m["list_calls_over_forced"],
                  "main_posts_backfill_minutes": m["main_posts_backfill"]["minutes"],
                  "missing_engagements": m["engagements"]["missing"]}
        if mode == "threaded":
            detail["clock_speed"] = m["engine"]["clock_speed"]
        rows.append(row("backfill_time_vs_rate_limit_bound", mode, ratio["value"], ratio["goal"], ratio["met"],
                        **detail))
    return rows


def alert_rows(r: dict) -> list[dict]:
    rows = []
    for mode in ("stepped", "threaded"):
        m = r.get(mode)
        if not m:
            continue
        detail = {"alerts": m["alerts"], "not_arrived": m["not_arrived"], "slot_error_seconds": m["slot_error_seconds"],
                  "spacing_error_seconds": m["spacing_error_seconds"]}
        if mode == "threaded":
            detail["clock_speed"] = m["clock_speed"]
            detail["delivery"] = m.get("delivery")
        rows.append(row("alert_slot_error_max_seconds", mode, m["goal"]["value"], m["goal"]["goal"],
                        m["goal"]["met"], **detail))
    return rows


def growth_rows(r: dict) -> list[dict]:
    rows = []
    for series in ("posts", "campaigns"):
        s = r.get(series)
        if not s:
            continue
        points = s["points"]
        work = f"{points[0].get(series)} -> {points[-1].get(series)} {series}"
        for figure, key in (("calls", "calls"), ("wall_time", "wall_seconds"), ("peak_memory", "peak_rss_mb")):
            k = s["growth_exponent"].get(key)
            detail = {"points": {str(p.get(series)): p.get(key) for p in points}}
            if key == "peak_rss_mb":
                detail["over_rss_before_engine_mb"] = {str(p.get(series)): p.get("peak_rss_over_before_engine_mb")
                                                       for p in points}
            rows.append(row(f"growth_exponent_{figure}", work, k, "<= 1.1 (at most linear in the work)",
                            None if k is None else k <= 1.1, **detail))
    return rows


ROWS = {"poll_cycle": poll_cycle_rows, "dashboard": dashboard_rows, "backfill": backfill_rows,
        "backfill_threaded": backfill_rows,
        "alert_slots": alert_rows, "growth": growth_rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a few minutes instead of ~30")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(NAMES)}")
    parser.add_argument("--pg-server", default=os.environ.get("SOCAP_BENCH_PG_SERVER", DEFAULT_PG_SERVER),
                        help=f"PostgreSQL server URL without a database (default {DEFAULT_PG_SERVER})")
    parser.add_argument("--redis-url", default=os.environ.get("SOCAP_BENCH_REDIS_URL", ""),
                        help="Redis for the dashboard's cached_redis figures (default: none, skipped)")
    args = parser.parse_args(argv)
    from poll_cycle import source_state  # imports socap: after --help

    names = ([n.strip() for n in args.only.split(",")] if args.only
             else [n for n in NAMES if not (args.quick and n in FULL_ONLY)])
    unknown = set(names) - set(NAMES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    OUT.mkdir(exist_ok=True)
    lines = commands(args.quick, args.pg_server.rstrip("/"), args.redis_url)
    wall0 = time.perf_counter()
    load_start = os.getloadavg()
    table, runs = [], {}
    for name in names:
        report, seconds, error = run(name, lines[name])
        runs[name] = {"wall_seconds": round(seconds, 1), "report": f"bench/out/{name}.json"}
        if error:
            runs[name]["error"] = error
            table.append(row(name, None, None, "", False, error=error))
            continue
        try:
            table += ROWS[name](report)
        except (KeyError, TypeError, ValueError) as exc:  # a report without the expected figures
            runs[name]["error"] = f"unreadable report: {type(exc).__name__}: {exc}"
            table.append(row(name, None, None, "", False, error=runs[name]["error"]))
    document = {
        "benchmark": "socap bench", "mode": "quick" if args.quick else "full", "source": source_state(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_start": [round(x, 2) for x in load_start],
                    "load_average_end": [round(x, 2) for x in os.getloadavg()]},
        "wall_seconds": round(time.perf_counter() - wall0, 1),
        "all_met": all(r["met"] for r in table if r["met"] is not None),
        "table": table,
        "runs": runs,
    }
    print(json.dumps(document, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
