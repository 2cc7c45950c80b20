"""The curated seed list of a workspace: import (all or nothing), add, remove, re-weight, (de)activate, export.

Handles are resolved to X ids with batched user lookups (100 a call) before anything is written; a bad row
or an unknown handle refuses the whole import, naming the line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from socap.importance import scoring
from socap.importance.accounts import account_row, upsert_accounts
from socap.importance.models import SEED_CATEGORIES, Follow, FollowStaging, ImportantAccount
from socap.x import XClient

HANDLE = re.compile(r"^@?([A-Za-z0-9_]{1,15})$")
LOOKUP_BATCH = 100


class SeedError(Exception):
    """A refusal the user can act on; ``str()`` is the message to show."""


class SeedImportError(SeedError):
    def __init__(self, problems: Sequence[tuple[int, str]]):
        self.problems = list(problems)
        lines = [f"line {n}: {msg}" for n, msg in self.problems]
        super().__init__("seed list not imported (nothing was changed):\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class SeedRow:
    line: int
    username: str
    category: str
    weight: int


def _check_fields(line: int, username: str, category: str, weight_text: str) -> tuple[SeedRow | None, list[str]]:
    problems = []
    match = HANDLE.match(username.strip())
    if not match:
        problems.append(f"{username.strip()!r} is not an X handle (1-15 letters, digits or _)")
    category = (category or "").strip().lower() or "other"
    if category not in SEED_CATEGORIES:
        problems.append(f"category {category!r} is not one of {', '.join(SEED_CATEGORIES)}")
    weight_text = (weight_text or "").strip() or "1"
    try:
        weight = int(weight_text)
        if weight < 1:
            raise ValueError
    except ValueError:
        problems.append(f"weight {weight_text!r} is not a positive whole number")
        weight = 0
    if problems:
        return None, problems
    return SeedRow(line, match.group(1), category, weight), []


def parse_csv(text: str) -> list[SeedRow]:
    """``username,category,weight`` (weight optional, default 1). Every problem is reported by line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows: list[SeedRow] = []
    problems: list[tuple[int, str]] = []
    header: list[str] | None = None
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not record or all(not cell.strip() for cell in record) or record[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in record]
            if header[:1] != ["username"] or not set(header) <= {"username", "category", "weight"}:
                problems.append((line, "the first line must be the header: username,category,weight"))
                break
            continue
        values = dict(zip(header, record, strict=False))
        if len(record) > len(header):
            problems.append((line, f"{len(record)} fields, the header has {len(header)}"))
            continue
        row, issues = _check_fields(line, values.get("username", ""), values.get("category", ""),
                                    values.get("weight", ""))
        problems += [(line, issue) for issue in issues]
        if row is None:
            continue
        key = row.username.lower()
        if key in seen:
            problems.append((line, f"@{row.username} is already on line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(row)
    if header is None and not problems:
        problems.append((1, "the file is empty: expected the header username,category,weight"))
    if problems:
        raise SeedImportError(problems)
    return rows


def resolve(client: XClient, rows: Sequence[SeedRow], *,
            now: datetime) -> tuple[dict[str, dict], list[tuple[int, str]]]:
    """username (lower) → account row for the found handles, and (line, problem) for the others."""
    found: dict[str, dict] = {}
    missing: list[tuple[int, str]] = []
    for start in range(0, len(rows), LOOKUP_BATCH):
        batch = rows[start:start + LOOKUP_BATCH]
        page = client.get_users_by_usernames([r.username for r in batch])
        users = {u.username.lower(): u for u in page.data}
        problems = {(p.value or p.resource_id or "").lower(): p for p in page.errors}
        for row in batch:
            user = users.get(row.username.lower())
            if user is None:
                problem = problems.get(row.username.lower())
                missing.append((row.line, f"@{row.username}: {problem.reason if problem else 'not found on X'}"))
            else:
                found[row.username.lower()] = account_row(user, now)
    return found, missing


def import_rows(session: Session, *, workspace_id: int, rows: Sequence[SeedRow], accounts: dict[str, dict],
                now: datetime) -> tuple[int, int]:
    """Write resolved rows (one transaction: the caller's). Returns (added, updated)."""
    upsert_accounts(session, accounts.values())
    existing = {s.username.lower(): s for s in session.scalars(
        select(ImportantAccount).where(ImportantAccount.workspace_id == workspace_id))}
    added = updated = 0
    touched: set[int] = set()
    for row in rows:
        account = accounts[row.username.lower()]
        seed = existing.get(row.username.lower())
        if seed is None:
            session.add(ImportantAccount(workspace_id=workspace_id, username=account["username"],
                                         x_user_id=account["id"], category=row.category, weight=row.weight,
                                         active=True))
            added += 1
            continue
        if (seed.category, seed.weight, seed.active, seed.x_user_id) != (row.category, row.weight, True,
                                                                         account["id"]):
            if seed.weight != row.weight or not seed.active:
                touched.update(scoring.seed_followed(session, seed.id))
            seed.category, seed.weight, seed.active = row.category, row.weight, True
            seed.username, seed.x_user_id = account["username"], account["id"]
            updated += 1
    session.flush()
    scoring.rescore_known(session, workspace_id=workspace_id, account_ids=touched, now=now)
    return added, updated


def import_csv(db, client: XClient, clock, *, workspace_id: int, text: str) -> tuple[int, int]:
    """Parse, resolve on X (no transaction open), then write all rows in one transaction — or nothing.

    Returns (added, updated); raises SeedImportError naming every bad line or unknown handle."""
    rows = parse_csv(text)
    accounts, missing = resolve(client, rows, now=clock.now())
    if missing:
        raise SeedImportError(missing)
    with db.write() as session:
        return import_rows(session, workspace_id=workspace_id, rows=rows, accounts=accounts, now=clock.now())


def get(session: Session, *, workspace_id: int, username: str) -> ImportantAccount:
    name = username.strip().lstrip("@").lower()
    seed = session.scalar(select(ImportantAccount).where(ImportantAccount.workspace_id == workspace_id)
                          .where(func.lower(ImportantAccount.username) == name))  # not ilike: _ is a wildcard
    if seed is None:
        raise SeedError(f"@{name} is not on the seed list")
    return seed


def list_seeds(session: Session, *, workspace_id: int) -> list[ImportantAccount]:
    return list(session.scalars(select(ImportantAccount).where(ImportantAccount.workspace_id == workspace_id)
                                .order_by(ImportantAccount.username)))


def set_weight(session: Session, *, workspace_id: int, username: str, weight: int, now: datetime) -> int:
    if weight < 1:
        raise SeedError(f"weight must be a positive whole number, got {weight}")
    seed = get(session, workspace_id=workspace_id, username=username)
    seed.weight = weight
    session.flush()
    return scoring.rescore_known(session, workspace_id=workspace_id,
                                 account_ids=scoring.seed_followed(session, seed.id), now=now)


def set_active(session: Session, *, workspace_id: int, username: str, active: bool, now: datetime) -> int:
    seed = get(session, workspace_id=workspace_id, username=username)
    seed.active = active
    session.flush()
    return scoring.rescore_known(session, workspace_id=workspace_id,
                                 account_ids=scoring.seed_followed(session, seed.id), now=now)


def remove(session: Session, *, workspace_id: int, username: str, now: datetime) -> int:
    seed = get(session, workspace_id=workspace_id, username=username)
    touched = scoring.seed_followed(session, seed.id)
    session.execute(delete(Follow).where(Follow.seed_id == seed.id))
    session.execute(delete(FollowStaging).where(FollowStaging.seed_id == seed.id))
    session.delete(seed)
    session.flush()
    return scoring.rescore_known(session, workspace_id=workspace_id, account_ids=touched, now=now)


def export_csv(session: Session, *, workspace_id: int) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["username", "category", "weight"])
    for seed in list_seeds(session, workspace_id=workspace_id):
        if seed.active:
            writer.writerow([seed.username, seed.category, seed.weight])
    return buffer.getvalue()
