"""KQL text to a syntax tree: the tokenizer, the node types and a recursive-descent parser.

Nothing here knows a table or a column; :mod:`kit.lab.kql._engine` compiles the tree against
the tables. Every node keeps the (line, column) of the token that started it, for errors.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from kit.lab.kql._errors import KqlError
from kit.lab.kql._values import parse_datetime, parse_timespan

__all__ = [
    "Between",
    "Binary",
    "Call",
    "Column",
    "Expr",
    "InList",
    "JoinOp",
    "Let",
    "Literal",
    "Member",
    "Operator",
    "Pipeline",
    "Query",
    "Star",
    "Token",
    "parse",
]

Pos = tuple[int, int]


# -- tokens ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is ``ident``, ``string``, ``number``, ``timespan``, ``op`` or ``eof``."""

    kind: str
    text: str
    value: Any
    pos: Pos
    start: int
    end: int


_OPS = ("..", "==", "!=", "<>", "=~", "!~", "<=", ">=", "|", "(", ")", "[", "]", "{", "}", ",", ";", ".",
        "=", "<", ">", "+", "-", "*", "/", "%", "$", ":", "~", "!")
_DASHED = {"project": ("away", "rename", "keep", "reorder"), "mv": ("expand",)}
_UNITS = {"d": dt.timedelta(days=1), "day": dt.timedelta(days=1), "days": dt.timedelta(days=1),
          "h": dt.timedelta(hours=1), "hr": dt.timedelta(hours=1), "hrs": dt.timedelta(hours=1),
          "hour": dt.timedelta(hours=1), "hours": dt.timedelta(hours=1),
          "m": dt.timedelta(minutes=1), "min": dt.timedelta(minutes=1), "minute": dt.timedelta(minutes=1),
          "minutes": dt.timedelta(minutes=1), "s": dt.timedelta(seconds=1), "sec": dt.timedelta(seconds=1),
          "second": dt.timedelta(seconds=1), "seconds": dt.timedelta(seconds=1),
          "ms": dt.timedelta(milliseconds=1), "milli": dt.timedelta(milliseconds=1),
          "millisecond": dt.timedelta(milliseconds=1), "milliseconds": dt.timedelta(milliseconds=1),
          "microsecond": dt.timedelta(microseconds=1), "microseconds": dt.timedelta(microseconds=1),
          "tick": dt.timedelta(microseconds=0.1), "ticks": dt.timedelta(microseconds=0.1)}
_NUMBER = re.compile(r"(\d+(?:\.\d+(?!\.))?(?:[eE][+-]?\d+)?)([A-Za-z]*)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]

    def pos(self, offset: int) -> Pos:
        line = 0
        low, high = 0, len(self.line_starts) - 1
        while low <= high:
            middle = (low + high) // 2
            if self.line_starts[middle] <= offset:
                line, low = middle, middle + 1
            else:
                high = middle - 1
        return line + 1, offset - self.line_starts[line] + 1

    def error(self, offset: int, message: str) -> KqlError:
        line, column = self.pos(offset)
        return KqlError("ParserFailure", message, line, column)

    def tokens(self) -> list[Token]:
        text, index, found = self.text, 0, []
        while True:
            while index < len(text):
                if text[index].isspace():
                    index += 1
                elif text.startswith("//", index):
                    newline = text.find("\n", index)
                    index = len(text) if newline < 0 else newline
                else:
                    break
            if index >= len(text):
                found.append(Token("eof", "", None, self.pos(index), index, index))
                return found
            token = self._one(index)
            found.append(token)
            index = token.end

    def _one(self, index: int) -> Token:
        text, char = self.text, self.text[index]
        if char in "'\"" or (char in "@hH" and index + 1 < len(text) and text[index + 1] in "'\""):
            return self._string(index)
        if char.isdigit():
            match = _NUMBER.match(text, index)
            assert match is not None
            number, unit = match.group(1), match.group(2)
            if unit:
                if unit.lower() not in _UNITS:
                    raise self.error(index, f"'{number}{unit}' is not a number or a timespan (units: d, h, m, s, ms)")
                value = float(number) * _UNITS[unit.lower()]
                return Token("timespan", match.group(0), value, self.pos(index), index, match.end())
            is_real = "." in number or "e" in number.lower()
            return Token("number", number, float(number) if is_real else int(number), self.pos(index), index,
                         match.end())
        if char.isalpha() or char == "_" or (char == "!" and index + 1 < len(text)
                                              and (text[index + 1].isalpha() or text[index + 1] == "_")):
            start = index + (char == "!")
            match = _IDENT.match(text, start)
            assert match is not None
            end = match.end()
            word = text[index:end]
            follow = _DASHED.get(word.lower())
            if follow and text.startswith("-", end):
                after = _IDENT.match(text, end + 1)
                if after is not None and after.group(0).lower() in follow:
                    end = after.end()
                    word = text[index:end]
            if word.lower() in _TYPED_LITERALS:
                typed = self._typed(word, index, end)
                if typed is not None:
                    return typed
            if word.lower() in ("in", "!in", "has_any", "has_all") and text.startswith("~", end):
                end += 1
                word += "~"
            return Token("ident", word, word, self.pos(index), index, end)
        for op in _OPS:
            if text.startswith(op, index):
                return Token("op", op, op, self.pos(index), index, index + len(op))
        raise self.error(index, f"unexpected character {char!r}")

    def _typed(self, word: str, start: int, end: int) -> Token | None:
        """``datetime(2026-01-01T10:00Z)``, ``dynamic([...])``: the raw text up to the matching parenthesis."""
        text, index = self.text, end
        while index < len(text) and text[index] in " \t":
            index += 1
        if not text.startswith("(", index):
            return None
        depth, scan, quote = 0, index, ""
        while scan < len(text):
            char = text[scan]
            if quote:
                if char == "\\":
                    scan += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
                if depth == 0:
                    raw = text[index + 1:scan]
                    return Token("typed", text[start:scan + 1], (word.lower(), raw), self.pos(start), start, scan + 1)
            scan += 1
        raise self.error(start, f"unterminated {word}( literal")

    def _string(self, index: int) -> Token:
        text, start = self.text, index
        verbatim = text[index] == "@"
        if text[index] in "@hH":
            index += 1
        quote = text[index]
        index += 1
        parts: list[str] = []
        while True:
            if index >= len(text) or text[index] == "\n":
                raise self.error(start, "unterminated string literal")
            char = text[index]
            if char == quote:
                if verbatim and text.startswith(quote * 2, index):
                    parts.append(quote)
                    index += 2
                    continue
                index += 1
                break
            if char == "\\" and not verbatim:
                if index + 1 >= len(text):
                    raise self.error(start, "unterminated string literal")
                escaped = text[index + 1]
                parts.append(_ESCAPES.get(escaped, "\\" + escaped))
                index += 2
                continue
            parts.append(char)
            index += 1
        return Token("string", text[start:index], "".join(parts), self.pos(start), start, index)


# -- nodes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Literal:
    """A constant (``type`` is its KQL type; ``None`` for null)."""

    value: Any
    type: str | None
    pos: Pos


@dataclass(frozen=True)
class Column:
    """A column or a ``let`` name."""

    name: str
    pos: Pos


@dataclass(frozen=True)
class Star:
    """``*`` inside ``arg_max(x, *)``, ``distinct *``."""

    pos: Pos


@dataclass(frozen=True)
class Member:
    """``base.key``, ``base["key"]``, ``base[0]`` or ``base[expr]``."""

    base: Expr
    key: Expr
    pos: Pos


@dataclass(frozen=True)
class Call:
    """A function call; ``args`` are expressions."""

    name: str
    args: tuple[Expr, ...]
    pos: Pos


@dataclass(frozen=True)
class Binary:
    """``left op right`` (comparison, string predicate, arithmetic, ``and``/``or``)."""

    op: str
    left: Expr
    right: Expr
    pos: Pos


@dataclass(frozen=True)
class InList:
    """``left in (a, b)``, ``!in``, ``in~``, ``!in~``, ``has_any``."""

    op: str
    left: Expr
    items: tuple[Expr, ...]
    pos: Pos


@dataclass(frozen=True)
class Between:
    """``left between (low .. high)`` / ``!between``."""

    left: Expr
    low: Expr
    high: Expr
    negate: bool
    pos: Pos


Expr = Literal | Column | Star | Member | Call | Binary | InList | Between


@dataclass(frozen=True)
class Operator:
    """A tabular operator: ``name`` (lower case) and its parsed arguments in ``args``."""

    name: str
    pos: Pos
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JoinOp:
    """``join kind=K (right) on keys``: ``keys`` are (left expr, right expr) pairs."""

    kind: str
    right: Pipeline
    keys: tuple[tuple[str, str], ...]
    pos: Pos


@dataclass(frozen=True)
class Pipeline:
    """A source (table or ``let`` name, or a parenthesised pipeline) and its operators."""

    source: str | Pipeline
    operators: tuple[Operator | JoinOp, ...]
    pos: Pos


@dataclass(frozen=True)
class Let:
    """``let name = value;`` (a scalar expression or a pipeline)."""

    name: str
    value: Expr | Pipeline
    pos: Pos


@dataclass(frozen=True)
class Query:
    """``let`` statements and the final pipeline."""

    lets: tuple[Let, ...]
    body: Pipeline


# -- parser ---------------------------------------------------------------------------------
_COMPARE = {"==", "!=", "<>", "=~", "!~", "<", "<=", ">", ">="}
_WORD_OPS = {"has", "!has", "has_cs", "!has_cs", "contains", "!contains", "contains_cs", "!contains_cs",
             "startswith", "!startswith", "startswith_cs", "!startswith_cs", "endswith", "!endswith",
             "endswith_cs", "!endswith_cs", "hasprefix", "!hasprefix", "hassuffix", "!hassuffix", "matches"}
_LIST_OPS = {"in", "!in", "in~", "!in~", "has_any", "has_all"}
_SUPPORTED = ("where", "filter", "project", "project-away", "project-rename", "project-keep", "extend",
              "summarize", "mv-expand", "join", "order", "sort", "limit", "take", "top", "distinct", "count")


class _Parser:
    def __init__(self, text: str, tables: frozenset[str]) -> None:
        self.lexer = _Lexer(text)
        self.text = text
        self.tokens = self.lexer.tokens()
        self.index = 0
        self.tabular_names = set(tables)

    # helpers
    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def error(self, message: str, token: Token | None = None, code: str = "ParserFailure") -> KqlError:
        where = token or self.token
        return KqlError(code, message, *where.pos)

    def is_op(self, text: str) -> bool:
        return self.token.kind == "op" and self.token.text == text

    def is_word(self, *words: str) -> bool:
        return self.token.kind == "ident" and self.token.text.lower() in words

    def expect_op(self, text: str) -> Token:
        if not self.is_op(text):
            raise self.error(f"expected '{text}' but found {self.describe(self.token)}")
        return self.advance()

    def expect_word(self, word: str) -> Token:
        if not self.is_word(word):
            raise self.error(f"expected '{word}' but found {self.describe(self.token)}")
        return self.advance()

    def name(self) -> tuple[str, Token]:
        """An identifier or a bracketed name ``['a b']``."""
        token = self.token
        if token.kind == "ident" and not token.text.startswith("!"):
            self.advance()
            return token.text, token
        if self.is_op("[") and self.peek().kind == "string" and self.peek(2).kind == "op" and self.peek(2).text == "]":
            self.advance()
            value = self.advance().value
            self.advance()
            return str(value), token
        raise self.error(f"expected a name but found {self.describe(token)}")

    @staticmethod
    def describe(token: Token) -> str:
        return "the end of the query" if token.kind == "eof" else f"'{token.text}'"

    # statements
    def query(self) -> Query:
        lets: list[Let] = []
        while self.is_word("let"):
            start = self.advance()
            name, _ = self.name()
            self.expect_op("=")
            value: Expr | Pipeline
            if self.starts_pipeline():
                value = self.pipeline()
                self.tabular_names.add(name.lower())
            else:
                if self.is_op("(") and self.peek().kind == "ident" and self.peek(2).text == ":":
                    raise self.error("user-defined functions in let are not supported", start,
                                     "UnsupportedOperator")
                value = self.expression()
            lets.append(Let(name, value, start.pos))
            if not self.is_op(";"):
                raise self.error(f"expected ';' after the let statement but found {self.describe(self.token)}")
            self.advance()
        if self.token.kind == "eof":
            raise self.error("the query has no tabular expression")
        body = self.pipeline()
        while self.is_op(";"):
            self.advance()
        if self.token.kind != "eof":
            raise self.error(f"unexpected {self.describe(self.token)} after the end of the query")
        return Query(tuple(lets), body)

    def starts_pipeline(self) -> bool:
        token = self.token
        if token.kind == "ident" and token.text.lower() in self.tabular_names:
            return True
        if self.is_op("("):  # a parenthesised pipeline starts with a table name
            inner = self.peek()
            return inner.kind == "ident" and inner.text.lower() in self.tabular_names
        return False

    def pipeline(self) -> Pipeline:
        start = self.token
        source: str | Pipeline
        if self.is_op("("):
            self.advance()
            source = self.pipeline()
            self.expect_op(")")
        else:
            source, _ = self.name()
        operators: list[Operator | JoinOp] = []
        while self.is_op("|"):
            self.advance()
            operators.append(self.operator())
        return Pipeline(source, tuple(operators), start.pos)

    def operator(self) -> Operator | JoinOp:
        token = self.token
        if token.kind != "ident":
            raise self.error(f"expected a tabular operator after '|' but found {self.describe(token)}")
        word = token.text.lower()
        if word not in _SUPPORTED:
            raise self.error(f"the operator '{token.text}' is not supported by the lab's KQL "
                             f"(supported: {', '.join(_SUPPORTED)})", token, "UnsupportedOperator")
        self.advance()
        pos = token.pos
        if word in ("where", "filter"):
            return Operator("where", pos, {"predicate": self.expression()})
        if word in ("project", "extend"):
            return Operator(word, pos, {"items": self.assignments()})
        if word in ("project-away", "project-keep"):
            return Operator(word, pos, {"names": self.name_patterns()})
        if word == "project-rename":
            pairs = []
            while True:
                new, new_token = self.name()
                self.expect_op("=")
                old, old_token = self.name()
                pairs.append((new, old, old_token.pos))
                if not self.is_op(","):
                    break
                self.advance()
            return Operator(word, pos, {"pairs": tuple(pairs)})
        if word == "summarize":
            return self.summarize(pos)
        if word == "mv-expand":
            return self.mv_expand(pos)
        if word == "join":
            return self.join(pos)
        if word in ("order", "sort"):
            self.expect_word("by")
            return Operator("order", pos, {"keys": self.sort_keys()})
        if word in ("limit", "take"):
            return Operator("take", pos, {"count": self.expression()})
        if word == "top":
            count = self.expression()
            self.expect_word("by")
            keys = self.sort_keys()
            return Operator("top", pos, {"count": count, "keys": keys})
        if word == "distinct":
            if self.is_op("*"):
                self.advance()
                return Operator("distinct", pos, {"items": None})
            return Operator("distinct", pos, {"items": self.assignments()})
        return Operator("count", pos)

    def name_patterns(self) -> tuple[tuple[str, Pos], ...]:
        names = []
        while True:
            token = self.token
            if token.kind == "ident" or self.is_op("*"):
                pattern = ""
                while (self.token.kind == "ident" or self.is_op("*")) and (
                        not pattern or self.token.start == self.tokens[self.index - 1].end):
                    pattern += self.advance().text
                names.append((pattern, token.pos))
            else:
                name, name_token = self.name()
                names.append((name, name_token.pos))
            if not self.is_op(","):
                return tuple(names)
            self.advance()

    def assignments(self) -> tuple[tuple[str | None, Expr], ...]:
        items: list[tuple[str | None, Expr]] = []
        while True:
            items.append(self.assignment())
            if not self.is_op(","):
                return tuple(items)
            self.advance()

    def assignment(self) -> tuple[str | None, Expr]:
        if self.token.kind == "ident" and self.peek().kind == "op" and self.peek().text == "=":
            name, _ = self.name()
            self.advance()
            return name, self.expression()
        if self.is_op("(") and self.paren_names_assignment():
            raise self.error("tuple assignments '(a, b) = ...' are not supported", code="UnsupportedOperator")
        if self.is_op("[") and self.peek().kind == "string" and self.peek(3).kind == "op" and self.peek(3).text == "=":
            name, _ = self.name()
            self.advance()
            return name, self.expression()
        return None, self.expression()

    def paren_names_assignment(self) -> bool:
        depth, index = 0, self.index
        while index < len(self.tokens):
            token = self.tokens[index]
            if token.kind == "op" and token.text == "(":
                depth += 1
            elif token.kind == "op" and token.text == ")":
                depth -= 1
                if depth == 0:
                    following = self.tokens[index + 1] if index + 1 < len(self.tokens) else token
                    return following.kind == "op" and following.text == "="
            elif token.kind not in ("ident",) and not (token.kind == "op" and token.text == ","):
                return False
            index += 1
        return False

    def summarize(self, pos: Pos) -> Operator:
        aggregates: tuple[tuple[str | None, Expr], ...] = ()
        if not self.is_word("by"):
            aggregates = self.assignments()
        keys: tuple[tuple[str | None, Expr], ...] = ()
        if self.is_word("by"):
            self.advance()
            keys = self.assignments()
        if not aggregates and not keys:
            raise self.error("summarize needs an aggregation or a 'by' clause")
        return Operator("summarize", pos, {"aggregates": aggregates, "keys": keys})

    def mv_expand(self, pos: Pos) -> Operator:
        items = []
        kind, index_column = "bag", None
        while self.is_word("kind", "bagexpansion", "with_itemindex") and self.peek().kind == "op" \
                and self.peek().text == "=":
            param = self.advance().text.lower()
            self.advance()
            value, value_token = self.name()
            if param == "with_itemindex":
                index_column = value
            elif value.lower() in ("bag", "array"):
                kind = value.lower()
            else:
                raise self.error(f"mv-expand {param}= takes bag or array, not '{value}'", value_token)
        while True:
            name, expr = self.assignment()
            target = None
            if self.is_word("to"):
                self.advance()
                self.expect_word("typeof")
                self.expect_op("(")
                target, _ = self.name()
                self.expect_op(")")
            items.append((name, expr, target))
            if not self.is_op(","):
                break
            self.advance()
        limit = None
        if self.is_word("limit"):
            self.advance()
            limit = self.expression()
        return Operator("mv-expand", pos, {"items": tuple(items), "limit": limit, "kind": kind,
                                           "index": index_column})

    def join(self, pos: Pos) -> JoinOp:
        kind = "innerunique"
        while self.token.kind == "ident" and self.peek().kind == "op" and self.peek().text == "=":
            param, param_token = self.name()
            self.advance()
            value, value_token = self.name()
            if param.lower() == "kind":
                kind = value.lower()
                if kind not in ("inner", "innerunique", "leftouter", "leftanti", "leftsemi", "leftantisemi",
                                "rightouter", "fullouter", "rightanti", "rightsemi"):
                    raise self.error(f"unknown join kind '{value}'", value_token)
                if kind in ("rightouter", "fullouter", "rightanti", "rightsemi"):
                    raise self.error(f"join kind={value} is not supported by the lab's KQL (supported: inner, "
                                     "innerunique, leftouter, leftanti, leftsemi)", value_token, "UnsupportedOperator")
                kind = "leftanti" if kind == "leftantisemi" else kind
            elif param.lower() != "hint.strategy" and not param.lower().startswith("hint"):
                raise self.error(f"unknown join parameter '{param}'", param_token)
        if self.is_op("("):
            self.advance()
            right = self.pipeline()
            self.expect_op(")")
        else:
            start = self.token
            name, _ = self.name()
            right = Pipeline(name, (), start.pos)
        self.expect_word("on")
        keys: list[tuple[str, str]] = []
        while True:
            if self.is_op("$"):
                left_name = self.side("left")
                self.expect_op("==")
                right_name = self.side("right")
                keys.append((left_name, right_name))
            else:
                name, _ = self.name()
                keys.append((name, name))
            if not self.is_op(","):
                break
            self.advance()
        return JoinOp(kind, right, tuple(keys), pos)

    def side(self, expected: str) -> str:
        self.expect_op("$")
        word = self.expect_word(expected)
        if word.text.lower() != expected:
            raise self.error(f"expected ${expected}", word)
        self.expect_op(".")
        name, _ = self.name()
        return name

    def sort_keys(self) -> tuple[tuple[Expr, bool, bool | None], ...]:
        keys = []
        while True:
            expr = self.expression()
            descending = True
            if self.is_word("asc"):
                self.advance()
                descending = False
            elif self.is_word("desc"):
                self.advance()
            nulls_first: bool | None = None
            if self.is_word("nulls"):
                self.advance()
                if self.is_word("first"):
                    nulls_first = True
                elif self.is_word("last"):
                    nulls_first = False
                else:
                    raise self.error("expected 'first' or 'last' after 'nulls'")
                self.advance()
            keys.append((expr, descending, nulls_first))
            if not self.is_op(","):
                return tuple(keys)
            self.advance()

    # expressions
    def expression(self) -> Expr:
        return self.disjunction()

    def disjunction(self) -> Expr:
        left = self.conjunction()
        while self.is_word("or"):
            token = self.advance()
            left = Binary("or", left, self.conjunction(), token.pos)
        return left

    def conjunction(self) -> Expr:
        left = self.comparison()
        while self.is_word("and"):
            token = self.advance()
            left = Binary("and", left, self.comparison(), token.pos)
        return left

    def comparison(self) -> Expr:
        left = self.additive()
        token = self.token
        if token.kind == "op" and token.text in _COMPARE:
            self.advance()
            op = "!=" if token.text == "<>" else token.text
            return Binary(op, left, self.additive(), token.pos)
        if token.kind == "ident":
            word = token.text.lower()
            if word in _WORD_OPS:
                self.advance()
                if word == "matches":
                    self.expect_word("regex")
                return Binary(word, left, self.additive(), token.pos)
            if word in _LIST_OPS:
                self.advance()
                self.expect_op("(")
                items: list[Expr] = []
                if not self.is_op(")"):
                    if self.starts_pipeline():
                        raise self.error("'in' with a tabular expression is not supported; list the values",
                                         code="UnsupportedOperator")
                    while True:
                        items.append(self.expression())
                        if not self.is_op(","):
                            break
                        self.advance()
                self.expect_op(")")
                return InList(word, left, tuple(items), token.pos)
            if word in ("between", "!between"):
                self.advance()
                self.expect_op("(")
                low = self.additive()
                self.expect_op("..")
                high = self.additive()
                self.expect_op(")")
                return Between(left, low, high, word.startswith("!"), token.pos)
        return left

    def additive(self) -> Expr:
        left = self.multiplicative()
        while self.token.kind == "op" and self.token.text in ("+", "-"):
            token = self.advance()
            left = Binary(token.text, left, self.multiplicative(), token.pos)
        return left

    def multiplicative(self) -> Expr:
        left = self.unary()
        while self.token.kind == "op" and self.token.text in ("*", "/", "%"):
            token = self.advance()
            left = Binary(token.text, left, self.unary(), token.pos)
        return left

    def unary(self) -> Expr:
        if self.token.kind == "op" and self.token.text in ("-", "+"):
            token = self.advance()
            operand = self.unary()
            if token.text == "+":
                return operand
            if isinstance(operand, Literal) and isinstance(operand.value, (int, float, dt.timedelta)):
                return Literal(-operand.value, operand.type, token.pos)
            return Binary("-", Literal(0, "long", token.pos), operand, token.pos)
        return self.postfix()

    def postfix(self) -> Expr:
        expr = self.primary()
        while True:
            if self.is_op(".") and self.peek().kind == "ident" and self.peek().start == self.token.end:
                dot = self.advance()
                key = self.advance()
                expr = Member(expr, Literal(key.text, "string", key.pos), dot.pos)
            elif self.is_op("."):
                dot = self.advance()
                if self.is_op("["):
                    continue  # x.['a b']
                raise self.error(f"expected a property name after '.' but found {self.describe(self.token)}", dot)
            elif self.is_op("["):
                bracket = self.advance()
                index = self.expression()
                self.expect_op("]")
                expr = Member(expr, index, bracket.pos)
            else:
                return expr

    def primary(self) -> Expr:
        token = self.token
        if token.kind == "string":
            self.advance()
            return Literal(token.value, "string", token.pos)
        if token.kind == "number":
            self.advance()
            return Literal(token.value, "real" if isinstance(token.value, float) else "long", token.pos)
        if token.kind == "timespan":
            self.advance()
            return Literal(token.value, "timespan", token.pos)
        if token.kind == "typed":
            self.advance()
            kind, raw = token.value
            return self.typed_literal(kind, raw, token)
        if self.is_op("("):
            self.advance()
            inner = self.expression()
            self.expect_op(")")
            return inner
        if self.is_op("*"):
            self.advance()
            return Star(token.pos)
        if self.is_op("[") and self.peek().kind == "string":
            name, _ = self.name()
            return Column(name, token.pos)
        if token.kind == "ident" and not token.text.startswith("!"):
            word = token.text
            lower = word.lower()
            if lower in ("true", "false") and not self.next_is_call():
                self.advance()
                return Literal(lower == "true", "bool", token.pos)
            if lower == "null" and not self.next_is_call():
                self.advance()
                return Literal(None, None, token.pos)
            if self.next_is_call():
                self.advance()
                self.expect_op("(")
                args: list[Expr] = []
                if not self.is_op(")"):
                    while True:
                        args.append(self.expression())
                        if not self.is_op(","):
                            break
                        self.advance()
                self.expect_op(")")
                return Call(lower, tuple(args), token.pos)
            self.advance()
            return Column(word, token.pos)
        raise self.error(f"expected an expression but found {self.describe(token)}")

    def next_is_call(self) -> bool:
        following = self.peek()
        return following.kind == "op" and following.text == "("

    def typed_literal(self, kind: str, raw: str, token: Token) -> Literal:
        raw = raw.strip()
        if kind == "dynamic":
            return Literal(self.dynamic_value(raw, token), "dynamic", token.pos)
        if raw.lower() == "null":
            return Literal(None, _TYPED.get(kind, kind), token.pos)
        if len(raw) >= 2 and raw[0] in "'\"" and raw[-1] == raw[0]:
            raw = raw[1:-1]
        try:
            return Literal(_typed_value(kind, raw), _TYPED.get(kind, kind), token.pos)
        except ValueError:
            raise self.error(f"'{raw}' is not a valid {kind} literal", token) from None

    def dynamic_value(self, raw: str, token: Token) -> Any:
        if raw.lower() == "null" or not raw:
            return None
        candidate = _JSONISH.sub(lambda match: json.dumps(match.group(0)[1:-1].replace("\\'", "'")), raw)
        try:
            return json.loads(candidate)
        except ValueError:
            raise self.error("the dynamic() literal is not JSON the lab can read", token) from None


_TYPED_LITERALS = frozenset({"dynamic", "datetime", "timespan", "time", "bool", "boolean", "int", "long", "real",
                             "double", "guid"})
_TYPED = {"time": "timespan", "boolean": "bool", "double": "real", "int": "int", "guid": "string"}
_JSONISH = re.compile(r"'(?:[^'\\]|\\.)*'")


def _typed_value(kind: str, raw: str) -> Any:
    if kind == "datetime":
        value = parse_datetime(raw)
        if value is None:
            raise ValueError(raw)
        return value
    if kind in ("timespan", "time"):
        span = parse_timespan(raw)
        if span is None:
            raise ValueError(raw)
        return span
    if kind in ("bool", "boolean"):
        if raw.lower() not in ("true", "false"):
            raise ValueError(raw)
        return raw.lower() == "true"
    if kind in ("int", "long"):
        return int(raw)
    if kind in ("real", "double"):
        return float(raw)
    return raw


def parse(text: str, tables: frozenset[str]) -> Query:
    """Parse ``text``; ``tables`` (lower-cased names) tell a ``let`` pipeline from a scalar."""
    if not isinstance(text, str):
        raise KqlError("ParserFailure", f"the query must be text, got {type(text).__name__}", 1, 1)
    if not text.strip():
        raise KqlError("ParserFailure", "the query is empty", 1, 1)
    return _Parser(text, tables).query()
