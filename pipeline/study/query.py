"""The search syntax of ``ivp search`` and the study page, read once into a :class:`Query`.

    spreadsheet export        both words (any order, any form: porter stems)
    "by hand"                 the phrase
    spread*                   a word starting with "spread"
    export OR report          either (OR binds the terms on each side of it)
    report -spreadsheet       "report" but not "spreadsheet" (also: NOT spreadsheet)
    role:interviewee          a field filter: role:, theme: (id or name), tag: (a highlight's kind or tag)

:func:`parse` turns the user's text into a :class:`Query` or raises :class:`QueryError` with one
line that says what is wrong; :meth:`Query.fts` writes the FTS5 expression from the parsed terms,
each a double-quoted run of ``\\w+`` tokens, so the user's text never reaches ``MATCH`` as syntax.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from ..interview import ROLES

FIELDS = ("role", "theme", "tag")
_TOKEN = re.compile(r'\s*(?:(?P<field>[A-Za-z]+):"(?P<fvalue>[^"]*)(?P<fclosed>"?)'
                    r'|(?P<minus>-?)"(?P<phrase>[^"]*)(?P<closed>"?)|(?P<bare>\S+))')
_WORD = re.compile(r"\w+", re.UNICODE)


class QueryError(ValueError):
    """A query that cannot be read; ``str()`` is the one line to show."""


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # lower case \w+ tokens: one word, or a phrase
    prefix: bool = False  # the last word is a prefix (``spread*``)

    def fts(self) -> str:
        return '"' + " ".join(self.words) + '"' + (" *" if self.prefix else "")

    def text(self) -> str:
        return " ".join(self.words) + ("*" if self.prefix else "")


@dataclass
class Query:
    groups: list[list[Term]] = field(default_factory=list)  # every group must match: one of its terms
    exclude: list[Term] = field(default_factory=list)  # none of these may match
    filters: dict[str, list[str]] = field(default_factory=dict)  # field -> values (each must hold)

    @property
    def role(self) -> Optional[str]:
        roles = self.filters.get("role")
        return roles[-1] if roles else None

    def fts(self) -> str:
        """The FTS5 expression for the words ("" when the query has only filters)."""
        must = " AND ".join("(" + " OR ".join(t.fts() for t in g) + ")" for g in self.groups)
        if not must:
            return ""
        if self.exclude:
            must += " NOT (" + " OR ".join(t.fts() for t in self.exclude) + ")"
        return must

    def free_text(self) -> str:
        """The words to look for, as plain text (what ``--meaning`` embeds)."""
        return " ".join(t.text().rstrip("*") for g in self.groups for t in g)

    @property
    def empty(self) -> bool:
        return not self.groups and not self.filters


def parse(text: str) -> Query:
    """The user's query (see the module docstring); :class:`QueryError` when it cannot be read."""
    q = Query()
    pending_or = False  # the last item was OR: the next term joins the last group
    negate_next = False  # the last item was NOT
    pos = 0
    text = text or ""
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        minus, phrase, closed, bare = m.group("minus", "phrase", "closed", "bare")
        if m.group("field") is not None:  # field:"two words"
            if not m.group("fclosed"):
                raise QueryError(f'unclosed quote in {text.strip()!r}: end the value with "')
            bare = f"{m.group('field')}:{m.group('fvalue')}"
        if phrase is not None:
            if not closed:
                raise QueryError(f'unclosed quote in {text.strip()!r}: end the phrase with "')
            term, negate = _term(phrase, False, f'"{phrase}"'), bool(minus)
        else:
            if bare == "OR":
                if not q.groups or pending_or or negate_next:
                    raise QueryError("OR needs a word on each side (as in: export OR report)")
                pending_or = True
                continue
            if bare == "NOT":
                if negate_next or pending_or:
                    raise QueryError("NOT needs a word after it (as in: report NOT spreadsheet)")
                negate_next = True
                continue
            if bare == "AND":
                continue  # words are all required anyway
            negate = bare.startswith("-")
            body = bare[1:] if negate else bare
            if not body:
                raise QueryError("a lone '-': write -word to leave sentences with that word out")
            name, sep, value = body.partition(":")
            if sep and name.lower() in FIELDS:
                if negate or negate_next or pending_or:
                    raise QueryError(f"{name}: cannot be negated or joined by OR; write it as {name}:value")
                q.filters.setdefault(name.lower(), []).append(_field(name.lower(), value))
                continue
            if sep and value and re.fullmatch(r"[A-Za-z]+", name):
                raise QueryError(f"unknown field {name!r}: use {', '.join(f + ':' for f in FIELDS)}")
            prefix = body.endswith("*")
            body = body.rstrip("*")
            if "*" in body:
                raise QueryError(f"{bare!r}: '*' goes at the end of a word (spread*)")
            term = _term(body, prefix, bare)
        if term is None:
            continue  # punctuation only: nothing to find
        if negate or negate_next:
            if pending_or:
                raise QueryError("OR needs a word on each side (as in: export OR report)")
            q.exclude.append(term)
            negate_next = False
        elif pending_or:
            q.groups[-1].append(term)
            pending_or = False
        else:
            q.groups.append([term])
    if pending_or:
        raise QueryError("OR needs a word on each side (as in: export OR report)")
    if negate_next:
        raise QueryError("NOT needs a word after it (as in: report NOT spreadsheet)")
    if q.exclude and not q.groups:
        raise QueryError("only words to leave out: add a word to look for (as in: report -spreadsheet)")
    return q


def _term(text: str, prefix: bool, shown: str) -> Optional[Term]:
    words = tuple(w.lower() for w in _WORD.findall(text))
    if not words:
        if prefix:
            raise QueryError(f"{shown!r}: a prefix needs letters before '*' (spread*)")
        return None
    if prefix and len(words) > 1:  # "it's*" and the like: the last token is the prefix
        return Term(words, True)
    return Term(words, prefix)


def _field(name: str, value: str) -> str:
    value = value.strip().strip('"')
    if not value:
        raise QueryError(f"{name}: needs a value (as in: {name}:{'interviewee' if name == 'role' else 'workaround'})")
    if name == "role" and value.lower() not in ROLES:
        raise QueryError(f"role:{value}: the roles are {', '.join(ROLES)}")
    return value.lower() if name == "role" else value
