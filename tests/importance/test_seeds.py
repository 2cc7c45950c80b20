"""The seed list: CSV import (all or nothing, problems by line), batched handle lookups, and the
`socap importance seeds …` commands, against the simulator over real HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from socap.console import set_runtime
from socap.importance.models import Account, ImportantAccount
from socap.importance.seeds import SeedImportError, SeedRow, parse_csv
from socap.simulator import Scenario, load_scenario

from .support import USERS_BY, calls_to, import_csv, seeds_by_name, socap, socap_json


def _many_seeds(b) -> None:
    """150 curated seeds (more than one lookup batch of 100) and one suspended account."""
    b.campaign("Seeds", start="2025-03-03T12:00:00Z", days=1, threshold=10)
    b.seeds({"investor": 40, "vc": 30, "founder": 30, "developer": 25, "media": 20, "other": 5})
    b.account("gonebad", name="Gone", bio="", state="suspended")


MANY = Scenario.from_function("t_many_seeds", _many_seeds)


@pytest.fixture
def cli(start_simulator, make_runtime):
    def start(scenario):
        server = start_simulator(scenario)
        rt = make_runtime(server)
        set_runtime(rt)
        return server, rt

    yield start
    set_runtime(None)


def _count(rt, model) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


# --- parsing --------------------------------------------------------------------------------------------------
def test_parse_defaults_case_and_comments():
    text = ("\ufeffusername,category,weight\n"
            "# the investors\n"
            "@JohnVC,Investor,3\n"
            "\n"
            "techfounder,,\n"
            "devwirenews,media\n"
            "amyangel, vc , 2 \n")
    assert parse_csv(text) == [SeedRow(3, "JohnVC", "investor", 3), SeedRow(5, "techfounder", "other", 1),
                               SeedRow(6, "devwirenews", "media", 1), SeedRow(7, "amyangel", "vc", 2)]
    assert parse_csv("username\njohnvc\n") == [SeedRow(2, "johnvc", "other", 1)]
    assert parse_csv("username,weight,category\njohnvc,4,founder\n") == [SeedRow(2, "johnvc", "founder", 4)]


def test_every_problem_is_reported_by_line_at_once():
    text = ("username,category,weight\n"           # 1
            "johnvc,investor,3\n"                   # 2 fine
            "not a handle!,founder,1\n"             # 3 bad handle
            "techfounder,wizard,2\n"                # 4 bad category
            "venturecapital1,vc,0\n"                # 5 zero weight
            "venturecapital2,vc,-4\n"               # 6 negative weight
            "venturecapital3,vc,many\n"             # 7 not a number
            "JohnVC,investor,1\n"                   # 8 duplicate of line 2 (case-insensitive)
            "sixteen_chars_xx,other,1\n"            # 9 too long for an X handle
            "amyangel,angel,1.5\n"                  # 10 two problems on one line
            "devwirenews,media,1,extra\n")          # 11 too many fields
    with pytest.raises(SeedImportError) as caught:
        parse_csv(text)
    problems = caught.value.problems
    by_line: dict[int, list[str]] = {}
    for line, message in problems:
        by_line.setdefault(line, []).append(message)
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "'not a handle!' is not an X handle" in by_line[3][0]
    assert "category 'wizard'" in by_line[4][0]
    assert "weight '0'" in by_line[5][0]
    assert "weight '-4'" in by_line[6][0]
    assert "weight 'many'" in by_line[7][0]
    assert by_line[8] == ["@JohnVC is already on line 2"]
    assert "not an X handle" in by_line[9][0]
    assert len(by_line[10]) == 2 and "category 'angel'" in by_line[10][0] and "weight '1.5'" in by_line[10][1]
    assert "4 fields" in by_line[11][0]
    message = str(caught.value)
    assert message.startswith("seed list not imported (nothing was changed)")
    assert "line 7: weight 'many' is not a positive whole number" in message


@pytest.mark.parametrize("text,line,fragment", [
    ("", 1, "the file is empty"),
    ("\n\n# only a comment\n", 1, "the file is empty"),
    ("handle,category,weight\njohnvc,investor,1\n", 1, "the first line must be the header"),
    ("johnvc,investor,1\n", 1, "the first line must be the header"),
    ("username,category,weight,notes\njohnvc,investor,1,x\n", 1, "the first line must be the header"),
    ("\n# seeds\nname,weight\n", 3, "the first line must be the header"),
])
def test_empty_file_and_wrong_header(text, line, fragment):
    with pytest.raises(SeedImportError) as caught:
        parse_csv(text)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0][0] == line and fragment in caught.value.problems[0][1]


# --- import through the CLI --------------------------------------------------------------------------------
def test_150_seeds_resolve_in_two_lookups_and_store_ids_categories_weights(cli, tmp_path):
    server, rt = cli(MANY)
    world = MANY.build_world()
    text = MANY.seeds_csv()
    assert text.count("\n") == 151
    result = import_csv(tmp_path, text)
    assert "150 added, 0 updated" in result.stdout
    assert calls_to(server, USERS_BY) == 2
    stored = seeds_by_name(rt)
    assert len(stored) == 150
    for seed in world.seeds():
        row = stored[seed.username.lower()]
        assert (str(row.x_user_id), row.category, row.weight, row.active) == (seed.id, seed.seed_category, 1, True)
    # the seeds' own profiles were stored on the way (one account row each)
    assert _count(rt, Account) == 150


def test_one_unknown_handle_imports_nothing(cli, tmp_path):
    server, rt = cli("1")
    lines = load_scenario("1").seeds_csv().splitlines()
    text = "\n".join([*lines[:30], "nosuchperson,other,1", *lines[30:]]) + "\n"
    result = import_csv(tmp_path, text, code=2)
    assert "nothing was changed" in result.stderr
    assert "line 31: @nosuchperson: deleted or not found" in " ".join(result.stderr.split())
    assert calls_to(server, USERS_BY) == 1  # 61 handles: one batch
    assert _count(rt, ImportantAccount) == 0
    assert _count(rt, Account) == 0


def test_suspended_handle_is_refused_with_its_reason(cli, tmp_path):
    _, rt = cli(MANY)
    text = MANY.seeds_csv() + "gonebad,other,1\n"
    result = import_csv(tmp_path, text, code=2)
    assert "line 152: @gonebad: suspended" in " ".join(result.stderr.split())
    assert _count(rt, ImportantAccount) == 0


def test_a_refused_reimport_leaves_the_existing_list_untouched(cli, tmp_path):
    _, rt = cli("1")
    text = load_scenario("1").seeds_csv()
    import_csv(tmp_path, text)
    before = {k: (v.category, v.weight, v.active) for k, v in seeds_by_name(rt).items()}
    lines = text.splitlines()
    changed = [lines[0]] + [line.rsplit(",", 1)[0] + ",7" for line in lines[1:]] + ["ghost_account_1,vc,2"]
    result = import_csv(tmp_path, "\n".join(changed) + "\n", code=2, name="changed.csv")
    assert "ghost_account_1" in result.stderr
    assert {k: (v.category, v.weight, v.active) for k, v in seeds_by_name(rt).items()} == before


def test_invalid_csv_through_the_cli_lists_every_line_and_writes_nothing(cli, tmp_path):
    server, rt = cli("1")
    result = import_csv(tmp_path, "username,category,weight\njohnvc,investor,0\ntechfounder,ceo,1\n", code=2)
    flat = " ".join(result.stderr.split())
    assert "line 2: weight '0'" in flat and "line 3: category 'ceo'" in flat
    assert calls_to(server, USERS_BY) == 0  # refused before asking X anything
    assert _count(rt, ImportantAccount) == 0
    empty = import_csv(tmp_path, "", code=2, name="empty.csv")
    assert "the file is empty" in empty.stderr
    missing = socap("importance", "seeds", "import", str(tmp_path / "nope.csv"), code=2)
    assert "cannot read" in missing.stderr


def test_reimport_updates_category_and_weight_and_adds_new_rows(cli, tmp_path):
    _, rt = cli("1")
    scenario = load_scenario("1")
    lines = scenario.seeds_csv().splitlines()
    import_csv(tmp_path, "\n".join(lines[:41]) + "\n")  # the first 40 seeds
    assert len(seeds_by_name(rt)) == 40
    first, second = lines[1].split(",")[0], lines[2].split(",")[0]
    edited = [lines[0], f"{first},media,5", f"{second},{lines[2].split(',')[1]},3", *lines[3:]]
    result = import_csv(tmp_path, "\n".join(edited) + "\n", name="edited.csv")
    assert "20 added, 2 updated" in result.stdout
    stored = seeds_by_name(rt)
    assert len(stored) == 60
    assert (stored[first.lower()].category, stored[first.lower()].weight) == ("media", 5)
    assert stored[second.lower()].weight == 3
    # importing the same file again changes nothing
    again = import_csv(tmp_path, "\n".join(edited) + "\n", name="edited.csv")
    assert "0 added, 0 updated" in again.stdout


# --- one seed at a time -----------------------------------------------------------------------------------
def test_add_remove_set_weight_deactivate_activate_list(cli, tmp_path):
    server, rt = cli("1")
    socap("importance", "seeds", "add", "@johnvc", "--category", "investor", "--weight", "4")
    socap("importance", "seeds", "add", "techfounder")
    listed = socap_json("importance", "seeds", "list")
    world = load_scenario("1").build_world()
    assert [(r["username"], r["category"], r["weight"], r["active"], r["x_user_id"]) for r in listed] == [
        ("johnvc", "investor", 4, True, int(world.account_by_username("johnvc").id)),
        ("techfounder", "other", 1, True, int(world.account_by_username("techfounder").id)),
    ]
    assert "updated" in socap("importance", "seeds", "add", "techfounder", "--category", "founder").stdout
    assert "now weighs 9" in socap("importance", "seeds", "set-weight", "JohnVC", "9").stdout
    socap("importance", "seeds", "deactivate", "techfounder")
    listed = {r["username"]: r for r in socap_json("importance", "seeds", "list")}
    assert (listed["johnvc"]["weight"], listed["techfounder"]["category"]) == (9, "founder")
    assert listed["techfounder"]["active"] is False
    socap("importance", "seeds", "activate", "@techfounder")
    assert all(r["active"] for r in socap_json("importance", "seeds", "list"))
    socap("importance", "seeds", "remove", "@johnvc")
    assert [r["username"] for r in socap_json("importance", "seeds", "list")] == ["techfounder"]

    # refusals: exit 2, a clear message, nothing changed
    assert "not on the seed list" in socap("importance", "seeds", "remove", "johnvc", code=2).stderr
    assert "positive whole number" in socap("importance", "seeds", "set-weight", "techfounder", "0",
                                            code=2).stderr
    assert "category 'wizard'" in socap("importance", "seeds", "add", "amyangel", "--category", "wizard",
                                        code=2).stderr
    assert "@nosuchperson" in socap("importance", "seeds", "add", "nosuchperson", code=2).stderr
    assert "not an X handle" in socap("importance", "seeds", "add", "bad handle", code=2).stderr
    listed = socap_json("importance", "seeds", "list")
    assert [(r["username"], r["category"], r["weight"]) for r in listed] == [("techfounder", "founder", 1)]
    table = socap("importance", "seeds", "list").stdout
    assert "@techfounder" in table and "never" in table


def test_export_round_trips_through_import(cli, tmp_path):
    _, rt = cli("1")
    import_csv(tmp_path, load_scenario("1").seeds_csv())
    seeds = sorted(seeds_by_name(rt))
    socap("importance", "seeds", "set-weight", seeds[0], "5")
    socap("importance", "seeds", "add", "johnvc", "--category", "vc", "--weight", "2")
    exported = socap("importance", "seeds", "export").stdout
    lines = exported.splitlines()
    assert lines[0] == "username,category,weight" and len(lines) == 62
    assert "johnvc,vc,2" in lines
    assert any(line.lower().startswith(seeds[0] + ",") and line.endswith(",5") for line in lines)
    path = tmp_path / "export.csv"
    assert "wrote" in socap("importance", "seeds", "export", "-o", str(path)).stdout
    assert path.read_text(encoding="utf-8") == exported
    snapshot = {k: (v.category, v.weight, v.active) for k, v in seeds_by_name(rt).items()}

    # change the list, then import the export: back to the exported state
    socap("importance", "seeds", "remove", seeds[1])
    socap("importance", "seeds", "set-weight", seeds[0], "1")
    socap("importance", "seeds", "add", "johnvc", "--category", "investor")
    result = socap("importance", "seeds", "import", str(path))
    assert "1 added, 2 updated" in result.stdout
    assert {k: (v.category, v.weight, v.active) for k, v in seeds_by_name(rt).items()} == snapshot
    assert socap("importance", "seeds", "export").stdout == exported


def _lookalikes(b) -> None:
    """Two seeds whose handles differ only where one has an underscore (a LIKE wildcard)."""
    b.campaign("Lookalikes", start="2025-03-03T12:00:00Z", days=1, threshold=10)
    for username in ("kimxlee", "kim_lee"):
        b.seed(b.account(username, name="Kim Lee", bio="Angel investor."), "investor")


LOOKALIKES = Scenario.from_function("t_lookalikes", _lookalikes)


def test_commands_act_on_the_exact_handle_only(cli, tmp_path):
    _, rt = cli(LOOKALIKES)
    import_csv(tmp_path, "username,category,weight\nkimxlee,investor,1\nkim_lee,investor,1\n")
    socap("importance", "seeds", "set-weight", "KIM_LEE", "7")
    socap("importance", "seeds", "deactivate", "kim_lee")
    stored = seeds_by_name(rt)
    assert (stored["kim_lee"].weight, stored["kim_lee"].active) == (7, False)
    assert (stored["kimxlee"].weight, stored["kimxlee"].active) == (1, True)
    socap("importance", "seeds", "remove", "kim_lee")
    assert sorted(seeds_by_name(rt)) == ["kimxlee"]
    assert "not on the seed list" in socap("importance", "seeds", "remove", "kim_lee", code=2).stderr
    assert "not on the seed list" in socap("importance", "seeds", "remove", "kim%", code=2).stderr
