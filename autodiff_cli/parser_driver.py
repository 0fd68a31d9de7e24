"""A fast LALR loop over lark's own parse table (as plain data), for the common case of valid input."""

from __future__ import annotations

import re
from typing import Any

from .parser_build import Builder

# The grammar's terminals as they can match ASCII text, keyed by the grammar's own pattern (so that a
# terminal whose pattern changes is used as it is: correct, a little slower to compile).  None: the
# terminal needs a character outside ASCII (a superscript, the root sign).  A name starts with a letter
# or _, then letters, digits and _ ([^\W\d...] is \w without digits); a coefficient (the 2 of 2x) is a
# number before a letter (not _) or '('.
ASCII_FORMS: dict[str, str | None] = {
    "(?>(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?)(?=[^\\W\\d_²³¹⁰-\u209f]|[(√])":
        "(?>(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?)(?=[A-Za-z(])",
    "[^\\W\\d²³¹⁰-\u209f][^\\W²³¹⁰-⁾]*": "[A-Za-z_][A-Za-z0-9_]*",
    "[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+": None,
    "(?:\\*|×|·|⋅)": "\\*",
    "(?:\\-|−)": "\\-",
    "(?:/|÷)": "/",
    "√": None,
}


def _spliced(kids: list, splice: tuple[int, ...], growing: bool) -> list:
    """The children with the lists of _rules spliced in.  A repetition (x ("," x)*) is a _rule that reduces
    once per item with its list so far first: that list grows in place (it is nobody else's), so that
    f(x1, ..., xn) or [1, ..., n] costs n steps, not the n^2 / 2 of a new list each time."""
    if growing and splice[0] == 0 and type(kids[0]) is list:
        head = kids[0]
        for j in range(1, len(kids)):
            if j in splice:
                head.extend(kids[j])
            else:
                head.append(kids[j])
        return head
    return [c for j, k in enumerate(kids) for c in (k if j in splice else (k,))]


class Driver:
    """A tight LALR loop over lark's own parse table, for the common case of valid input.

    Lark's general parser loop costs about 5 µs a token; this one, with a single
    regular expression built from the grammar's terminals, about a fifth of that.
    The tables are lark's, as plain data (autodiff_cli/tablegen.py), so a valid
    expression is parsed without importing lark at all.  The driver handles the
    tree-shaping rules this grammar uses (aliases, ?rules that pass a single child
    through, _rules spliced into their parent, filtered anonymous tokens); the
    table generator refuses any other, and then lark's parser does all the work.
    On any error the driver gives up and lark parses again, so every error message
    comes from lark's own analysis.
    """

    FAIL = object()

    def __init__(self, tables: dict[str, Any], builder: Builder) -> None:
        self.terminals: list[tuple[str, str]] = tables["terminals"]
        self.regexes: dict[bool, re.Pattern[str]] = {}  # by text.isascii(): compiled on first use
        self.ignore = frozenset(tables["ignore"])
        self.start = tables["start"]
        self.end = tables["end"]
        self.actions: dict[int, dict[str, int]] = tables["actions"]
        self.rules = [
            (size, origin, keep, splice, build if build in (None, "pass") else getattr(builder, build))
            for size, origin, keep, splice, build in tables["rules"]
        ]
        self.chains: dict[tuple[int, int, str], int] = {}
        self.builder = builder

    def _chain(self, below: int, top: int, typ: str) -> int:
        """Where a run of single-child pass-through reductions from `top` ends."""
        while top != self.end:
            act = self.actions[top].get(typ)
            if act is None or act >= 0:
                break
            size, origin, _, _, build = self.rules[~act]
            if not (size == 1 and build == "pass"):
                break
            top = self.actions[below][origin]
        return top

    def regex(self, ascii_only: bool) -> re.Pattern[str]:
        """One regular expression of every terminal, in the grammar's order (the first that matches wins).

        For ASCII text, each terminal in its ASCII form (ASCII_FORMS): the grammar's Unicode classes
        take a one-shot command about a millisecond to compile, and on ASCII text they match exactly
        what their ASCII forms match (tests/test_startup.py checks the two lexers agree).
        """
        found = self.regexes.get(ascii_only)
        if found is None:
            forms = [(name, ASCII_FORMS.get(pattern, pattern) if ascii_only else pattern)
                     for name, pattern in self.terminals]
            found = self.regexes[ascii_only] = re.compile(
                "|".join(f"(?P<{name}>{pattern})" for name, pattern in forms if pattern is not None))
        return found

    def parse(self, text: str) -> object:
        actions, rules, ignore, fail = self.actions, self.rules, self.ignore, self.FAIL
        regex_match = self.regex(text.isascii()).match
        end_state, chains = self.end, self.chains
        states = [self.start]
        values: list = []
        pos, n = 0, len(text)
        while True:
            if pos < n:
                m = regex_match(text, pos)
                if m is None:
                    return fail
                pos = m.end()
                typ = m.lastgroup
                if typ in ignore:
                    continue
                token = m.group()
            else:
                typ = token = "$END"
            while True:
                act = actions[states[-1]].get(typ)
                if act is None:
                    return fail
                if act >= 0:
                    states.append(act)
                    values.append(token)
                    break
                size, origin, keep, splice, build = rules[~act]
                if size == 1 and build == "pass":  # ?rules handing their one child up
                    # A run of these replaces the top state and leaves the one below it
                    # alone, so its end depends only on (below, top, token): look it up.
                    key = (states[-2], states[-1], typ)
                    top = chains.get(key)
                    if top is None:
                        top = chains[key] = self._chain(*key)
                    states[-1] = top
                    if typ == "$END" and top == end_state:
                        return values[-1]
                    continue
                children = values[len(values) - size :]
                del values[len(values) - size :]
                del states[len(states) - size :]
                if build == "pass":
                    value = children[keep[0]]
                else:
                    kids = [children[i] for i in keep]
                    if splice:
                        kids = _spliced(kids, splice, build is None)
                    value = kids if build is None else build(*kids)
                states.append(actions[states[-1]][origin])
                values.append(value)
                if typ == "$END" and states[-1] == end_state:
                    return values[-1]

    def parse_located(self, text: str) -> object:
        """parse(), telling the builder where each rule's symbols are in the text, for a builder that keeps
        source positions (the tensor builder: a shape error's caret goes under its operator).

        Before each build call, builder.spans holds one (start, end) offset pair per symbol of the
        rule being reduced, the tokens the grammar filters out ('+', '(') included; a pass-through rule
        keeps its child's span.  Slower than parse() by the bookkeeping; scalar expressions use parse().
        """
        actions, rules, ignore, fail = self.actions, self.rules, self.ignore, self.FAIL
        regex_match = self.regex(text.isascii()).match
        end_state, builder, chains = self.end, self.builder, self.chains
        states = [self.start]
        values: list = []
        spans: list[tuple[int, int]] = []
        pos, n = 0, len(text)
        while True:
            if pos < n:
                m = regex_match(text, pos)
                if m is None:
                    return fail
                pos = m.end()
                typ = m.lastgroup
                if typ in ignore:
                    continue
                token, span = m.group(), m.span()
            else:
                typ, token, span = "$END", "$END", (n, n)
            while True:
                act = actions[states[-1]].get(typ)
                if act is None:
                    return fail
                if act >= 0:
                    states.append(act)
                    values.append(token)
                    spans.append(span)
                    break
                size, origin, keep, splice, build = rules[~act]
                if size == 1 and build == "pass":  # a run of ?rules handing one child up: as parse() does
                    key = (states[-2], states[-1], typ)
                    top = chains.get(key)
                    if top is None:
                        top = chains[key] = self._chain(*key)
                    states[-1] = top  # the value and its span stay as they are
                    if typ == "$END" and top == end_state:
                        return values[-1]
                    continue
                cut = len(values) - size
                children, located = values[cut:], spans[cut:]
                del values[cut:], states[cut + 1 :], spans[cut:]
                if build == "pass":
                    value = children[keep[0]]
                else:
                    kids = [children[i] for i in keep]
                    if splice:
                        kids = _spliced(kids, splice, build is None)
                    if build is not None:
                        builder.spans = located
                    value = kids if build is None else build(*kids)
                states.append(actions[states[-1]][origin])
                values.append(value)
                spans.append((located[0][0], located[-1][1]))  # (a+b): with its parentheses
                if typ == "$END" and states[-1] == end_state:
                    return values[-1]
