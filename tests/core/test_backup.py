"""`socap db backup` / `socap db restore` (socap.db_backup), on SQLite and on PostgreSQL (pg_dump/pg_restore).

The main test monitors scenario 5 against the simulator while another thread keeps taking backups (so they
are taken while the engine writes), monitors on for hours, restores the last backup over the live database
and resumes: at the end the database equals the simulator's truth — every engagement once, X's final
counters — and each alert exists once (one per important engagement, one completion summary); the receiver
saw alerts twice only under the same idempotency key with the same text.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from socap import db_backup, migrations
from socap.alerts.models import Alert, AlertDelivery
from socap.campaigns.models import Campaign
from socap.monitoring.engine import drive, run_tick
from socap.monitoring.models import Engagement
from socap.simulator import load_scenario
from tests.alerts.conftest import Receiver, import_and_sync_seeds
from tests.conftest import PG_URL
from tests.monitoring.support import (
    capturable,
    create_campaign,
    latest_metrics,
    memory_queue,
    stored_engagements,
    truth,
)

SCENARIO = load_scenario("5")
SUFFIX = ".dump" if PG_URL else ".db"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _alerts(rt, campaign_id: int) -> list[tuple[str, int | None]]:
    with rt.db.session() as s:
        return list(s.execute(select(Alert.kind, Alert.engagement_id).where(Alert.campaign_id == campaign_id)))


def test_a_restored_database_resumes_monitoring_without_duplicates(start_simulator, make_runtime, receiver, tmp_path):
    sim = start_simulator(SCENARIO)
    receiver.clock = sim.clock
    rt = make_runtime(sim)
    url = rt.settings.database_url
    import_and_sync_seeds(rt, SCENARIO)
    campaign_id = create_campaign(rt, SCENARIO, notify_urls=[receiver.url])
    world = SCENARIO.build_world()

    # backups, one after another, while the engine works through the first 45 minutes
    taken: list[db_backup.Result] = []
    stop = threading.Event()
    backed_up = threading.Condition()

    def keep_backing_up() -> None:
        while not stop.is_set():
            result = db_backup.backup(url, tmp_path / f"backup-{len(taken)}{SUFFIX}")
            with backed_up:
                taken.append(result)
                backed_up.notify_all()
            stop.wait(0.2)

    def overlap(_report) -> None:
        # the engine's first ticks each wait for one more backup, so several backups are taken while it writes
        # however fast the machine (a fast one drove all 45 minutes before the second backup began)
        with backed_up:
            if len(taken) < 3:
                seen = len(taken)
                assert backed_up.wait_for(lambda: len(taken) > seen, timeout=60), "no backup was taken"

    worker = threading.Thread(target=keep_backing_up)
    worker.start()
    try:
        drive(rt, memory_queue(rt), until=SCENARIO.start + timedelta(minutes=45), on_tick=overlap)
    finally:
        stop.set()
        worker.join()
    assert len(taken) >= 2 and {b.revision for b in taken} == {migrations.current(url)}
    chosen = taken[-1].path

    drive(rt, memory_queue(rt), until=SCENARIO.start + timedelta(hours=3))
    before = len(stored_engagements(rt, campaign_id))
    assert len(_alerts(rt, campaign_id)) == 3

    # the live database holds data: a restore needs --force
    with pytest.raises(db_backup.BackupError, match="not empty"):
        db_backup.restore(url, chosen, now=rt.clock.now())
    restored = db_backup.restore(url, chosen, now=rt.clock.now(), force=True)
    assert restored.revision == migrations.current(url) and restored.upgraded_to is None
    assert len(stored_engagements(rt, campaign_id)) < before  # back to the backup's moment

    drive(rt, memory_queue(rt), until=world.end + timedelta(hours=1))
    with rt.db.session() as s:
        assert s.get(Campaign, campaign_id).status == "completed"
    stored = stored_engagements(rt, campaign_id)
    assert len(stored) == len(set(stored)), "an engagement was stored twice"
    expected = truth(sim, at=world.end)
    assert set(stored) == capturable(expected)
    final = latest_metrics(rt, campaign_id)
    for post in expected["posts"]:
        assert final[post["id"]] == post["public_metrics"], post["category"]
    alerts = _alerts(rt, campaign_id)
    assert Counter(kind for kind, _ in alerts) == {"engagement": 3, "summary": 1}
    assert len({e for kind, e in alerts if kind == "engagement"}) == 3  # one per engagement
    with rt.db.session() as s:
        kinds = dict(s.execute(select(AlertDelivery.idempotency_key, Alert.kind).join(
            Alert, Alert.id == AlertDelivery.alert_id).where(AlertDelivery.channel == receiver.url)).all())
    keys = set(kinds)
    # the receiver: every alert arrived; those sent between the backup and the restore come once more (the
    # restored database had not sent them yet), under the same key and with the same text, so the receiver
    # can drop them; the summary, made after the restore, came once
    texts, arrivals = defaultdict(set), Counter()
    for m in receiver.messages:
        key = m["headers"]["X-Idempotency-Key"]
        texts[key].add(m["body"]["message"])
        arrivals[key] += 1
    assert set(texts) == keys and all(len(t) == 1 for t in texts.values())
    assert max(arrivals.values()) <= 2
    assert [arrivals[k] for k, kind in kinds.items() if kind == "summary"] == [1]


def test_restore_refuses_a_database_in_use_and_checks_the_revision(start_simulator, make_runtime, database_url,
                                                                   tmp_path):
    sim = start_simulator(SCENARIO)
    rt = make_runtime(sim)
    create_campaign(rt, SCENARIO)
    backup = db_backup.backup(database_url, tmp_path / f"now{SUFFIX}")
    with pytest.raises(db_backup.BackupError, match="exists"):
        db_backup.backup(database_url, backup.path)

    # a dispatcher tick leases the due jobs to workers: the database is in use
    run_tick(rt, memory_queue(rt))
    with pytest.raises(db_backup.BackupError, match="in use"):
        db_backup.restore(database_url, backup.path, now=rt.clock.now())
    assert db_backup.restore(database_url, backup.path, now=rt.clock.now(), force=True).revision == backup.revision

    # an older backup is migrated after the restore; one from a newer SOCAP is refused before anything changes
    head = migrations.current(database_url)
    rt.db.dispose()
    migrations.downgrade(database_url, "0008")
    older = db_backup.backup(database_url, tmp_path / f"older{SUFFIX}")
    migrations.upgrade(database_url)
    assert older.revision == "0008"
    done = db_backup.restore(database_url, older.path, now=rt.clock.now(), force=True)
    assert done.upgraded_to == head == migrations.current(database_url)
    with rt.db.write() as s:
        s.execute(text("UPDATE alembic_version SET version_num = 'ffff9999'"))
    newer = db_backup.backup(database_url, tmp_path / f"newer{SUFFIX}")
    with rt.db.write() as s:
        s.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        s.execute(text("DELETE FROM poll_job"))  # a change the refused restore must not undo
    with pytest.raises(db_backup.BackupError, match="does not know"):
        db_backup.restore(database_url, newer.path, now=rt.clock.now(), force=True)
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Engagement)) == 0
        assert s.execute(text("SELECT count(*) FROM poll_job")).scalar() == 0
    with pytest.raises(db_backup.BackupError, match="not a"):
        db_backup.restore(database_url, __file__, now=rt.clock.now(), force=True)


def test_the_cli_commands(make_runtime, tmp_path):
    from socap.cli import app
    from socap.console import set_runtime
    from tests.web.support import make_user

    rt = make_runtime()
    make_user(rt, "ana@example.com")
    path = tmp_path / f"cli{SUFFIX}"
    set_runtime(rt)
    try:
        runner = CliRunner()
        r = runner.invoke(app, ["db", "backup", str(path)])
        assert r.exit_code == 0 and f"backup written to {path}" in r.output, r.output
        assert runner.invoke(app, ["db", "backup", str(path)]).exit_code == 2
        r = runner.invoke(app, ["db", "restore", str(path)])
        assert r.exit_code == 2 and "--force" in r.output
        r = runner.invoke(app, ["db", "restore", str(path), "--force"])
        assert r.exit_code == 0 and "restored" in r.output, r.output
    finally:
        set_runtime(None)
    with rt.db.session() as s:
        assert s.execute(text("SELECT email FROM app_user")).scalars().all() == ["ana@example.com"]
