"""Template classes and the lookup of the classes a row can serve."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crowdfill.central_client.template_index import TemplateIndex
from crowdfill.model import Column, Schema, Template, values_from_mapping

SCHEMA = Schema(tuple(Column(name) for name in "abcdefghijklmnop"), ("a",))


def test_identical_template_rows_form_one_class_with_all_their_positions() -> None:
    template = Template.define(SCHEMA, [{"b": "x"}, {}, {"b": "x"}, {}, {}])

    index = TemplateIndex(SCHEMA, template)

    assert [c.positions for c in index] == [(0, 2), (1, 3, 4)]


def test_a_row_fixing_the_key_knows_its_group() -> None:
    index = TemplateIndex(SCHEMA, Template.define(SCHEMA, [{"a": "1", "b": "x"}, {"b": "x"}]))

    assert index.classes[0].key_group == ("key", ("1",))
    assert index.class_fixing(("key", ("1",))) == 0
    assert index.classes[1].key_group is None
    assert index.key_fixing(0)
    assert not index.key_fixing(1)


row_maps = st.dictionaries(st.sampled_from("abcdefghijklmnop"), st.sampled_from(("x", "y")), max_size=16)


@given(template_rows=st.lists(row_maps, max_size=8), row=row_maps)
def test_the_classes_within_a_row_are_exactly_the_template_rows_it_contains(
    template_rows: list[dict[str, str]], row: dict[str, str]
) -> None:
    template = Template(tuple(values_from_mapping(r) for r in template_rows))
    index = TemplateIndex(SCHEMA, template)
    values = values_from_mapping(row)

    found = index.classes_within(values)

    assert found == {c.index for c in index if c.values <= values}
