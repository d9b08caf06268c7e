"""Column patterns: a small regular-expression subset, matched in bounded, deterministic time.

Python's ``re`` backtracks (``(a+)+$`` on ``"aaaa…!"`` takes exponential time) and has no time
limit, and a wall-clock limit would make replicas disagree. So a pattern is parsed here into a
Thompson NFA and simulated state-set by state-set: the work is at most (value length x NFA size),
and a hard step budget turns even that bound into a deterministic refusal.

The subset is chosen so that it means the same in JavaScript (``new RegExp("^(?:" + p + ")$",
"u")``, which the worker page uses) as here:

- literal characters, except the syntax characters ``^ $ \\ . * + ? ( ) [ ] { } |`` which must be
  escaped with a backslash (``/`` may be escaped too);
- ``.``: any character except the line terminators ``\\n \\r \\u2028 \\u2029`` (JavaScript's rule);
- ``\\d \\w \\s`` and their negations ``\\D \\W \\S``: ``\\d`` is ``[0-9]`` and ``\\w`` is
  ``[A-Za-z0-9_]`` (ASCII only, as in JavaScript; Python's ``\\d`` would also take other scripts'
  digits), ``\\s`` is JavaScript's whitespace set; ``\\t \\n \\r \\f \\v`` stand for themselves;
- classes ``[abc]``, ``[a-z0-9]``, ``[^...]``, holding characters, ranges and ``\\d \\w \\s``-style
  escapes; ``-`` is literal only first, last or escaped; ``[`` inside a class must be escaped;
- groups ``(...)`` and ``(?:...)``, alternation ``|``;
- one quantifier per atom: ``* + ? {m} {m,} {m,n}`` with m ≤ n ≤ 100.

The whole value must match (the anchors are implied, so ``^`` and ``$`` are refused). Anything
else (backreferences, lookaround, lazy quantifiers, ``\\b``, ``\\p{..}``, ``\\x..``, flags...) is
refused when the table is defined, with a message naming what was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crowdfill.model.errors import InvalidPattern, PatternTooCostly

MAX_PATTERN_LENGTH = 200
MAX_REPEAT = 100
# Counted repetition copies its atom, so a short pattern can still mean a large automaton.
MAX_STATES = 2000
# A deterministic "time limit": automaton nodes visited in one check. Ordinary patterns keep a
# few nodes live per character and use a small share of it even on the longest text allowed.
STEP_BUDGET = 100_000

Ranges = tuple[tuple[int, int], ...]

_LINE_TERMINATORS: Ranges = ((0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029))
_DIGIT: Ranges = ((0x30, 0x39),)
_WORD: Ranges = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
# ECMAScript's WhiteSpace and LineTerminator code points, which its \s matches.
_SPACE: Ranges = (
    (0x09, 0x0D),
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
)
_CLASS_ESCAPES: dict[str, tuple[Ranges, bool]] = {
    "d": (_DIGIT, False),
    "D": (_DIGIT, True),
    "w": (_WORD, False),
    "W": (_WORD, True),
    "s": (_SPACE, False),
    "S": (_SPACE, True),
}
_CONTROL_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}
_SYNTAX = set("^$\\.*+?()[]{}|")
_IDENTITY_ESCAPES = _SYNTAX | {"/"}


@dataclass(frozen=True)
class CharSet:
    """A set of code points: the union of ``parts`` (each ranges, possibly negated), maybe negated."""

    parts: tuple[tuple[Ranges, bool], ...]
    negated: bool = False
    # Most text is ASCII: its answers are worked out once, so a check is one set lookup.
    _ascii: frozenset[int] = field(init=False, repr=False, compare=False, default=frozenset())

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ascii", frozenset(c for c in range(128) if self._contains(c)))

    def contains(self, code: int) -> bool:
        return code in self._ascii if code < 128 else self._contains(code)

    def _contains(self, code: int) -> bool:
        inside = any(any(lo <= code <= hi for lo, hi in ranges) != negate for ranges, negate in self.parts)
        return inside != self.negated


# The parse tree: a CharSet, or a tuple tagged "seq" / "alt" / "repeat".
Node = CharSet | tuple[object, ...]


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.at = 0

    def fail(self, message: str) -> InvalidPattern:
        return InvalidPattern(f"pattern {self.source!r}, near position {max(self.at, 1)}: {message}")

    def peek(self) -> str | None:
        return self.source[self.at] if self.at < len(self.source) else None

    def take(self) -> str:
        char = self.source[self.at]
        self.at += 1
        return char

    def alternation(self) -> Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else ("alt", *branches)

    def sequence(self) -> Node:
        items: list[Node] = []
        while (char := self.peek()) is not None and char not in "|)":
            atom = self.atom()
            items.append(self.quantified(atom))
        return items[0] if len(items) == 1 else ("seq", *items)

    def quantified(self, atom: Node) -> Node:
        char = self.peek()
        if char is None or char not in "*+?{":
            return atom
        self.take()
        if char == "*":
            low, high = 0, None
        elif char == "+":
            low, high = 1, None
        elif char == "?":
            low, high = 0, 1
        else:
            low, high = self.braces()
        following = self.peek()
        if following is not None and following in "*+?{":
            raise self.fail(
                "a quantifier cannot follow another (lazy and stacked quantifiers are not supported)"
            )
        return ("repeat", atom, low, high)

    def braces(self) -> tuple[int, int | None]:
        low = self.number()
        if low is None:
            raise self.fail("'{' must start a quantifier {m}, {m,} or {m,n}; write \\{ for the character")
        high: int | None = low
        if self.peek() == ",":
            self.take()
            high = self.number()
        if self.peek() != "}":
            raise self.fail("a quantifier {m}, {m,} or {m,n} is not closed with '}'")
        self.take()
        if high is not None and high < low:
            raise self.fail(f"quantifier {{{low},{high}}} has its minimum above its maximum")
        if max(low, high or 0) > MAX_REPEAT:
            raise self.fail(f"quantifier counts are at most {MAX_REPEAT}")
        return low, high

    def number(self) -> int | None:
        start = self.at
        while (char := self.peek()) is not None and "0" <= char <= "9":
            self.take()
        digits = self.source[start : self.at]
        if len(digits) > 3:
            raise self.fail(f"quantifier counts are at most {MAX_REPEAT}")
        return int(digits) if digits else None

    def atom(self) -> Node:
        char = self.take()
        if char == "(":
            if self.peek() == "?":
                self.take()
                if self.peek() != ":":
                    raise self.fail(
                        "only plain groups (...) and (?:...) are supported "
                        "(no lookaround, named groups or flags)"
                    )
                self.take()
            inner = self.alternation()
            if self.peek() != ")":
                raise self.fail("a group is not closed with ')'")
            self.take()
            return inner
        if char == "[":
            return self.char_class()
        if char == ".":
            return CharSet(((_LINE_TERMINATORS, True),))
        if char == "\\":
            return self.escape(in_class=False)
        if char in "*+?":
            raise self.fail(f"{char!r} has nothing to repeat; write \\{char} for the character")
        if char in "^$":
            raise self.fail(
                f"anchors are implied (the whole value must match); write \\{char} for the character"
            )
        if char in "]{}":
            raise self.fail(f"{char!r} must be escaped as \\{char}")
        return _literal(char)

    def escape(self, in_class: bool) -> CharSet:
        if self.peek() is None:
            raise self.fail("the pattern ends with a lone backslash")
        char = self.take()
        if char in _CLASS_ESCAPES:
            return CharSet((_CLASS_ESCAPES[char],))
        if char in _CONTROL_ESCAPES:
            return _literal(_CONTROL_ESCAPES[char])
        if char in _IDENTITY_ESCAPES or (in_class and char == "-"):
            return _literal(char)
        raise self.fail(
            f"the escape \\{char} is not supported (supported: \\d \\D \\w \\W \\s \\S \\t \\n \\r \\f "
            "\\v and a backslash before a syntax character)"
        )

    def char_class(self) -> CharSet:
        negated = self.peek() == "^"
        if negated:
            self.take()
        parts: list[tuple[Ranges, bool]] = []
        first = True
        while True:
            char = self.peek()
            if char is None:
                raise self.fail("a character class is not closed with ']'")
            if char == "]":
                if first:
                    raise self.fail("a character class must not be empty; write \\] for the character")
                self.take()
                return CharSet(tuple(parts), negated)
            start = self.single(first)
            if self.peek() == "-" and self.source[self.at + 1 : self.at + 2] not in ("]", ""):
                self.take()
                if self.peek() == "-":
                    raise self.fail("a range cannot end with '-'; write \\- for the character")
                end = self.single(False)
                low, high = _only_char(start), _only_char(end)
                if low is None or high is None:
                    raise self.fail("a range's ends must be single characters, not \\d \\w \\s classes")
                if low > high:
                    raise self.fail(f"range {chr(low)!r}-{chr(high)!r} is out of order")
                parts.append((((low, high),), False))
            else:
                parts.extend(start.parts)
            first = False

    def single(self, first: bool) -> CharSet:
        char = self.take()
        if char == "\\":
            return self.escape(in_class=True)
        if char == "[":
            raise self.fail("'[' inside a character class must be escaped as \\[")
        if char == "-" and not first and self.peek() != "]":
            raise self.fail(
                "'-' inside a class is a range; write \\- (or put it first or last) for the character"
            )
        if char in "&~|" and self.peek() == char:
            # Python reserves doubled &&, ~~, || in classes for future set operations.
            raise self.fail(f"{char * 2!r} inside a class must be written with a backslash: \\{char}\\{char}")
        return _literal(char)


def _literal(char: str) -> CharSet:
    code = ord(char)
    return CharSet(((((code, code),), False),))


def _only_char(charset: CharSet) -> int | None:
    if len(charset.parts) != 1 or charset.negated:
        return None
    ranges, negate = charset.parts[0]
    if negate or len(ranges) != 1 or ranges[0][0] != ranges[0][1]:
        return None
    return ranges[0][0]


@dataclass(frozen=True)
class Pattern:
    """A compiled pattern: a Thompson NFA of character states joined by epsilon edges."""

    source: str
    sets: tuple[CharSet, ...]  # character state i tests sets[i]
    after: tuple[int, ...]  # character state i -> the node reached once it matched
    epsilon: tuple[tuple[int, ...], ...]  # node -> nodes reachable without reading
    char_of: tuple[int, ...]  # node -> its character state, or -1
    start: int
    accept: int

    def matches(self, value: str) -> bool:
        """Whether the whole of ``value`` matches; PatternTooCostly beyond the step budget.

        Each character visits every node at most once (a seen set per step), so a check costs at
        most (len(value) + 1) x nodes steps, whatever the pattern.
        """
        current, accepting, steps = self._closure([self.start])
        for char in value:
            if not current:
                return False
            code = ord(char)
            current, accepting, visited = self._closure(
                [self.after[s] for s in current if self.sets[s].contains(code)]
            )
            steps += visited + len(current)
            # One closure visits each node at most once, so checking between characters suffices.
            if steps > STEP_BUDGET:
                raise PatternTooCostly(
                    f"checking a value of {len(value)} characters against pattern {self.source!r} "
                    f"needs more than {STEP_BUDGET} steps; the requester should simplify the pattern"
                )
        return accepting

    def _closure(self, nodes: list[int]) -> tuple[list[int], bool, int]:
        """The character states reachable from ``nodes``, whether accept is, and the nodes visited."""
        seen = set(nodes)
        stack = list(reversed(nodes))
        states: list[int] = []
        accepting = False
        visited = 0
        while stack:
            node = stack.pop()
            visited += 1
            if node == self.accept:
                accepting = True
            state = self.char_of[node]
            if state >= 0:
                states.append(state)
                continue
            for successor in self.epsilon[node]:
                if successor not in seen:
                    seen.add(successor)
                    stack.append(successor)
        return states, accepting, visited


def compile_pattern(source: str) -> Pattern:
    """Parse ``source`` (the subset above) into a Pattern, or raise InvalidPattern saying why."""
    if not source:
        raise InvalidPattern("a pattern must not be empty")
    if len(source) > MAX_PATTERN_LENGTH:
        raise InvalidPattern(f"a pattern has at most {MAX_PATTERN_LENGTH} characters, got {len(source)}")
    parser = _Parser(source)
    tree = parser.alternation()
    if parser.peek() is not None:
        raise parser.fail("')' closes no group; write \\) for the character")
    return _Builder(source).build(tree)


class _Builder:
    """Thompson construction: character states plus epsilon edges, then closures precomputed."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sets: list[CharSet] = []
        self.next: list[int] = []  # character state -> the node it goes to once matched
        self.epsilon: list[list[int]] = []  # node -> epsilon successors (nodes are ids >= 0)
        self.char_of: list[int | None] = []  # node -> character state it is, if any

    def node(self) -> int:
        self.epsilon.append([])
        self.char_of.append(None)
        return len(self.epsilon) - 1

    def build(self, tree: Node) -> Pattern:
        start = self.node()
        accept = self.node()
        self.emit(tree, start, accept)
        return Pattern(
            self.source,
            tuple(self.sets),
            tuple(self.next),
            tuple(tuple(edges) for edges in self.epsilon),
            tuple(-1 if state is None else state for state in self.char_of),
            start,
            accept,
        )

    def emit(self, tree: Node, entry: int, exit_: int) -> None:
        """Add the automaton for ``tree`` running from node ``entry`` to node ``exit_``."""
        if isinstance(tree, CharSet):
            if len(self.sets) >= MAX_STATES:
                raise InvalidPattern(
                    f"pattern {self.source!r} is too large once its repetitions are expanded "
                    f"(over {MAX_STATES} character positions)"
                )
            char_node = self.node()
            self.char_of[char_node] = len(self.sets)
            self.sets.append(tree)
            self.next.append(exit_)
            self.epsilon[entry].append(char_node)
            return
        kind = tree[0]
        if kind == "seq":
            parts = tree[1:]
            at = entry
            for index, part in enumerate(parts):
                to = exit_ if index == len(parts) - 1 else self.node()
                self.emit(_node(part), at, to)
                at = to
            if not parts:
                self.epsilon[entry].append(exit_)
            return
        if kind == "alt":
            for branch in tree[1:]:
                self.emit(_node(branch), entry, exit_)
            return
        _, atom, low, high = tree
        assert isinstance(low, int)
        item = _node(atom)
        at = entry
        for _ in range(low):
            to = self.node()
            self.emit(item, at, to)
            at = to
        if high is None:
            # A loop node: zero or more further copies, re-entering itself.
            loop = self.node()
            self.epsilon[at].append(loop)
            self.emit(item, loop, loop)
            self.epsilon[loop].append(exit_)
            return
        assert isinstance(high, int)
        for _ in range(high - low):
            to = self.node()
            self.epsilon[at].append(exit_)
            self.emit(item, at, to)
            at = to
        self.epsilon[at].append(exit_)


def _node(value: object) -> Node:
    assert isinstance(value, CharSet | tuple)
    return value
