"""SQL is built only through SQLAlchemy with bound parameters.

1. A scan of every module under src/ (its syntax tree) finds each ``text(…)``, ``exec_driver_sql(…)``,
   ``execute(…)``/``executescript(…)`` and ``op.execute(…)`` whose SQL is not a plain string literal or a
   SQLAlchemy construct: f-strings, ``%`` or ``+`` on strings, ``.format``/``.join``, or a name assigned
   from any of those in the same function. Each such call must be in REVIEWED with the reason it is safe;
   a new one fails until it is reviewed (and a reviewed one that is gone fails too, to keep the list true).
2. Hostile strings (quotes, ``'; DROP TABLE``, comment markers, placeholders, backslashes, unicode) go in
   through the API and the forms and come back verbatim; the tables are all still there. A NUL byte, which
   PostgreSQL's text cannot hold, is refused with a clear 422 / 400 on both databases.
"""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect

from socap.models import Base
from tests.security.support import SCENARIO
from tests.web.support import api_token, csrf_from, make_user, sign_in

SRC = Path(__file__).resolve().parents[2] / "src"
SQL_CALLS = {"text", "exec_driver_sql", "execute", "executescript", "executemany", "driver_execute"}
# where the SQL is among a call's arguments, when not first: socap.db.driver_execute(connection, sql, params)
SQL_ARGUMENT = {"driver_execute": 1}
# calls that take raw SQL (a name given to them must come from a literal in the function)
RAW_SQL_CALLS = ("text", "exec_driver_sql", "executescript", "driver_execute")
# (module, function, SQL argument as written) → why it is safe
REVIEWED = {
    ("socap/db.py", "_on_connect", "f'PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}'"):
        "a module constant (an int), no input",
    ("socap/db.py", "upsert", "*statement"):
        "plan.statement(): identifiers quoted by the dialect's preparer from the table's metadata; every value "
        "is a bound parameter (? on SQLite, one %s array per column on PostgreSQL)",
    ("socap/db_stats.py", "analyze_stale", "f'ANALYZE {quote(table)}'"):
        "a table name from PostgreSQL's own catalog (pg_stat_user_tables), quoted by the dialect's preparer; "
        "ANALYZE takes no bound parameters",
    ("socap/reports/rollup.py", "record", "_before_sql(len(accounts))"):
        "constant column names from FIRST_COLUMN and one ? per account (their count); every value is bound",
    ("socap/reports/rollup.py", "record", "_accounts_sql(category, len(accounts))"):
        "FIRST_COLUMN[category] (a KeyError for any other category) and one (?, ?, ?) per account; values bound",
    ("socap/reports/rollup.py", "record", "_tally_sql(len(changes))"):
        "one (?, ?, ?, ?) per account_tally change (their count); every value is bound",
    ("socap/reports/queries.py", "analytic_settings", "f'SELECT {current}'"):
        "placeholders :n0, :n1… generated from a constant dict's size; setting names and values are bound",
    ("socap/reports/queries.py", "analytic_settings", "setter"):
        "placeholders :n0/:v0… generated from a constant dict's size; setting names and values are bound",
    ("socap/reports/rollup.py", "rebuild", "_ACCOUNT_TALLY_SQL.format(least=least)"):
        "a module constant built from FIRST_COLUMN's constant names; `least` is 'least' or 'min' by dialect; "
        "the campaign id is bound (:campaign_id)",
    ("socap/migrations/versions/0010_account_tally.py", "upgrade",
     "'INSERT INTO account_tally (campaign_id, scope, run_id, n) ' + ' UNION ALL '.join(parts)"):
        "constants only: the three category names written in the migration, 'least' or 'min' by dialect, "
        "and an int sentinel; no value from input",
}


def _is_built(node: ast.AST) -> bool:
    """An expression that builds a string at run time."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return True
    return False


def _sql_argument_is_suspect(arg: ast.AST, assignments: dict[str, list[ast.AST]], call: str) -> bool:
    if isinstance(arg, ast.Starred):
        return True
    if _is_built(arg):
        return True
    if call == "driver_execute" and isinstance(arg, ast.Call):
        return True  # it takes raw SQL only: what a call returns there is SQL built by that call
    if isinstance(arg, ast.Name):
        values = assignments.get(arg.id, [])
        if any(_is_built(v) for v in values):
            return True
        # a name for raw SQL (text / exec_driver_sql) must at least come from a literal in the function
        return call in RAW_SQL_CALLS and not all(isinstance(v, ast.Constant) for v in values)
    return False


def sql_built_at_run_time(root: Path = SRC) -> dict[tuple[str, str, str], int]:
    found: dict[tuple[str, str, str], int] = {}

    def visit(function: ast.AST, module: str) -> None:
        """The calls of ``function`` itself; nested functions are visited on their own."""
        own: list[ast.AST] = []
        stack = list(ast.iter_child_nodes(function))
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(node, module)
                continue
            own.append(node)
            stack.extend(ast.iter_child_nodes(node))
        assignments: dict[str, list[ast.AST]] = {}
        for node in own:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assignments.setdefault(target.id, []).append(node.value)
        for node in own:
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            index = SQL_ARGUMENT.get(name, 0)
            if name in SQL_CALLS and len(node.args) > index \
                    and _sql_argument_is_suspect(node.args[index], assignments, name):
                key = (module, getattr(function, "name", "<module>"), ast.unparse(node.args[index]))
                found[key] = found.get(key, 0) + 1

    for path in sorted(root.rglob("*.py")):
        visit(ast.parse(path.read_text(), filename=str(path)), path.relative_to(root).as_posix())
    return found


def test_sql_is_never_built_from_strings_outside_the_reviewed_places():
    found = sql_built_at_run_time()
    new = sorted(set(found) - set(REVIEWED))
    assert not new, f"SQL built from strings, not reviewed: {new}. Use bound parameters; if it really is " \
                    "safe (identifiers from metadata, constants), add it to REVIEWED with the reason."
    gone = sorted(set(REVIEWED) - set(found))
    assert not gone, f"reviewed entries no longer in the code (remove them): {gone}"


def test_the_scan_catches_the_usual_mistakes(tmp_path):
    (tmp_path / "bad.py").write_text(
        "from sqlalchemy import text\n"
        "def f(session, name, conn, cur):\n"
        "    session.execute(text(f\"SELECT * FROM campaign WHERE name = '{name}'\"))\n"
        "    session.execute(text(\"SELECT * FROM campaign WHERE name = '%s'\" % name))\n"
        "    conn.exec_driver_sql(\"DELETE FROM campaign WHERE id = \" + name)\n"
        "    q = 'SELECT {}'.format(name)\n"
        "    cur.execute(q)\n"
        "    session.execute(text('SELECT 1'))\n"
        "    session.execute(text('SELECT :x'), {'x': name})\n")
    found = sql_built_at_run_time(tmp_path)
    assert len(found) == 4 and all(module == "bad.py" for module, _, _ in found)


HOSTILE = [
    "Robert'); DROP TABLE campaign;--",
    '"; DELETE FROM app_user; --',
    "' OR '1'='1",
    "name -- comment /* block */ ; SELECT 1",
    "%s %(x)s ? :name $1 {0} \\x00 \\' \\\\",
    "Ünïcødé 🚀 中文 עברית \u202eRTL\u202c 𝕏",
]


@pytest.fixture
def site(start_simulator, make_runtime, serve_web):
    sim = start_simulator(SCENARIO)
    rt = make_runtime(sim)
    make_user(rt, "ana@example.com")
    server = serve_web(rt)
    api = httpx.Client(base_url=server.url + "/api/v1", timeout=30,
                       headers={"Authorization": f"Bearer {api_token(rt, 'ana@example.com')}"})
    yield rt, server, api
    api.close()


def _body(name: str) -> dict:
    spec = SCENARIO.campaign_spec()
    return {"name": name, "main": spec["main"], "days": 1, "threshold": 5, "starts_at": spec["starts_at"]}


def test_hostile_strings_are_stored_and_returned_verbatim(site):
    rt, server, api = site
    tables = set(inspect(rt.db.engine).get_table_names())
    created = []
    for name in HOSTILE:
        r = api.post("/campaigns", json=_body(name))
        assert r.status_code == 201, (name, r.text)
        assert r.json()["name"] == name
        created.append(r.json()["id"])
    # renamed through the API, and through the edit form
    r = api.patch(f"/campaigns/{created[0]}", json={"name": HOSTILE[1] + " (renamed)"})
    assert r.status_code == 200 and r.json()["name"] == HOSTILE[1] + " (renamed)"
    browser = sign_in(server, "ana@example.com")
    r = browser.post(f"/campaigns/{created[1]}/edit", data={"csrf_token": browser.csrf, "name": HOSTILE[2],
                                                           "threshold": "5", "spacing_minutes": "20"})
    assert r.status_code == 303, r.text
    # created through the form
    spec = SCENARIO.campaign_spec()
    r = browser.post("/campaigns/new", data={"csrf_token": browser.csrf, "name": HOSTILE[3] + " (form)",
                                             "main": spec["main"][0], "window": "days", "days": "1",
                                             "threshold": "5", "spacing_minutes": "20"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    form_id = int(r.headers["location"].rsplit("/", 1)[1])

    names = {c["id"]: c["name"] for c in api.get("/campaigns").json()}
    assert names == {**dict(zip(created, HOSTILE, strict=True)), created[0]: HOSTILE[1] + " (renamed)",
                     created[1]: HOSTILE[2], form_id: HOSTILE[3] + " (form)"}
    for campaign_id, name in names.items():
        assert api.get(f"/campaigns/{campaign_id}").json()["name"] == name
    # deleting by typing the hostile name deletes that campaign only
    r = browser.post(f"/campaigns/{created[5]}/delete", data={"csrf_token": browser.csrf,
                                                              "confirm_name": HOSTILE[5]})
    assert r.status_code == 303 and len(api.get("/campaigns").json()) == len(names) - 1
    # hostile filters and sign-ins are refused as input, not run
    for query in ("category=' OR 1=1 --", "action=retweet'; DROP TABLE engagement;--", "min_importance=1 OR 1=1",
                  "since=2025-01-01' OR '1'='1"):
        r = api.get(f"/campaigns/{created[2]}/summary?{query}")
        assert r.status_code == 422, query
    anon = httpx.Client(timeout=30, base_url=server.url)
    token = csrf_from(anon.get("/login").text)
    for email in ("' OR '1'='1", "ana@example.com' --", "ana@example.com'; DROP TABLE app_user;--"):
        assert anon.post("/login", data={"csrf_token": token, "email": email, "password": "x' OR '1'='1"}
                         ).status_code == 400
    assert set(inspect(rt.db.engine).get_table_names()) == tables >= {t.name for t in Base.metadata.sorted_tables}
    assert api.get("/me").status_code == 200


def test_a_nul_byte_is_refused_clearly(site):
    _, server, api = site
    r = api.post("/campaigns", json=_body("bad\x00name"))
    assert r.status_code == 422 and "name" in r.json()["detail"]["errors"], r.text
    created = api.post("/campaigns", json=_body("fine")).json()["id"]
    r = api.patch(f"/campaigns/{created}", json={"name": "also\x00bad"})
    assert r.status_code == 422 and "name" in r.json()["detail"]["errors"], r.text
    browser = sign_in(server, "ana@example.com")
    r = browser.post(f"/campaigns/{created}/edit", data={"csrf_token": browser.csrf, "name": "form\x00name",
                                                         "threshold": "5", "spacing_minutes": "20"})
    assert r.status_code == 400 and "control character" in r.text
    assert api.get(f"/campaigns/{created}").json()["name"] == "fine"
    # nor can it reach a query through the sign-in form
    anon = httpx.Client(timeout=30, base_url=server.url)
    token = csrf_from(anon.get("/login").text)
    r = anon.post("/login", data={"csrf_token": token, "email": "ana\x00@example.com", "password": "x\x00y"})
    assert r.status_code == 400 and "Wrong e-mail or password." in r.text
