import time
from datetime import UTC, datetime, timedelta

import pytest

from socap.clock import ManualClock, SystemClock, VirtualClock, parse_clock

ORIGIN = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def test_virtual_clock_runs_at_speed_from_shared_origin():
    real_origin = time.time() - 10  # ten real seconds ago
    clock = VirtualClock(ORIGIN, speed=60, real_origin=real_origin)
    elapsed = clock.now() - ORIGIN
    assert timedelta(minutes=9, seconds=59) <= elapsed <= timedelta(minutes=10, seconds=30)


def test_two_processes_agree_through_the_spec_string():
    clock = VirtualClock(ORIGIN, speed=120)
    other = parse_clock(clock.spec())
    assert isinstance(other, VirtualClock)
    assert abs((other.now() - clock.now()).total_seconds()) < 1.0
    assert other.speed == 120 and other.virtual_origin == ORIGIN


def test_virtual_sleep_is_scaled():
    clock = VirtualClock(ORIGIN, speed=1000)
    start = time.monotonic()
    clock.sleep(50)  # 50 virtual seconds = 0.05 real seconds
    assert time.monotonic() - start < 1.0


def test_manual_clock_moves_only_when_told_and_never_back():
    clock = ManualClock(ORIGIN)
    assert clock.now() == ORIGIN
    clock.sleep(30)
    assert clock.now() == ORIGIN + timedelta(seconds=30)
    clock.advance(timedelta(hours=1))
    assert clock.now() == ORIGIN + timedelta(hours=1, seconds=30)
    with pytest.raises(ValueError):
        clock.set(ORIGIN)
    assert parse_clock(clock.spec()).now() == clock.now()


def test_system_clock_is_utc():
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert parse_clock("system").spec() == "system"
    assert isinstance(parse_clock(None), SystemClock)


@pytest.mark.parametrize("spec", ["nonsense", "virtual:not-a-date", "virtual:2025-01-01T00:00:00Z*0",
                                  "virtual:2025-01-01T00:00:00Z*-3", "sundial:2025-01-01"])
def test_bad_clock_specs_name_the_input(spec):
    with pytest.raises(ValueError) as info:
        parse_clock(spec)
    assert spec.split(":")[0] in str(info.value)


def test_a_shared_clock_changes_gear_for_every_process_reading_its_file(tmp_path):
    from socap.clock import SharedClock

    driver = SharedClock.create(tmp_path / "clock.json", ORIGIN, speed=1000)
    reader = parse_clock(driver.spec())  # another process: only the spec string travels
    assert isinstance(reader, SharedClock) and reader.speed == 1000
    assert abs((reader.now() - driver.now()).total_seconds()) < 1000 * 0.5
    geared = driver.set_speed(1)  # slow down from this instant on: time goes on from there, never back
    assert reader.speed == 1 and reader.now() >= geared
    assert (reader.now() - geared).total_seconds() < 1.0
    later = driver.set_speed(60, at=geared + timedelta(hours=1))  # a jump forward is allowed
    assert reader.now() >= later and reader.speed == 60
    with pytest.raises(ValueError, match="backwards"):
        driver.set_speed(60, at=ORIGIN)
    with pytest.raises(ValueError, match="missing or unreadable"):
        parse_clock(f"shared:{tmp_path / 'absent.json'}")
