"""The slice of X's search query language SOCAP uses.

Supported: ``conversation_id:ID``, ``in_reply_to_tweet_id:ID``, ``quotes_of_tweet_id:ID``, ``from:NAME``,
``is:retweet|reply|quote``, negation with ``-``, implicit AND, ``OR`` and parentheses. At least one of the
first three operators must appear un-negated: they are how the simulator finds candidate posts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from socap.simulator.world import Tweet, World

INDEXED = ("conversation_id", "in_reply_to_tweet_id", "quotes_of_tweet_id")
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


@dataclass
class Clause:
    op: str
    value: str
    negated: bool = False


@dataclass
class Node:
    kind: str  # and | or
    children: list[Node | Clause]


class QueryError(ValueError):
    pass


def parse(query: str) -> Node | Clause:
    tokens = _TOKEN.findall(query)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def or_expr() -> Node | Clause:
        parts = [and_expr()]
        while peek() == "OR":
            take()
            parts.append(and_expr())
        return parts[0] if len(parts) == 1 else Node("or", parts)

    def and_expr() -> Node | Clause:
        parts = []
        while peek() not in (None, ")", "OR"):
            parts.append(atom())
        if not parts:
            raise QueryError(f"empty expression at position {pos} of {query!r}")
        return parts[0] if len(parts) == 1 else Node("and", parts)

    def atom() -> Node | Clause:
        token = take()
        if token == "(":
            inner = or_expr()
            if peek() != ")":
                raise QueryError(f"missing ')' in {query!r}")
            take()
            return inner
        negated = token.startswith("-")
        op, sep, value = token.lstrip("-").partition(":")
        if not sep or not value:
            raise QueryError(f"unsupported term {token!r} (the simulator supports operator:value terms)")
        if op in INDEXED and not value.isdigit():
            raise QueryError(f"{op} needs a numeric post id, got {value!r}")
        if op == "is" and value not in ("retweet", "reply", "quote"):
            raise QueryError(f"unsupported is:{value}")
        if op not in (*INDEXED, "from", "is"):
            raise QueryError(f"unsupported operator {op!r}")
        return Clause(op, value, negated)

    tree = or_expr()
    if pos != len(tokens):
        raise QueryError(f"unexpected {tokens[pos]!r} in {query!r}")
    return tree


def indexed_clauses(tree: Node | Clause) -> list[Clause]:
    if isinstance(tree, Clause):
        return [tree] if tree.op in INDEXED and not tree.negated else []
    return [c for child in tree.children for c in indexed_clauses(child)]


def matches(tree: Node | Clause, tweet: Tweet, world: World) -> bool:
    if isinstance(tree, Node):
        results = (matches(child, tweet, world) for child in tree.children)
        return all(results) if tree.kind == "and" else any(results)
    if tree.op == "conversation_id":
        hit = (tweet.conversation_id or tweet.id) == tree.value
    elif tree.op == "in_reply_to_tweet_id":
        hit = tweet.kind == "reply" and tweet.target_id == tree.value
    elif tree.op == "quotes_of_tweet_id":
        hit = tweet.kind == "quote" and tweet.target_id == tree.value
    elif tree.op == "from":
        hit = world.accounts[tweet.author_id].username.lower() == tree.value.lstrip("@").lower()
    else:
        hit = tweet.kind == tree.value
    return hit != tree.negated
