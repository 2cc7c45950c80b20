"""Bio categories: the hand-written table of realistic bios and traps, evidence, seeds, configuration."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socap.importance.categories import (
    CATEGORIES,
    RULES,
    Categorization,
    CategoryRules,
    categorize,
    default_rules,
    effective_categorization,
    effective_category,
    normalise,
)

# (bio, display name, expected category)
TABLE = [
    # --- the traps named in the issue ---------------------------------------------------------------------
    ("Devoted dad, coffee snob, Seahawks fan", "", "other"),
    ("WordPress fan. I blog about my garden.", "", "other"),
    ("Press play on our new podcast 🎧", "", "other"),
    ("ex-founder now investor", "", "investor"),
    ("Partner @ a16z", "", "vc"),
    ("Founder of a VC firm", "", "vc"),  # both match: vc wins by precedence
    ("🚀 Founder @acme | 🦄", "", "founder"),
    ("I love espresso and long walks", "", "other"),
    ("Angel from Los Angeles 🌴", "", "other"),
    ("device lab nerd, collecting old phones", "", "other"),
    ("DevOps engineer. Kubernetes all day.", "", "developer"),
    ("Podcast host, The Early Stage Show", "", "media"),
    ("Mom of two. Dogs. Hiking.", "Jane Doe | VC", "vc"),  # the name carries the signal
    ("FOUNDER & CEO @ACME", "", "founder"),
    # --- word boundaries ----------------------------------------------------------------------------------
    ("Devon-based landscape photographer", "", "other"),
    ("Under pressure, always. Marathon runner.", "", "other"),
    ("angelic voice, choir singer", "", "other"),
    ("Proud mom | Jesus follower | Angels fan ⚾", "", "other"),
    ("Bench press PR 180kg. Gym every day.", "Angel Ramírez", "other"),  # bare "Angel" is a given name
    ("French press > espresso", "", "other"),
    ("Code editor enthusiast (vim forever)", "", "other"),
    ("Video editor and colorist", "", "other"),
    ("Hacker News lurker. Rust developer.", "", "developer"),
    ("Full-stack dev, coffee and CSS", "", "developer"),
    ("fullstack developer & gamer", "", "developer"),
    ("Staff SWE @ Meta", "", "developer"),
    ("Open source maintainer | Rustacean 🦀", "", "developer"),
    ("Dev advocate @vercel", "", "developer"),
    ("Founding engineer at Acme", "", "developer"),  # "founding" is not "founder"
    ("Solutions engineer @ Datadog", "", "developer"),
    ("Principal engineer at Stripe", "", "developer"),  # principal, but not at a fund
    ("Software sales @ Oracle", "", "other"),
    ("Indie dev shipping tiny apps", "", "developer"),
    ("Loves dogs", "Dev Patel", "other"),  # a lone first word of a display name is a given name
    ("Loves dogs", "Ravi 🚀 dev", "developer"),
    # --- plurals are audiences, not roles -----------------------------------------------------------------
    ("Helping founders pitch to VCs", "", "other"),
    ("Helping developers ship faster", "", "other"),
    ("VC-backed founder, building in public", "", "founder"),
    # --- hashtags and @mentions ---------------------------------------------------------------------------
    ("#founder #buildinpublic", "", "founder"),
    ("Big fan of @devrel and @founder accounts", "", "other"),
    ("Building @acme. Prev @google.", "", "founder"),
    # --- past roles ---------------------------------------------------------------------------------------
    ("Recovering VC. Now baking bread.", "", "other"),
    ("Former VC. Now founder @breadco", "", "founder"),
    ("Formerly partner at Sequoia. Gardening now.", "", "other"),
    ("Previously: founder @oldco (acq. by BigCo)", "", "other"),
    ("Former founder & CEO of Acme", "", "other"),
    ("Retired engineer, grandfather, golfer", "", "other"),
    ("Journalist-turned-founder", "", "founder"),
    ("Angel investor. Ex-Google.", "", "investor"),
    # --- VCs and investors --------------------------------------------------------------------------------
    ("Partner @foundersfund", "", "vc"),
    ("General Partner at Keystone Capital", "", "vc"),
    ("Principal at Northwind Ventures", "", "vc"),
    ("GP @acmecapital", "", "vc"),
    ("Associate at Acme Capital. Investing in climate.", "", "vc"),
    ("Venture capitalist and amateur chef", "", "vc"),
    ("Investor at Northwind Ventures | ex-operator", "", "investor"),  # investor at a fund: still an investor
    ("Partner at Smith & Jones LLP, corporate law", "", "other"),
    ("Managing Director at Goldman Sachs", "", "other"),
    ("Investor relations @ BigCorp", "", "other"),
    ("Dad. Husband. Investor.", "", "investor"),
    ("Angel in @stripe, @notion. Operator.", "", "investor"),
    ("investing in pre-seed founders 🌱", "", "investor"),
    ("Backing founders at the earliest stage", "", "investor"),
    ("Backing vocals in a punk band", "", "other"),
    ("LP in a few funds, mostly climate", "", "investor"),
    ("New LP in stores Friday! 🎸", "", "other"),
    ("Scout at Sequoia", "", "investor"),
    ("coffee", "Sam | Angel Investor", "investor"),
    # --- founders -----------------------------------------------------------------------------------------
    ("CEO of Acme Robotics", "", "founder"),
    ("Chief of staff to the CEO @ Acme", "", "other"),
    ("Serial entrepreneur (3 exits)", "", "founder"),
    ("co founder @ shipfast, dog person", "", "founder"),
    ("𝗙𝗼𝘂𝗻𝗱𝗲𝗿 @𝗮𝗰𝗺𝗲 | 𝗘𝘅-𝗚𝗼𝗼𝗴𝗹𝗲", "", "founder"),  # mathematical bold letters
    ("Software engineer → founder @acme", "", "founder"),
    # --- media --------------------------------------------------------------------------------------------
    ("Writer at TechCrunch covering AI", "", "media"),
    ("Tech reporter covering startups, venture capital and AI", "", "media"),  # VC is the topic
    ("Hot takes on VC and tech", "", "other"),
    ("Newsletter about angel investing: 40k readers", "", "media"),
    ("Breaking news from Silicon Valley", "", "media"),
    ("No news is good news. Mother, wife, news junkie.", "", "other"),
    ("Editor-in-chief, The Verge", "", "media"),
    ("Host of the Acme Pod", "", "media"),
    ("Host of the VC podcast", "", "media"),  # one media phrase, not a VC
    ("Press officer, City of Leeds", "", "media"),
    ("Subscribe to my newsletter ✉️", "", "media"),
    ("Tech journalist. Not a developer, though I code a little.", "", "media"),
    # --- other languages ----------------------------------------------------------------------------------
    ("Fundador de Acme. Emprendedor.", "", "founder"),
    ("Inversor ángel en startups de fintech", "", "investor"),
    ("Periodista de tecnología en El País", "", "media"),
    ("Desarrollador backend. Python y Go.", "", "developer"),
    ("Gründer & Geschäftsführer von Acme GmbH", "", "founder"),
    ("Investor, Business Angel, Berlin", "", "investor"),
    ("Softwareentwickler aus München", "", "developer"),
    ("Redakteurin bei Gründerszene", "", "media"),  # "Gründerszene" is not "Gründer"
    ("Fondatrice de Acme. Maman.", "", "founder"),
    ("Investisseur early-stage à Paris", "", "investor"),
    ("Développeur front-end passionné", "", "developer"),
    ("Journaliste tech au Monde", "", "media"),
    ("Fundador da Acme, investidor anjo", "", "investor"),
    ("Investidora em startups brasileiras", "", "investor"),
    ("スタートアップ創業者 / 東京", "", "founder"),
    ("Acme共同創業者", "", "founder"),
    ("フルスタックエンジニア", "", "developer"),
    ("科技记者", "", "media"),
    # --- nothing to go on ---------------------------------------------------------------------------------
    ("", "", "other"),
    ("   ", "Jane Doe", "other"),
    ("🌊🏄‍♀️☀️", "", "other"),
    ("Contact: hello@acme.vc | acme.dev", "", "other"),  # addresses are not self-descriptions
]


def test_the_table_is_big_enough():
    assert len(TABLE) >= 60
    assert {expected for _, _, expected in TABLE} == set(CATEGORIES)


@pytest.mark.parametrize(("bio", "name", "expected"), TABLE)
def test_table(bio, name, expected):
    assert categorize(bio, name).category == expected


def test_categories_and_rule_table_line_up():
    assert CATEGORIES == ("vc", "investor", "founder", "media", "developer", "other")
    assert tuple(RULES) == CATEGORIES[:-1]


# --- evidence --------------------------------------------------------------------------------------------------


def test_evidence_names_match_field_and_rule():
    result = categorize("Angel investor in fintech startups", "Ana")
    assert result == Categorization(category="investor", matched="angel investor", field="bio", rule="angel-investor")
    assert result.evidence == 'bio: "angel investor"'


def test_evidence_from_the_name():
    result = categorize("Mom of two", "Jane Doe | VC")
    assert (result.category, result.matched, result.field) == ("vc", "vc", "name")


def test_best_category_over_both_fields_and_bio_first_within_a_category():
    assert categorize("Founder @acme", "Jane | VC").field == "name"  # vc beats founder, whichever field
    assert categorize("Developer", "Dev Jane").field == "bio"


def test_other_has_no_evidence():
    assert categorize("coffee", "") == Categorization("other")
    assert categorize("coffee").evidence is None
    assert categorize(None, None).category == "other"


def test_earliest_match_of_the_winning_category_is_the_evidence():
    assert categorize("ex-founder, now CEO of Bread Co and founder of Jam Co").matched == "ceo of bread"


def test_negation_is_out_of_scope():
    # documented limitation: "not a VC" still reads as a VC
    assert categorize("Not a VC, just curious").category == "vc"


def test_normalise_drops_links_and_addresses():
    text = normalise("Founder https://acme.vc/x jane@acme.io, dev.to www.acme.dev")
    assert text.split() == ["founder", ","]
    assert normalise("ＦＯＵＮＤＥＲ") == "founder"


# --- seeds -----------------------------------------------------------------------------------------------------


def test_seed_category_wins():
    assert effective_category("media", "Angel investor and founder", "Jane | VC") == "media"
    assert effective_category(" VC ", "", "") == "vc"
    result = effective_categorization("investor", "Developer", "")
    assert (result.category, result.field, result.evidence) == ("investor", "seed", "seed category")


@pytest.mark.parametrize("seed", [None, "", "  "])
def test_no_seed_category_falls_back_to_rules(seed):
    assert effective_category(seed, "Angel investor", "") == "investor"
    assert effective_category(seed, "gardener", "") == "other"


def test_unknown_seed_category_is_an_error():
    with pytest.raises(ValueError, match="unknown seed category 'whale'"):
        effective_category("whale", "", "")


def test_effective_category_uses_given_rules():
    rules = CategoryRules.from_config({"media": ["bookworm"]})
    assert effective_category(None, "bookworm", "", rules) == "media"
    assert effective_category(None, "bookworm", "") == "other"


# --- configuration ---------------------------------------------------------------------------------------------


def test_from_config_without_extensions_is_the_builtin_table():
    assert CategoryRules.from_config().rules == default_rules().rules == {c: RULES[c] for c in RULES}


def test_extra_phrases_use_word_boundaries_and_ignore_case():
    rules = CategoryRules.from_config({"developer": ["Kernel Hacker"]})
    assert rules.categorize("Linux kernel hacker").category == "developer"
    assert rules.categorize("LINUX KERNEL  HACKER").matched == "kernel  hacker"
    assert rules.categorize("kernel hackerspace regular").category == "other"
    assert rules.categorize("Founder, kernel hacker").category == "founder"  # precedence is unchanged
    assert default_rules().categorize("Linux kernel hacker").category == "other"  # the defaults are untouched


def test_toml_file(tmp_path):
    path = tmp_path / "categories.toml"
    toml = '[categories]\nvc = ["re:partner\\\\s+at\\\\s+northwind"]\ninvestor = ["whale"]\n'
    path.write_text(toml, encoding="utf-8")
    rules = CategoryRules.from_config(path=path)
    assert rules.categorize("Partner at Northwind").category == "vc"
    assert rules.categorize("crypto whale 🐳").category == "investor"
    assert rules.categorize("whales are cool").category == "other"


def test_json_file_top_level_mapping(tmp_path):
    path = tmp_path / "categories.json"
    path.write_text(json.dumps({"media": ["substack author"], "developer": "re:k8s\\s+wrangler"}), encoding="utf-8")
    rules = CategoryRules.from_config(path=str(path))
    assert rules.categorize("Substack author, cat person").category == "media"
    assert rules.categorize("K8s wrangler").category == "developer"


def test_file_and_mapping_combine(tmp_path):
    path = tmp_path / "extra.json"
    path.write_text(json.dumps({"media": ["substack author"]}), encoding="utf-8")
    rules = CategoryRules.from_config({"founder": ["maker of things"]}, path=path)
    assert rules.categorize("Substack author").category == "media"
    assert rules.categorize("maker of things").category == "founder"


def test_raw_regex_rule_is_case_insensitive_and_reports_its_rule():
    rules = CategoryRules.from_config({"vc": [r"re:Seed\s+Fund\s+(?:I|II|III)"]})
    result = rules.categorize("Running Acme SEED FUND II from Lisbon")
    assert (result.category, result.rule) == ("vc", r"re:Seed\s+Fund\s+(?:I|II|III)")


def test_raw_regex_with_its_own_capture_group():
    rules = CategoryRules.from_config({"developer": [r"re:(kernel|compiler)\s+hacker"]})
    assert rules.categorize("compiler hacker").category == "developer"
    assert rules.categorize("compiler hacker, VC").category == "vc"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"vcs": ["x"], "devs": ["y"]}, "unknown categories vcs, devs"),
        ({"whales": ["x"]}, "unknown category whales"),
        ({"other": ["x"]}, "fallback"),
        ({"vc": [""]}, "non-empty strings"),
        ({"vc": [3]}, "non-empty strings"),
        ({"vc": 3}, "list of phrases"),
        ({"vc": ["re:("]}, "invalid vc rule"),
        ({"vc": ["re:x*"]}, "matches the empty string"),
        ({"vc": ["re:(?P<vc>x)"]}, "named groups"),
        ({"vc": [r"re:(a)\1"]}, "backreferences"),
    ],
)
def test_bad_config_is_an_error(extra, message):
    with pytest.raises(ValueError, match=message):
        CategoryRules.from_config(extra)


def test_unknown_category_in_a_file_is_an_error(tmp_path):
    path = tmp_path / "categories.toml"
    path.write_text('vc = ["x"]\nwhale = ["y"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown category whale"):
        CategoryRules.from_config(path=path)


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "categories.yaml"
    path.write_text("vc: [x]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=".toml or .json"):
        CategoryRules.from_config(path=path)


def test_a_table_with_no_rules_says_other():
    assert CategoryRules({}).categorize("Founder, VC, developer").category == "other"


# --- agreement with the simulator ------------------------------------------------------------------------------


def test_simulator_bios_read_as_their_category():
    names = pytest.importorskip("socap.simulator.names")
    for category, templates in names.BIOS.items():
        for template in templates:
            for i in range(24):
                bio = template.format(
                    domain=names.DOMAINS[i % len(names.DOMAINS)],
                    fund=names.FUNDS[i % len(names.FUNDS)],
                    company=names.COMPANIES[i % len(names.COMPANIES)],
                    outlet=names.OUTLETS[i % len(names.OUTLETS)],
                )
                assert categorize(bio).category == category, bio


# --- robustness and speed --------------------------------------------------------------------------------------

WORDS = [
    "founder", "ex-", "former", "now", "vc", "VCs", "angel", "investor", "@a16z", "partner", "@", "#", "dev",
    "press", "play", "covering", "turned", ",", "|", ".", "🚀", "創業者", "エンジニア", "news", "hacker",
    "https://acme.vc", "jane@acme.io", "-", "—", "\n", "Gründer", "ＦＯＵＮＤＥＲ", "𝗩𝗖", "İ", "ß",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.text(max_size=60))
def test_never_raises_on_arbitrary_text(bio, name):
    result = categorize(bio, name)
    assert result.category in CATEGORIES
    if result.category == "other":
        assert result.matched is None
    else:
        assert result.field in ("bio", "name")
        assert result.matched and result.matched in normalise(bio if result.field == "bio" else name)
        assert result.rule in default_rules().rules[result.category]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=30).map(" ".join), st.lists(st.sampled_from(WORDS)).map("".join))
def test_never_raises_on_role_word_soup(bio, name):
    result = categorize(bio, name)
    assert result.category in CATEGORIES
    assert result.category == "other" or result.rule in default_rules().rules[result.category]


# --- the bucketed scan (texts without CJK) must read exactly as the one-group-per-category scan ----------------
_RULE_WORDS = sorted({w for phrases in RULES.values() for p in phrases if not p.startswith("re:") for w in p.split()})
_GLUE = ["", " ", " ", ", ", " | ", "-", "#", "@", ". ", " now ", " ex-", " former ", " about ", " turned ",
         " at @", " partner at ", " of the ", "\n", " 🚀 ", "/"]
_WORDS = _RULE_WORDS + ["acme", "capital", "ventures", "coffee", "dad", "builder", "devoted", "pressure", "angel",
                        "vcs", "founders", "a16z", "sequoia", "x.com", "https://t.co/x", "Dev", "Ángel", "ＶＣ"]
_PIECES = st.lists(st.one_of(st.sampled_from(_WORDS), st.sampled_from(_GLUE)), max_size=14).map("".join)


def _slow_twin(rules: CategoryRules) -> CategoryRules:
    twin = CategoryRules(rules.rules)
    twin._fast = None  # the one-group-per-category scan only
    return twin


_BUILTIN = default_rules()
_BUILTIN_SLOW = _slow_twin(_BUILTIN)


def test_the_builtin_rules_use_the_bucketed_scan():
    assert _BUILTIN._fast is not None  # every built-in rule starts with a plain letter or digit


@settings(max_examples=400, deadline=None, derandomize=True)
@given(bio=_PIECES, name=_PIECES)
def test_bucketed_scan_reads_as_the_plain_scan(bio, name):
    assert _BUILTIN.categorize(bio, name) == _BUILTIN_SLOW.categorize(bio, name)


@pytest.mark.parametrize("phrase", [r"re:(?:seed|pre-seed)\s+investor", r"re:\w+\s+ventures\s+scout", "re:a|b2b vc",
                                    r"re:x?angel\s+lp"])
def test_a_rule_without_a_plain_first_letter_keeps_the_plain_scan(phrase):
    rules = CategoryRules.from_config({"investor": [phrase]})
    assert rules._fast is None
    for text in ("seed investor", "acme ventures scout", "b2b vc", "xangel lp", "angel lp", "a"):
        assert rules.categorize(text) == _slow_twin(rules).categorize(text)
