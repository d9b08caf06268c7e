"""Random patterns of the supported subset, rendered both as themselves and as a Python ``re`` oracle.

The oracle spells out what the subset means (ASCII \\d and \\w, JavaScript's \\s and ``.``) with
explicit classes, so Python's ``re.fullmatch`` can check the engine on any string.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

_JS_SPACE = "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_ORACLE_ESCAPES = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[0-9A-Z_a-z]",
    "W": "[^0-9A-Z_a-z]",
    "s": f"[{_JS_SPACE}]",
    "S": f"[^{_JS_SPACE}]",
}
_IN_CLASS_ORACLE = {"d": "0-9", "w": "0-9A-Z_a-z", "s": _JS_SPACE}
SYNTAX = set("^$\\.*+?()[]{}|/")

# Characters the strings are drawn from: the pattern literals plus look-alikes that tell the
# subset's meaning apart from Python's defaults (a non-ASCII digit, a no-break space, \r).
ALPHABET = "ab1_ -.\n\r\u00a0\u0663\u2028é"


@dataclass(frozen=True)
class Rendered:
    source: str  # the pattern as a requester writes it
    oracle: str  # the same language for Python's re


def _pair(source: str, oracle: str) -> Rendered:
    return Rendered(source, oracle)


def _literal(char: str) -> Rendered:
    text = "\\" + char if char in SYNTAX else char
    return _pair(text, text)


_class_item = st.one_of(
    st.sampled_from("ab1_é").map(lambda c: (c, c)),
    st.sampled_from(["a-c", "0-9", "_-a"]).map(lambda r: (r, r)),
    st.sampled_from(["\\-", "\\]", "\\.", "\\\\"]).map(lambda e: (e, e)),
    st.sampled_from("dws").map(lambda k: ("\\" + k, _IN_CLASS_ORACLE[k])),
)


@st.composite
def _char_class(draw: st.DrawFn) -> Rendered:
    items = draw(st.lists(_class_item, min_size=1, max_size=3))
    negated = draw(st.booleans())
    head = "^" if negated else ""
    return _pair(
        "[" + head + "".join(i[0] for i in items) + "]", "[" + head + "".join(i[1] for i in items) + "]"
    )


_leaf = st.one_of(
    st.sampled_from("ab1 -.é").map(_literal),
    st.sampled_from("dDwWsS").map(lambda k: _pair("\\" + k, _ORACLE_ESCAPES[k])),
    st.just(_pair(".", "[^\\n\\r\\u2028\\u2029]")),
    st.sampled_from("tn").map(lambda k: _pair("\\" + k, "\\" + k)),
    _char_class(),
)

_QUANTIFIERS = ["*", "+", "?", "{2}", "{0,2}", "{1,}", "{0}", "{1,3}"]


def _extend(children: st.SearchStrategy[Rendered]) -> st.SearchStrategy[Rendered]:
    def group(child: Rendered, kind: str) -> Rendered:
        return _pair(kind + child.source + ")", "(?:" + child.oracle + ")")

    def repeat(child: Rendered, quantifier: str) -> Rendered:
        # Quantify a group so the quantifier never follows another one.
        return _pair("(?:" + child.source + ")" + quantifier, "(?:" + child.oracle + ")" + quantifier)

    def join(parts: list[Rendered], separator: str) -> Rendered:
        return _pair(separator.join(p.source for p in parts), separator.join(p.oracle for p in parts))

    return st.one_of(
        st.lists(children, min_size=0, max_size=3).map(lambda ps: join(ps, "")),
        st.lists(children, min_size=2, max_size=3).map(lambda ps: join(ps, "|")),
        st.tuples(children, st.sampled_from(["(", "(?:"])).map(lambda t: group(*t)),
        st.tuples(children, st.sampled_from(_QUANTIFIERS)).map(lambda t: repeat(*t)),
    )


def _non_empty(rendered: Rendered) -> bool:
    return bool(rendered.source) and len(rendered.source) <= 200


patterns = st.recursive(_leaf, _extend, max_leaves=8).filter(_non_empty)
values = st.text(alphabet=ALPHABET, max_size=10)
