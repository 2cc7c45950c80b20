"""The seed follow graph: which curated important accounts follow whom, hence everyone's importance."""

from __future__ import annotations

import random
from collections.abc import Iterable

from socap.simulator.world import Account

# Importance (weighted seed followers) drawn for accounts that do not declare one.
FILLER_IMPORTANCE = {0: 40, 1: 25, 2: 15, 3: 10, 4: 4, 5: 3, 6: 1.5, 7: 1, 8: 0.3, 9: 0.2}  # always < 10
BYSTANDER_IMPORTANCE = {0: 5, 1: 8, 2: 10, 3: 10, 4: 10, 5: 8, 6: 8, 8: 7, 10: 6, 14: 5, 20: 3, 30: 2}
# How keen a seed is to follow people: most moderate, a few follow hundreds (long following lists).
SEED_APPETITES = (0.5, 1, 1, 1.5, 2, 6, 30)


def _draw(rng: random.Random, table: dict[int, float]) -> int:
    return rng.choices(list(table), weights=list(table.values()))[0]


def build_follow_graph(
    accounts: Iterable[Account],
    *,
    bystander_ids: set[str],
    appetite: dict[str, float],
    filler_importance: dict[int, float],
    rng: random.Random,
) -> dict[str, list[str]]:
    """Seed id → followed account ids (newest follow first). A declared importance is met exactly."""
    accounts = list(accounts)
    seeds = [a for a in accounts if a.is_seed]
    follows: dict[str, list[str]] = {s.id: [] for s in seeds}
    for account in accounts:
        if account.is_seed:
            continue
        if account.declared_importance is not None:
            target = account.declared_importance
        else:
            table = BYSTANDER_IMPORTANCE if account.id in bystander_ids else filler_importance
            target = min(_draw(rng, table), len(seeds))  # small test worlds have few seeds
        # Weighted random order of seeds (keen followers first), then take seeds until the target is met.
        order = sorted(seeds, key=lambda s: rng.random() ** (1 / appetite.get(s.id, 1)), reverse=True)
        total = 0
        for seed in order:
            if total + seed.seed_weight <= target:
                follows[seed.id].append(account.id)
                total += seed.seed_weight
            if total == target:
                break
        if total != target:
            raise ValueError(f"cannot give @{account.username} importance {target} with these seeds")
    for seed in seeds:
        rng.shuffle(follows[seed.id])
        seed.following_count = len(follows[seed.id])
    return follows
