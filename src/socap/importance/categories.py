"""Account categories from a bio and a display name (DESIGN §6).

A seed's own category always wins (:func:`effective_category`). Every other account is labelled by the rules in
:data:`RULES` below: of the categories whose rules match the bio or the display name, the first in the
precedence order of :data:`CATEGORIES` wins (vc > investor > founder > media > developer), and "other" is the
fallback. The match is kept as evidence, from the bio when both fields have it ("Jane Doe | VC" in the
name is enough).

How a rule matches
------------------
* Text is NFKC-normalised and lower-cased first, so "𝗙𝗼𝘂𝗻𝗱𝗲𝗿", "ＦＯＵＮＤＥＲ" and "FOUNDER" all read "founder".
  Links, e-mail addresses and bare domains ("acme.vc", "dev.to", "https://…") are removed: they are
  addresses, not self-descriptions.
* A plain phrase is matched as whole words with a Unicode-aware boundary: it may not be glued to a letter,
  digit or underscore on either side ("dev" is not in "devoted", "device", "Devon"; "press" is not in
  "WordPress", "pressure", "espresso"; "angel" is not in "Los Angeles" or "angelic"). Spaces in a phrase
  match any run of whitespace; a hyphen matches a hyphen, a space or nothing ("co-founder" also matches
  "cofounder" and "co founder", "full-stack" also "fullstack"). Scripts written without spaces (Chinese,
  Japanese) need no boundary: "共同創業者" contains "創業者".
* A phrase starting with ``re:`` is a regular expression (case-insensitive, applied to the normalised text),
  wrapped in the same word boundaries.
* Hashtags count: "#founder" is a founder, "#vc" a VC (the "#" is not part of the word). A hashtag glued to
  more letters does not ("#devlife" is not "dev").
* @mentions never count: "@devrel", "@founder" or "@jane_vc" name *another* account, not a role. The only
  exception is deliberate: "Partner @a16z" / "GP @acmeventures" name the fund the person works at.
* Role words count in the singular only: "VC", not "VCs"; "founder", not "founders"; "developer", not
  "developers". Plurals nearly always describe an audience ("helping founders pitch VCs", "tools for
  developers"). A possessive still counts ("VC's").
* "VC-backed", "VC funded", "VC money" describe a company's funding, not a VC. "Investor relations" is a
  corporate job, not an investor.
* A bare "angel" does not count: it is a given name ("Angel Ramírez"), a team ("Angels fan") or a word
  ("guardian angel"). Investing needs context: "angel investor", "angel investing", "business angel",
  "angel in @acme".
* A bare "press" does not count either ("press play", "bench press", "French press", "press releases");
  press phrases do ("the press", "tech press", "press officer", "#press"). Neither does a bare "podcast" ("press
  play on our new podcast" is other); a podcast host or podcaster is media.
* Past roles do not count. A match is discarded when a past marker (ex, former, formerly, previously, prev,
  retired, recovering, past, ehemalig…, ancien…, antiguo…) appears before it in the same clause, or when it
  is followed by "turned" ("journalist turned founder"). A clause ends at punctuation (, ; | . ! ?),
  brackets, a line break, an emoji, an arrow, a spaced dash, or "now"/"currently"/"today"/"turned". So
  "ex-founder now investor" is an investor, "Former VC" and "formerly partner at Sequoia" are not VCs, and
  "Former founder & CEO of Acme" is other. The marker covers the rest of its clause, so "ex-Google engineer"
  is not (currently) a developer either.
* Topics are not roles: a match preceded in the same clause by "about" or "on", or (across commas, since
  topics come in lists) by "covering", "writing about", "reporting on", "interviewing", "thoughts on",
  "interested in"…, is what the person talks about: "tech reporter covering startups, venture capital and AI"
  is media, "hot takes on VC" is other.
* In the display name, a lone first word is a given name, not a role: "Dev Patel" and "Angel Ruiz" are
  other, "Jane Doe | VC" and "Angel Investor Sam" are not.
* Text is read left to right; at each word the highest-precedence phrase starting there is taken, and the
  words it covers are not read again: "host of the VC podcast" is one media phrase, not a VC.
* Negations ("not a VC", "never a founder") are out of scope: "not a VC" is a VC.
* The multilingual phrases (Spanish, Portuguese, French, German, Italian, a few Chinese and Japanese) are a
  modest, non-exhaustive list. Extend it through configuration.

Extending the rules
-------------------
:meth:`CategoryRules.from_config` adds phrases from a mapping and/or a TOML or JSON file, category → list of
phrases (a top-level ``categories`` table is also accepted), in the same syntax as :data:`RULES`::

    # categories.toml ('single quotes' keep regex backslashes as they are)
    [categories]
    vc = ['re:partner\\s+at\\s+northwind']
    developer = ["kernel hacker", "k8s wrangler"]

Added phrases are tried after the built-in ones of the same category; precedence between categories does
not change. Unknown category names are an error, and so is "other" (it is the fallback and takes no rules).
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

CATEGORIES = ("vc", "investor", "founder", "media", "developer", "other")
"""Every category, in precedence order; "other" is the fallback."""

FALLBACK = "other"

# ---------------------------------------------------------------------------------------------------------------
# The rule table. Everything the classifier knows is in this block.
# ---------------------------------------------------------------------------------------------------------------

# Funds a "partner at …" works for. Spaces are optional so handles match too ("@foundersfund").
KNOWN_FUNDS = (
    "a16z", "andreessen horowitz", "sequoia", "accel", "benchmark", "greylock", "index ventures", "lightspeed",
    "kleiner perkins", "founders fund", "first round", "general catalyst", "insight partners", "tiger global",
    "khosla", "bessemer", "union square ventures", "usv", "y combinator", "yc", "gv", "nea", "redpoint",
    "felicis", "ivp", "spark capital", "craft ventures", "initialized", "lux capital", "8vc", "thrive capital",
    "coatue", "softbank", "balderton", "atomico", "northzone", "lakestar", "point nine", "earlybird",
    "creandum", "localglobe", "seedcamp", "speedinvest", "techstars", "500 global", "paradigm", "matrix partners",
    "battery ventures", "menlo ventures", "mayfield", "madrona",
)
_KNOWN_FUND = "|".join(r"\s*".join(map(re.escape, fund.split())) for fund in KNOWN_FUNDS)
# a fund: a known one (or its handle), a name glued to Ventures/Capital/VC/Fund ("@acmevc"), or
# "<up to 3 words> Ventures/Capital/VC/Fund"
_FUND = (
    rf"(?:@?(?:{_KNOWN_FUND})(?!\w)|@?\w+(?:vc|ventures|capital|fund)(?!\w)"
    r"|(?:[\w&'.-]+\s+){1,3}(?:ventures|capital|vc|fund)(?!\w))"
)
# the jobs at a fund that make someone a VC (a plain "investor at X Ventures" stays an investor), and the
# words between job and fund: "Partner @ a16z", "Principal at Acme Ventures", "GP, Acme Capital"
FUND_ROLES = ("partner", "principal", "associate", "gp", "md", r"managing\s+director")
_AT = r"\s*(?:@|at\b|,|of\b|[-–—|])\s*(?:the\s+)?"

# fmt: off
RULES: dict[str, tuple[str, ...]] = {
    "vc": (
        r"re:vc(?![-\s]*(?:backed|funded|funding|money|dollars))",
        "venture capitalist",
        "venture capital",
        "venture partner",
        "general partner",
        *(f"re:{role}{_AT}{_FUND}" for role in FUND_ROLES),
        # es / pt / fr / de / zh / ja
        "capitalista de riesgo", "capital de riesgo", "capital riesgo", "capital de risco", "capital-risque",
        r"re:risikokapital(?:geber(?:in)?|ist(?:in)?)?", "风险投资人", "ベンチャーキャピタリスト",
    ),
    "investor": (
        "angel-investor",
        r"re:angel[-\s]*invest(?:ing|ments?|ed|s)",
        "business angel",
        "super angel",
        r"re:angel\s+(?:in|at|to)\s+@\w+",
        r"re:investor(?![-\s]+(?:relations|updates?|decks?|memos?))",
        "limited partner",
        r"re:lp\s*(?:@|(?:at|in)\s+@)\s*\w+",
        r"re:lp\s+in\s+(?:\w+\s+){0,2}(?:funds?|ventures|capital|vc)(?!\w)",
        r"re:backing\s+(?:the\s+(?:best\s+)?)?(?:founders|startups|builders|companies|teams|entrepreneurs|@\w+)",
        r"re:invest(?:s|ing|ed)?\s+in\s+(?:early|pre-?seed|seed|founders|startups|companies|teams|@\w+)",
        "family office",
        "syndicate lead",
        r"re:scout\s*(?:@|at\s+|for\s+)@?\w+",
        "check writer", "cheque writer",
        # es / pt / fr / it / de / zh / ja
        "inversor", "inversora", "inversionista", "investidor", "investidora", "investisseur", "investisseuse",
        "investitore", "investitrice", "investorin", "投资人", "投資家",
    ),
    "founder": (
        "co-founder",
        "founder",
        r"re:ceo(?<!the\sceo)\s*(?:of\s|at\s|@)\s*@?\w+",  # not "chief of staff to the CEO @ Acme"
        "chief executive officer",
        r"re:building\s+@\w+",
        "serial entrepreneur",
        "entrepreneur",
        "solopreneur",
        "indie hacker",
        "bootstrapper",
        # es / pt / fr / it / de / zh / ja
        "co-fundador", "co-fundadora", "fundador", "fundadora", "co-fondateur", "co-fondatrice", "fondateur",
        "fondatrice", "fondatore", "gründer", "gründerin", "mitgründer", "mitgründerin", "co-gründer",
        "co-gründerin", "emprendedor", "emprendedora", "empreendedor", "empreendedora", "entrepreneuse",
        "unternehmer", "unternehmerin", "创始人", "創始人", "創辦人", "創業者", "起業家",
    ),
    "media": (
        "journalist",
        "tech reporter",
        "reporter",
        r"re:editor(?<!code\seditor)(?<!text\seditor)(?<!video\seditor)(?<!photo\seditor)(?<!film\seditor)",
        r"re:writer\s*(?:at\s|for\s|@)\s*@?\w+",
        "staff writer", "contributing writer",
        "columnist",
        "correspondent",
        "newsletter",
        "podcast host", "podcast co-host", "podcaster",
        r"re:host\s+(?:of|@|at)\s+[^|;\n]{0,40}?pod(?:cast)?(?!\w)",
        r"re:co-?host\s+(?:of|@|at)\s+[^|;\n]{0,40}?pod(?:cast)?(?!\w)",
        "radio host", "tv host", "broadcaster", "newsroom",
        "the press", "tech press", "press officer", "press secretary", "press corps",
        r"re:press(?<=#press)",
        r"re:news(?<!hacker\snews)(?<!fake\snews)(?<!good\snews)(?<!bad\snews)(?<!no\snews)(?!\s+(?:junkie|addict))",
        # es / pt / fr / it / de / zh / ja
        "periodista", "reportero", "reportera", "redactor", "redactora", "jornalista", "repórter", "redator",
        "redatora", "journaliste", "rédacteur", "rédactrice", "giornalista", "journalistin", "redakteur",
        "redakteurin", "记者", "記者", "ジャーナリスト",
    ),
    "developer": (
        "developer",
        "dev",
        "devops", "devsecops", "devrel", "dev rel", "gamedev", "webdev", "indiedev",
        "engineer",
        "engineering",
        r"re:software(?!\s+(?:sales|company|companies))",
        "web development", "app development", "software development", "game development", "mobile development",
        "programmer",
        "coder",
        "write code", "writes code", "writing code",
        "full-stack", "front-end", "back-end",
        "open-source", "oss",
        "swe", "sde", "sre", "cto", "sysadmin",
        "maintainer",
        "data scientist",
        "rustacean", "pythonista",
        # es / pt / fr / it / de / zh / ja
        "desarrollador", "desarrolladora", "desenvolvedor", "desenvolvedora", "développeur", "développeuse",
        "sviluppatore", "sviluppatrice", "programador", "programadora", "programmeur", "programmeuse",
        "entwickler", "entwicklerin", "softwareentwickler", "softwareentwicklerin",
        "webentwickler", "webentwicklerin", "ingeniero", "ingeniera", "engenheiro", "engenheira", "ingénieur",
        "ingénieure", "ingegnere", "ingenieur", "ingenieurin", "エンジニア", "プログラマー", "开发者", "開発者",
        "程序员", "工程师", "工程師",
    ),
}

# Before a match in the same clause, these make it a past role or a topic (see the module docstring).
PAST_MARKERS = (
    "ex", "former", "formerly", "previously", "prev", "retired", "recovering", "past", "ehemalig", "ehemalige",
    "ehemaliger", "ehemaliges", "ancien", "ancienne", "antiguo", "antigua",
)
# Topic markers reach across commas ("covering startups, VC and AI"); the short ones stop at a comma.
TOPIC_MARKERS = (
    "covering", "covers", "interviewing", "interviews", "interested in", "obsessed with", "writing about",
    "writes about", "write about", "reporting on", "reports on", "talking about", "thoughts on", "takes on",
)
SHORT_TOPIC_MARKERS = ("about", "on")
# After a match, this makes it a past role.
TURNED = "turned"
# fmt: on

# ---------------------------------------------------------------------------------------------------------------
# Matching machinery
# ---------------------------------------------------------------------------------------------------------------

# Not glued to a letter, digit or underscore, nor to an @ (handles are not roles).
_LEFT = r"(?<![\w@])"
_RIGHT = r"(?!\w)"
# Chinese and Japanese are written without spaces: phrases in these scripts match anywhere.
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_START = re.compile(rf"[{_CJK}]")
_CJK_GROUP = "__cjk"
_HYPHEN = r"[-‐‑–\s]?"
_EMOJI = r"\u2190-\u21ff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
_NOW = r"(?<!\w)(?:now|currently|today|nowadays|turned|ahora|actualmente|maintenant|jetzt|agora)(?!\w)"
_STRONG_BREAK = rf"[|;!?\n\r{_EMOJI}]|\.(?=\s|$)|{_NOW}"
_CLAUSE_BREAK = re.compile(rf"{_STRONG_BREAK}|[,()\[\]{{}}<>•·]|\s[-–—]+\s")
_TOPIC_BREAK = re.compile(_STRONG_BREAK)
_TOPIC = re.compile(r"(?<!\w)(?:" + "|".join(r"\s+".join(m.split()) for m in TOPIC_MARKERS) + r")(?!\w)")
# Past markers and short topic markers both end at a clause break, and each marker is one whole word, so one
# scan finds what a scan for each would find.
_PAST_OR_SHORT_TOPIC = re.compile(
    r"(?<!\w)(?:" + "|".join([*map(re.escape, PAST_MARKERS), *SHORT_TOPIC_MARKERS]) + r")(?!\w)"
)
_TURNED = re.compile(rf"[\s\-–—]*{TURNED}(?!\w)")
# "Is there any marker before the match at all?" (usually not): one regex that matches iff a past, short
# topic or topic marker does, arranged like the bucketed scan (each marker starts with its first letter and
# checks the left boundary after it): the engine jumps straight to those letters.
_MARKER_WORDS: dict[str, list[str]] = {}  # first letter → the rest of each marker starting with it
for _marker in [*map(re.escape, PAST_MARKERS), *SHORT_TOPIC_MARKERS, *(r"\s+".join(m.split()) for m in TOPIC_MARKERS)]:
    _MARKER_WORDS.setdefault(_marker[0], []).append(_marker[1:])
del _marker
_ANY_MARKER = re.compile("|".join(rf"{c}(?<!\w.)(?:{'|'.join(rests)})(?!\w)" for c, rests in _MARKER_WORDS.items()))
_FIRST_WORD = re.compile(r"\W*(\w+)")
_MAYBE_ADDRESS = re.compile(r"\.[a-z]")
_NOT_TEXT = re.compile(
    r"(?:https?://|www\.)\S+"  # links
    r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|(?<![\w@.-])[\w-]+(?:\.[\w-]+)*\.[a-z]{2,24}(?![\w.])(?:/\S*)?"  # bare domains: acme.vc, dev.to
)


def normalise(text: str | None) -> str:
    """The text rules see: NFKC, lower case, without links, e-mail addresses or domains."""
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    return _NOT_TEXT.sub(" ", text) if _MAYBE_ADDRESS.search(text) else text


def phrase_body(phrase: str) -> str:
    """The regular expression for one rule phrase (plain phrase or ``re:`` regex), without the boundaries."""
    if phrase.startswith("re:"):
        body = phrase[3:]
        # text is lower-cased already; a regex written with capitals is matched case-insensitively
        return body if body == body.lower() else f"(?i:{body})"
    words = [[re.escape(p) for p in word.split("-") if p] for word in phrase.lower().split()]
    return r"\s+".join(_HYPHEN.join(parts) for parts in words if parts)


def _is_cjk(phrase: str) -> bool:
    return not phrase.startswith("re:") and _CJK_START.match(phrase.strip()) is not None


def phrase_pattern(phrase: str) -> str:
    """The regular expression for one rule phrase, word boundaries included."""
    if _is_cjk(phrase):
        return f"(?:{phrase_body(phrase)})"
    return f"{_LEFT}(?:{phrase_body(phrase)}){_RIGHT}"


def _alternation(phrases: Iterable[str]) -> str:
    """Rule bodies joined with "|", plain phrases grouped by their first character (much faster to scan)."""
    items: list[tuple[str, str]] = []  # ("raw", body) or ("bucket", first character)
    buckets: dict[str, list[str]] = {}
    for phrase in phrases:
        body = phrase_body(phrase)
        first = re.escape(phrase.strip().lower()[:1])
        if phrase.startswith("re:") or first in ("", "\\-") or not body.startswith(first):
            items.append(("raw", body))
            continue
        if first not in buckets:
            buckets[first] = []
            items.append(("bucket", first))
        buckets[first].append(body[len(first) :])
    parts = []
    for kind, value in items:
        if kind == "raw":
            parts.append(value)
        else:
            rests = buckets[value]
            parts.append(value + (rests[0] if len(rests) == 1 else f"(?:{'|'.join(rests)})"))
    return "|".join(parts)


def _top_level_branch(body: str) -> bool:
    """Whether a regex has a "|" outside every group and character class (a choice of first characters)."""
    depth, in_class, escaped = 0, False, False
    for ch in body:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
    return False


def _first_char(body: str) -> str | None:
    """The character every match of ``body`` starts with, when the body spells it as a plain first letter or
    digit (so ``body[1:]`` matches the rest); None when that is not plainly so (escapes, groups, classes, a
    quantifier on it, a top-level "|")."""
    first = body[:1]
    if not first.isalnum() or body[1:2] in ("?", "*", "+", "{") or _top_level_branch(body):
        return None
    return first


# Letters in the order English words most often start with them.
_WORD_INITIALS = "taoswcibpfhmdrlenguvjkyqz"


class _Bucketed(NamedTuple):
    """The Latin-only scan, arranged by first character (see :func:`_bucketed_scan`)."""

    here: re.Pattern[str]  # here.match(text, pos): a match starting exactly at pos
    after: re.Pattern[str]  # after.search(text, pos): the leftmost match starting after pos, at m.start() + 1
    # first character → rule finder, its groups' (category, phrase), and the best rank among those categories
    which: dict[str, tuple[re.Pattern[str], dict[str, tuple[str, str]], int]]


def _bucketed_scan(rules: list[tuple[str, str, str]]) -> _Bucketed | None:
    """The Latin scanning regex rearranged by first character, or None if some rule's first character is not
    plain (then the one-group-per-category regex is used).

    ``rules`` is [(category, phrase, rule body)] in precedence order. Together, ``here`` and ``after`` match
    exactly where ``_LEFT(?:(?P<cat>bodies)|…)_RIGHT`` matches, with the same precedence:

    * ``here`` starts with the first character itself and checks the left boundary after it
      (``c(?<![\\w@].)``); a search with it jumps straight to positions holding a possible first character,
      and tries only the rules starting with it, instead of every rule at every position;
    * ``after`` begins with the character before the rule, which must not be a letter, digit, underscore or
      @: a search with it jumps straight to such characters (spaces, punctuation: about one per word, where
      ``here`` stops at most letters). Bios are read for every new engager, so this is the ingest's hottest
      loop.

    Neither has groups of its own (a match object costs time per group): ``which[c]`` names the rule and
    category of a match starting with ``c``. Matched at the match's start, it tries the same rules in the
    same order, so its first match is the scan's; each rule has an empty group at its end, ``r<n>``, which is
    the last group to close, so ``m.lastgroup`` names the rule, and the mapping gives its (category, phrase).
    With them comes the best rank among those categories: a match no better than that need not be named.
    """
    buckets: dict[str, list[tuple[str, str, str]]] = {}  # first character → (category, phrase, rest), in order
    for category, phrase, body in rules:
        first = _first_char(body)
        if first is None:
            return None
        buckets.setdefault(first, []).append((category, phrase, body[1:]))
    # No two buckets start with the same character, so their order does not matter; the engine tries them in
    # turn, so the letters words most often start with go first.
    firsts = sorted(buckets, key=lambda c: _WORD_INITIALS.find(c) % (len(_WORD_INITIALS) + 1))
    alternatives = [(re.escape(c), "|".join(f"(?:{rest})" for _, _, rest in buckets[c])) for c in firsts]
    here = "|".join(f"{first}(?<![\\w@].)(?:{rests}){_RIGHT}" for first, rests in alternatives)
    # the lookahead turns down most places (a second separator, a word no rule starts like) in one step
    after = (
        rf"[^\w@](?=[{''.join(first for first, _ in alternatives)}])(?:"
        + "|".join(f"{first}(?:{rests}){_RIGHT}" for first, rests in alternatives)
        + ")"
    )
    which = {}
    for c, bucket in buckets.items():
        names = {f"r{i}": (category, phrase) for i, (category, phrase, _) in enumerate(bucket)}
        # the group is empty and at the end: every alternative still starts with its literal first character
        # (the engine skips an alternative on that alone)
        rests = "|".join(f"(?:{rest})(?P<r{i}>)" for i, (_, _, rest) in enumerate(bucket))
        top = min(CATEGORIES.index(category) for category, _, _ in bucket)
        which[c] = (re.compile(f"{re.escape(c)}(?:{rests}){_RIGHT}"), names, top)
    return _Bucketed(re.compile(here), re.compile(after), which)


def _tried_order(phrases: list[str]) -> list[str]:
    """The phrases in the order :func:`_alternation` tries them: a plain phrase goes into the group of the
    first plain phrase with its first character, ahead of any ``re:`` rule listed between them."""
    items: list[list[str]] = []
    buckets: dict[str, list[str]] = {}
    for phrase in phrases:  # the same grouping as _alternation's
        body = phrase_body(phrase)
        first = re.escape(phrase.strip().lower()[:1])
        if phrase.startswith("re:") or first in ("", "\\-") or not body.startswith(first):
            items.append([phrase])
            continue
        if first not in buckets:
            buckets[first] = []
            items.append(buckets[first])
        buckets[first].append(phrase)
    return [phrase for item in items for phrase in item]


def _cjk_scan(
    rules: list[tuple[str, str, str]],
) -> tuple[re.Pattern[str], dict[str, tuple[re.Pattern[str], dict[str, tuple[str, str]]]]] | None:
    """The Chinese and Japanese rules, (category, phrase, body) in precedence order, as one group-free regex
    arranged by first character (the plain scan's alternative for them, which needs no word boundaries),
    and per first character a finder whose ``lastgroup`` maps to the (category, phrase) of a match starting
    with it (the same rules in the same order). None if some rule's first character is not plain."""
    buckets: dict[str, list[tuple[str, str, str]]] = {}
    for category, phrase, body in rules:
        first = _first_char(body)
        if first is None:
            return None
        buckets.setdefault(first, []).append((category, phrase, body[1:]))
    scan = "|".join(
        f"{re.escape(c)}(?:{'|'.join(f'(?:{rest})' for _, _, rest in bucket)})" for c, bucket in buckets.items()
    )
    which = {
        c: (
            re.compile(f"{re.escape(c)}(?:{'|'.join(f'(?:{rest})(?P<r{i}>)' for i, (*_, rest) in enumerate(bucket))})"),
            {f"r{i}": (category, phrase) for i, (category, phrase, _) in enumerate(bucket)},
        )
        for c, bucket in buckets.items()
    }
    return re.compile(scan or "(?!)"), which


@dataclass(frozen=True, slots=True)
class Categorization:
    """A category with its evidence: the text that matched, the field it was in, and the rule."""

    category: str
    matched: str | None = None
    field: str | None = None  # "bio", "name" or "seed"; None for the fallback
    rule: str | None = None

    @property
    def evidence(self) -> str | None:
        """A short human-readable reason, e.g. 'bio: "angel investor"'."""
        if self.field == "seed":
            return "seed category"
        if self.matched is None:
            return None
        return f'{self.field}: "{self.matched}"'


_OTHER = Categorization(FALLBACK)  # immutable, so one instance serves every text nothing matches in

_new_object = object.__new__
_set_category, _set_matched, _set_field, _set_rule = (
    Categorization.category.__set__, Categorization.matched.__set__,  # type: ignore[attr-defined]
    Categorization.field.__set__, Categorization.rule.__set__,  # type: ignore[attr-defined]
)


def _categorization(category: str, matched: str, field: str, rule: str | None) -> Categorization:
    """``Categorization(category, matched, field, rule)``, filled in through its slots: the same object in
    half the time of the frozen dataclass's ``__init__`` (four ``object.__setattr__`` calls), and one is
    built for every text read."""
    found = _new_object(Categorization)
    _set_category(found, category)
    _set_matched(found, matched)
    _set_field(found, field)
    _set_rule(found, rule)
    return found


def _is_past_or_topic(text: str, start: int, end: int) -> bool:
    """Whether the match text[start:end] is a past role or a topic (see the module docstring)."""
    return _TURNED.match(text, end) is not None or (
        # one scan for "is there any marker before the match at all?" (usually not) before the exact ones
        _ANY_MARKER.search(text, 0, start) is not None
        and (
            _governed(_PAST_OR_SHORT_TOPIC, _CLAUSE_BREAK, text, start)
            or _governed(_TOPIC, _TOPIC_BREAK, text, start)
        )
    )


def _governed(marker: re.Pattern[str], breaks: re.Pattern[str], text: str, start: int) -> bool:
    """Whether a marker occurs before ``start`` with no clause break between it and ``start``.

    Only the last marker needs checking: a break after an earlier marker that is not also after the last one
    would have to start before the last marker's end, and then it is not between that marker and ``start``;
    so if any marker is unbroken, the last one is.
    """
    ends = [m.end() for m in marker.finditer(text, 0, start)]
    return bool(ends) and breaks.search(text, ends[-1], start) is None


class CategoryRules:
    """A compiled rule table.

    One scanning regex holds every rule, a named group per category in precedence order, so a single pass
    over a text reads it left to right: at each word it takes the highest-precedence rule matching there, and
    the words that match covers are not read again ("host of the VC podcast" is one media phrase, not a VC).
    The best category over the bio, then the name, wins. Per-category and per-rule regexes are only used to
    settle a discarded (past or topic) match and to name the rule.
    """

    def __init__(self, rules: Mapping[str, Iterable[str]] | None = None):
        table = RULES if rules is None else _validated(rules)
        self.rules: dict[str, tuple[str, ...]] = {c: tuple(table.get(c, ())) for c in CATEGORIES if c != FALLBACK}
        self._single: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        self._combined: dict[str, re.Pattern[str]] = {}
        self._which: dict[str, re.Pattern[str]] = {}
        groups, cjk_groups, latin_bodies, cjk_bodies = [], [], [], []
        latin_tried = []  # the Latin rules in the order the plain scan tries them
        for category, phrases in self.rules.items():
            singles = [(phrase, _compiled(category, phrase)) for phrase in phrases]
            if not singles:
                continue
            self._single[category] = singles
            self._combined[category] = re.compile("|".join(p.pattern for _, p in singles))
            # the same alternation with a group per rule: its first rule matching at a position, in one call
            self._which[category] = re.compile("|".join(f"(?P<r{i}>{p.pattern})" for i, (_, p) in enumerate(singles)))
            if latin := [p for p in phrases if not _is_cjk(p)]:
                groups.append(f"(?P<{category}>{_alternation(latin)})")
                latin_bodies += [(category, p, phrase_body(p)) for p in latin]
                latin_tried += [(category, p, phrase_body(p)) for p in _tried_order(latin)]
            if cjk := [p for p in phrases if _is_cjk(p)]:
                cjk_groups.append(f"(?P<{category}{_CJK_GROUP}>{_alternation(cjk)})")
                cjk_bodies += [(category, p, phrase_body(p)) for p in cjk]
        self._order = {c: i for i, c in enumerate(CATEGORIES)}
        self._lower = {c: [d for d in CATEGORIES[i + 1 : -1] if d in self._combined] for c, i in self._order.items()}
        # a match's category, then the lower ones that may match there instead if it is discarded, with ranks
        self._candidates = {c: tuple((d, self._order[d]) for d in (c, *self._lower[c])) for c in self._combined}
        scan = [f"{_LEFT}(?:{'|'.join(groups)}){_RIGHT}"] if groups else []
        scan += [f"(?=[{_CJK}])(?:{'|'.join(cjk_groups)})"] if cjk_groups else []
        self._scan = re.compile("|".join(scan)) if scan else None
        # texts without Chinese or Japanese (nearly all) are read by the faster, equivalent Latin-only scan
        self._fast = _bucketed_scan(latin_bodies) if latin_bodies else None
        self._latin = latin_bodies
        # texts with Chinese or Japanese: a Latin-only scan trying the rules in the plain scan's order, and one
        # for the Chinese and Japanese rules (which need no word boundaries), merged (built when first needed)
        self._mixed_rules = (latin_tried, cjk_bodies) if self._fast is not None else None
        self._mixed: tuple[_Bucketed, bool, re.Pattern[str], dict] | None = None
        # per rank, the Latin-only scan for the categories ranked above it (built when first needed)
        self._better: dict[int, re.Pattern[str] | None] = {}

    @classmethod
    def from_config(
        cls, extra: Mapping[str, Iterable[str] | str] | None = None, path: str | Path | None = None
    ) -> CategoryRules:
        """The built-in rules plus phrases from a TOML/JSON file and/or a mapping (category → phrases)."""
        merged = {c: list(RULES.get(c, ())) for c in CATEGORIES if c != FALLBACK}
        for source in (load_rules_file(path) if path is not None else None, extra):
            for category, phrases in _validated(source or {}).items():
                merged[category].extend(phrases)
        return cls(merged)

    def categorize(self, bio: str | None, name: str | None = "") -> Categorization:
        """The first category in precedence order whose rules match the bio, else the name; else "other"."""
        if self._scan is None:
            return _OTHER
        # the best match so far: its rank (lower is better; an earlier match of the same rank wins, and a bio
        # match beats a name match of the same rank) and (category, field, text, start, end, rule or None)
        best_rank = len(CATEGORIES)
        best: tuple[str, str, str, int, int, str | None] | None = None
        candidates_of = self._candidates
        for field, raw in (("bio", bio), ("name", name)):
            text = normalise(raw)
            if not text:
                continue
            # texts without Chinese or Japanese (nearly all) are read by the faster, equivalent Latin-only scan
            if fast := self._fast is not None and (text.isascii() or _CJK_START.search(text) is None):
                if best is not None and not self._can_beat(best_rank, text, 0):
                    continue  # nothing in the name can beat the bio's match
                here, after, which = self._fast
                pos = 0
            else:
                mixed = self._fast is not None and self._mixed_scans() is not None
                slow = self._mixed_matches(text) if mixed else self._matches(text)
            given = _FIRST_WORD.match(text) if field == "name" else None
            given = given.span(1) if given is not None else None
            while True:
                # the scan's next match: its category, start, end and (when known) rule
                if fast:
                    m = None
                    # a match starting right here needs a character before it that is not a letter, digit, _
                    # or @ (``here`` checks that too; nearly every match ends in a letter, so this saves a call)
                    if pos == 0 or not ((prev := text[pos - 1]).isalnum() or prev == "_" or prev == "@"):
                        m = here.match(text, pos)
                    if m is not None:
                        start = pos
                    else:
                        m = after.search(text, pos)
                        if m is None:
                            break
                        start = m.start() + 1
                    pos = stop = m.end()
                    finder, names, top = which[text[start]]
                    if top >= best_rank:
                        continue  # none of the rules starting with this letter can beat what we have
                    category, rule = names[finder.match(text, start).lastgroup]
                else:
                    found = next(slow, None)
                    if found is None:
                        break
                    category, start, stop, rule = found
                if given is not None and (start, stop) == given:
                    continue  # "Dev Patel", "Angel Ruiz": a lone first word of a display name is a given name
                end: int | None = stop
                for candidate, rank in candidates_of[category]:  # if discarded, a lower category may match here
                    if rank >= best_rank:
                        break  # cannot beat what we have (an earlier match of the same rank wins)
                    if candidate != category:
                        sub = self._combined[candidate].match(text, start)
                        end, rule = (sub.end() if sub else None), None
                    if end is not None and end > start and not _is_past_or_topic(text, start, end):
                        best_rank, best = rank, (candidate, field, text, start, end, rule)
                        break
                else:
                    continue
                if best_rank == 0 or (fast and not self._can_beat(best_rank, text, stop)):
                    break  # nothing further on in this text can beat it
            if best_rank == 0:
                break  # a VC in the bio: nothing can beat it
        if best is None:
            return _OTHER
        category, field, text, start, end, rule = best
        if rule is None:
            rule = self._rule_at(category, text, start, end)
        return _categorization(category, text[start:end], field, rule)

    def _matches(self, text: str) -> Iterator[tuple[str, int, int, None]]:
        """The plain scan's matches in ``text``, left to right: (category, start, end, None)."""
        for m in self._scan.finditer(text):
            group = m.lastgroup
            if group is None:  # defensive: the category groups are outermost, so lastgroup names one
                group = next(g for g, v in m.groupdict().items() if v is not None)
            # the boundaries around the category group are zero-width
            yield group.removesuffix(_CJK_GROUP), m.start(), m.end(), None

    def _mixed_scans(self) -> tuple[_Bucketed, bool, re.Pattern[str], dict] | None:
        """The scans :meth:`_mixed_matches` merges, or None if they cannot be built (then the plain scan)."""
        if self._mixed is None and self._mixed_rules is not None:
            latin_tried, cjk_bodies = self._mixed_rules
            self._mixed_rules = None
            same = [r[1] for r in latin_tried] == [r[1] for r in self._latin]
            latin = self._fast if same else _bucketed_scan(latin_tried)
            cjk = _cjk_scan(cjk_bodies)
            if latin is not None and cjk is not None:
                self._mixed = (latin, same, *cjk)
        return self._mixed

    def _mixed_matches(self, text: str) -> Iterator[tuple[str, int, int, str | None]]:
        """The plain scan's matches in a text with Chinese or Japanese, left to right: (category, start, end,
        rule or None). At each step the leftmost of the Latin-only scan's next match and the Chinese and
        Japanese scan's, the Latin one first at the same place (the plain scan tries the Latin rules first);
        both scans try the rules in the plain scan's order, so they find its matches.

        The rule is the one :meth:`_rule_at` names: of a Chinese or Japanese match, the first of its
        category's rules matching there (no Latin rule matches there, or the Latin match would have been
        taken); of a Latin match, the scan's rule if the Latin rules are tried in their own order and the
        match does not start with a Chinese or Japanese character (no Chinese or Japanese rule can match
        there then); otherwise None, and :meth:`_rule_at` will say.
        """
        (here, after, which), exact, cjk_scan, cjk_which = self._mixed
        pos, cjk, cjk_known = 0, None, False
        while True:
            m = None
            if pos == 0 or not ((prev := text[pos - 1]).isalnum() or prev == "_" or prev == "@"):
                m = here.match(text, pos)
            if m is not None:
                start = pos
            elif (m := after.search(text, pos)) is not None:
                start = m.start() + 1
            if not cjk_known or (cjk is not None and cjk.start() < pos):
                cjk, cjk_known = cjk_scan.search(text, pos), True  # a match is where it is, whatever pos was
            if m is not None and (cjk is None or start <= cjk.start()):
                pos = m.end()
                finder, names, _ = which[text[start]]
                category, rule = names[finder.match(text, start).lastgroup]
                yield category, start, pos, rule if exact and _CJK_START.match(text, start) is None else None
            elif cjk is not None:
                start, pos = cjk.start(), cjk.end()
                finder, names = cjk_which[text[start]]
                category, rule = names[finder.match(text, start).lastgroup]
                yield category, start, pos, rule
            else:
                return

    def _can_beat(self, rank: int, text: str, pos: int) -> bool:
        """Whether some rule of a category ranked above ``rank`` matches in a Latin-only text at or after
        ``pos``. If not, no match the scan finds there can beat one of that rank, and the rest of the text
        need not be read; if so, the scan goes on as usual (a match it takes may cover this one)."""
        scan = self._better.get(rank, False)
        if scan is False:
            wanted = CATEGORIES[:rank]
            rules = [r for r in self._latin if r[0] in wanted]
            # existence only: searching with ``here`` is quicker than ``after`` when few letters start a rule
            scan = self._better[rank] = _bucketed_scan(rules).here if rules else None
        return scan is not None and scan.search(text, pos) is not None

    def _rule_at(self, category: str, text: str, start: int, end: int) -> str | None:
        """The first of the category's rules that matches exactly text[start:end]."""
        singles = self._single[category]
        hit = self._which[category].match(text, start)
        if hit is None:  # no rule matches here at all
            return None
        first = int(hit.lastgroup[1:])  # the rules before this one do not match here at all
        if hit.end() == end:
            return singles[first][0]
        return next((r for r, p in singles[first + 1:] if (m := p.match(text, start)) and m.end() == end), None)


def _compiled(category: str, phrase: str) -> re.Pattern[str]:
    try:
        pattern = re.compile(phrase_pattern(phrase))
    except re.error as exc:
        raise ValueError(f"invalid {category} rule {phrase!r}: {exc}") from None
    if pattern.groupindex or re.search(r"\\[1-9]|\(\?P=|\(\?\(", phrase):
        raise ValueError(f"{category} rule {phrase!r}: named groups and backreferences are not supported")
    if pattern.fullmatch(""):
        raise ValueError(f"{category} rule {phrase!r} matches the empty string")
    return pattern


def load_rules_file(path: str | Path) -> dict[str, list[str]]:
    """Read extra phrases from a .toml or .json file: category → list of phrases (or under ``categories``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".toml":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    elif suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
    else:
        raise ValueError(f"category rules file must be .toml or .json: {path}")
    if isinstance(data, dict) and isinstance(data.get("categories"), dict):
        data = data["categories"]
    if not isinstance(data, dict):
        raise ValueError(f"category rules file must map category → list of phrases: {path}")
    return _validated(data)


def _validated(rules: Mapping[str, Iterable[str] | str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    unknown = []
    for key, phrases in rules.items():
        category = str(key).strip().lower()
        if category == FALLBACK:
            raise ValueError('"other" is the fallback category and takes no rules')
        if category not in CATEGORIES:
            unknown.append(str(key))
            continue
        if isinstance(phrases, str):
            phrases = [phrases]
        if not isinstance(phrases, Iterable):
            raise ValueError(f"{category} rules must be a list of phrases, not {phrases!r}")
        listed = list(phrases)
        if not all(isinstance(p, str) and p.strip() and p.strip() != "re:" for p in listed):
            raise ValueError(f"{category} rules must be non-empty strings: {listed!r}")
        out.setdefault(category, []).extend(p.strip() for p in listed)
    if unknown:
        known = ", ".join(CATEGORIES[:-1])
        raise ValueError(f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)} (known: {known})")
    return out


@cache
def default_rules() -> CategoryRules:
    """The built-in rules, compiled once."""
    return CategoryRules()


def categorize(bio: str | None, name: str | None = "") -> Categorization:
    """Categorize with the built-in rules."""
    return default_rules().categorize(bio, name)


def effective_categorization(
    seed_category: str | None, bio: str | None, name: str | None, rules: CategoryRules | None = None
) -> Categorization:
    """A seed's own category wins; otherwise the rules decide. An unknown seed category is a ValueError."""
    if seed_category is not None and seed_category.strip():
        category = seed_category.strip().lower()
        if category not in CATEGORIES:
            raise ValueError(f"unknown seed category {seed_category!r} (known: {', '.join(CATEGORIES)})")
        return Categorization(category, None, "seed", None)
    return (rules or default_rules()).categorize(bio, name)


def effective_category(
    seed_category: str | None, bio: str | None, name: str | None, rules: CategoryRules | None = None
) -> str:
    """The category to store for an account: its seed category if it is a seed, else the rules' verdict."""
    return effective_categorization(seed_category, bio, name, rules).category
