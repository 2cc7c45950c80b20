"""The faster ways categorize reads a text (the bucketed Latin scan, stopping early, the merged scan for texts
with Chinese or Japanese) say exactly what the plain one-group-per-category scan says."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socap.importance.categories import RULES, CategoryRules, default_rules


def _plain_twin(rules: CategoryRules) -> CategoryRules:
    twin = CategoryRules(rules.rules)
    twin._fast = None  # the one-group-per-category scan only, read to the end
    return twin


def _read(rules: CategoryRules, bio: str, name: str = "") -> tuple:
    found = rules.categorize(bio, name)
    return found.category, found.matched, found.field, found.rule, found.evidence


_BUILTIN = default_rules()
_BUILTIN_PLAIN = _plain_twin(_BUILTIN)
# "angel" goes into the group of "angel-investor", ahead of the regex rules listed before it: the plain scan
# tries the investor rules starting with "a" in another order than they are listed (and than the bucketed
# scan, which reads texts without Chinese or Japanese, so only texts with some are compared here).
# "re:創業者?" is a Latin rule starting with a Chinese character, like the founder rule "創業者".
_EXTENDED = CategoryRules.from_config({"investor": ["angel", "re:創業者?"], "developer": ["c++"]})
_EXTENDED_PLAIN = _plain_twin(_EXTENDED)

_CJK_WORDS = sorted({p for phrases in RULES.values() for p in phrases if ord(p[0]) > 0x3000})
_LATIN_WORDS = ["vc", "founder", "angel", "investing", "investor", "engineer", "dev", "host", "of", "the", "podcast",
                "partner", "at", "sequoia", "ex", "former", "writing", "about", "now", "turned", "c++", "#press",
                "coffee", "Dev", "news"]
_GLUE = ["", " ", ", ", " | ", "-", "@", ". ", "。", "、", "の", "東京", "\n", " 🚀 "]
_MIXED = st.lists(st.one_of(st.sampled_from(_CJK_WORDS), st.sampled_from(_LATIN_WORDS), st.sampled_from(_GLUE)),
                  max_size=12).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(bio=_MIXED, name=_MIXED)
def test_texts_with_chinese_or_japanese_read_as_the_plain_scan(bio, name):
    assert _read(_BUILTIN, bio, name) == _read(_BUILTIN_PLAIN, bio, name)
    bio, name = bio + "東京", "東京" + name
    assert _read(_EXTENDED, bio, name) == _read(_EXTENDED_PLAIN, bio, name)


@pytest.mark.parametrize(("bio", "name", "expected"), [
    # a VC inside a phrase the scan takes as a whole is not read again, although a VC rule matches there
    ("Engineer. Host of the VC podcast", "", ("media", "host of the vc podcast", "bio")),
    # the name is read when it can beat the bio, and not when it cannot
    ("Angel investor", "Jane Doe | VC", ("vc", "vc", "name")),
    ("VC", "Angel investor", ("vc", "vc", "bio")),
    ("developer, founder, investor", "VC Angel", ("investor", "investor", "bio")),
    # a later, better match after a kept one; several of the same after it
    ("investor; general partner @ acme ventures", "", ("vc", "general partner", "bio")),
    ("Builder. Investor. Coffee. " * 3, "Bench User 7", ("investor", "investor", "bio")),
    # markers: an earlier one broken off, a later one governing; past role then a present one
    ("ex-dev | former founder", "", ("other", None, None)),
    ("ex-Google. Writing about VC", "", ("other", None, None)),
    ("Former VC, now angel investing in founders", "", ("investor", "angel investing", "bio")),
    # Latin and Chinese or Japanese matches in one text
    ("東京のスタートアップ創業者。angel investor", "", ("investor", "angel investor", "bio")),
    ("創業者 turned VC", "", ("vc", "vc", "bio")),
    # a rule match ending in a non-word character, followed by another at once
    ("c++ dev", "", ("developer", "dev", "bio")),
    ("", "Dev Patel, dev", ("developer", "dev", "name")),
])
def test_edge_cases_read_as_the_plain_scan(bio, name, expected):
    assert _read(_BUILTIN, bio, name)[:3] == expected
    assert _read(_BUILTIN, bio, name) == _read(_BUILTIN_PLAIN, bio, name)


@pytest.mark.parametrize("bio", ["angel investing 東京", "東京 angel investing", "創業者", "東京の創業者",
                                 "東京 c++ c++ dev", "c++ c++ 東京", "創業者 angel"])
def test_an_extended_table_reads_as_the_plain_scan(bio):
    assert _read(_EXTENDED, bio) == _read(_EXTENDED_PLAIN, bio)
