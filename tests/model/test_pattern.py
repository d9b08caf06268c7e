"""Column patterns: the supported subset, its meaning, and matching in bounded steps."""

from __future__ import annotations

import re
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.model.errors import InvalidPattern, PatternTooCostly
from crowdfill.model.pattern import MAX_PATTERN_LENGTH, compile_pattern
from tests.model.patterns import Rendered, patterns, values


@given(patterns, st.lists(values, min_size=1, max_size=8))
@settings(max_examples=400, deadline=None)
def test_the_engine_agrees_with_pythons_re_on_random_patterns_of_the_subset(
    pattern: Rendered, texts: list[str]
) -> None:
    compiled = compile_pattern(pattern.source)
    oracle = re.compile(pattern.oracle)
    for text in texts:
        assert compiled.matches(text) == (oracle.fullmatch(text) is not None), (pattern, text)


@given(
    st.text(alphabet="ab1_ -\\.*+?()[]{}|^$dws,:=!<", min_size=1, max_size=12),
    st.lists(st.text("ab1_ -\t", max_size=8), max_size=6),
)
@settings(max_examples=600, deadline=None)
def test_any_pattern_the_engine_accepts_compiles_in_python_and_means_the_same_there(
    source: str, texts: list[str]
) -> None:
    try:
        compiled = compile_pattern(source)
    except InvalidPattern:
        return
    # On ASCII text without \r or \n the subset's \d \w \s and "." are Python's under re.ASCII;
    # Python's FutureWarnings (reserved syntax) would be errors here, so they must not arise.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        oracle = re.compile(source, re.ASCII)
    for text in texts:
        assert compiled.matches(text) == (oracle.fullmatch(text) is not None), (source, text)


MEANINGS = [
    # \d and \w are ASCII only, as in JavaScript (Python's \d also takes Arabic-Indic digits).
    (r"\d+", "2024", True),
    (r"\d", "\u0663", False),
    (r"\w+", "abc_9", True),
    (r"\w", "é", False),
    # \s is JavaScript's whitespace: it takes a no-break space and a byte-order mark, not \x1c.
    (r"a\sb", "a\u00a0b", True),
    (r"a\sb", "a\ufeffb", True),
    (r"a\sb", "a\x1cb", False),
    # "." stops at every JavaScript line terminator.
    (".", "\r", False),
    (".", "\u2028", False),
    (".", "é", True),
    # The whole value must match.
    ("ab", "xaby", False),
    ("a|ab", "ab", True),
    (r"[A-Z]{2}-\d{3}", "AB-123", True),
    (r"[A-Z]{2}-\d{3}", "AB-1234", False),
    (r"[^0-9]+", "abc", True),
    (r"[^0-9]+", "ab1", False),
    (r"[a\-z]", "-", True),
    (r"[-a]", "-", True),
    (r"(?:ab){2,}", "ababab", True),
    (r"x{0}", "", True),
    (r"\.\*\/", ".*/", True),
]


@pytest.mark.parametrize(("source", "text", "expected"), MEANINGS)
def test_the_subset_means_what_the_protocol_documents(source: str, text: str, expected: bool) -> None:
    assert compile_pattern(source).matches(text) is expected


REFUSED = [
    ("", "empty"),
    ("a" * (MAX_PATTERN_LENGTH + 1), "at most"),
    ("^abc", "anchors are implied"),
    ("abc$", "anchors are implied"),
    (r"(a)\1", r"escape \1"),
    ("(?=a)a", "lookaround"),
    ("(?<!a)b", "lookaround"),
    ("(?P<x>a)", "named groups"),
    ("(?i)a", "flags"),
    ("a*?", "cannot follow another"),
    ("a{2}{3}", "cannot follow another"),
    ("a++", "cannot follow another"),
    ("*a", "nothing to repeat"),
    ("a|+", "nothing to repeat"),
    ("a{,3}", "quantifier"),
    ("a{3,2}", "minimum above its maximum"),
    ("a{101}", "at most 100"),
    ("a{1000}", "at most 100"),
    ("a{2", "not closed"),
    ("(ab", "not closed"),
    ("ab)", "closes no group"),
    ("a]", "escaped"),
    ("a}", "escaped"),
    ("[]", "must not be empty"),
    ("[^]", "must not be empty"),
    ("[abc", "not closed"),
    ("[z-a]", "out of order"),
    (r"[\d-z]", "single characters"),
    ("[a-z-0]", "range"),
    ("[!--]", "cannot end with '-'"),
    ("[[a]", "must be escaped"),
    ("[a&&b]", "backslash"),
    (r"\b", r"escape \b"),
    (r"\p{L}", r"escape \p"),
    (r"\x41", r"escape \x"),
    (r"\u0041", r"escape \u"),
    ("a\\", "lone backslash"),
    ("(?:(?:a{20}){20}){20}", "too large"),
]


@pytest.mark.parametrize(("source", "reason"), REFUSED)
def test_a_pattern_outside_the_subset_is_refused_with_a_reason(source: str, reason: str) -> None:
    with pytest.raises(InvalidPattern, match=re.escape(reason)) as refused:
        compile_pattern(source)
    assert refused.value.code == "invalid_pattern"


def test_a_catastrophic_backtracking_pattern_is_checked_in_bounded_steps() -> None:
    # (a+)+ followed by a mismatch is exponential for a backtracking engine; here it is one pass.
    compiled = compile_pattern("(a+)+")
    assert compiled.matches("a" * 1000) is True
    assert compiled.matches("a" * 999 + "!") is False
    assert compile_pattern("(a|a)*b").matches("a" * 999) is False


def test_a_check_that_would_take_too_many_steps_is_refused_deterministically() -> None:
    # Every character can be read by each of the hundred loops, so every one of them stays live.
    compiled = compile_pattern("(?:a*){100}")
    outcomes = set()
    for _ in range(2):
        with pytest.raises(PatternTooCostly, match="steps") as refused:
            compiled.matches("a" * 1000)
        outcomes.add(refused.value.message)
    assert len(outcomes) == 1
    # A short value of the same pattern stays within the budget.
    assert compiled.matches("a" * 10) is True
