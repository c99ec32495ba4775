"""A record's stored form: the cost line's direct serializer writes exactly what the general path does.

The payload text and its hash decide whether a record changed; a serializer that wrote one character
differently would turn every stored cost line into a "change" at the next sync.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pmsync.model import CostLine, FieldChange, SourceRef
from pmsync.store import to_row
from pmsync.store.cost_groups import facts_of_document
from pmsync.store.payload import _cost_line_json, canonical_json

#: any text, control characters, quotes, backslashes, U+2028 and astral characters included
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
optional_texts = st.none() | texts
amounts = st.decimals(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [Decimal("-0"), Decimal("1E+3"), Decimal("0.10"), Decimal("-1234.500"), Decimal("1e-30")]
)
days = st.none() | st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
integers = st.none() | st.integers(min_value=-(2**70), max_value=2**70) | st.booleans()


def _general(line: CostLine) -> str:
    return canonical_json(line.model_dump(mode="json"))


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "source": st.fixed_dictionaries({"system": texts, "instance": texts, "external_id": texts}),
            "kind": st.sampled_from(["budget", "actual", "commitment", "forecast"]),
            "amount": amounts,
            "currency": texts,
            "period": days,
            "posting_date": days,
            "fiscal_year": integers,
            "fiscal_period": integers,
            "project": optional_texts,
            "scope": texts,
            "url": optional_texts,
            "project_code": optional_texts,
            "account": optional_texts,
            "category": optional_texts,
            "vendor": optional_texts,
            "po_number": optional_texts,
            "task_code": optional_texts,
            "description": optional_texts,
        }
    )
)
def test_the_direct_cost_line_json_is_the_general_one(fields):
    try:
        line = CostLine.model_validate(fields)
    except ValidationError:
        return
    assert _cost_line_json(line) == _general(line)
    row = to_row(line)
    assert row.payload.text == _general(line)
    # what the writer's cost totals read of the line, taken from the line, is what its document says
    assert row.facts == facts_of_document(json.loads(row.payload.text), row.project)


def _line(**extra: object) -> CostLine:
    fields: dict[str, object] = {
        "source": SourceRef(system="finance_file", instance="fin", external_id="P-1/actual/2025-07/ab"),
        "kind": "actual",
        "amount": Decimal("12.50"),
        "period": date(2025, 7, 1),
        **extra,
    }
    return CostLine.model_validate(fields)


def test_moments_and_history_take_the_general_path():
    moment = datetime(2025, 7, 3, 12, 0, tzinfo=UTC)
    for line in (
        _line(source_modified=moment),
        _line(created_at=moment),
        _line(history=(FieldChange(at=moment, field="amount", before="1"),)),
    ):
        assert _cost_line_json(line) is None
        assert to_row(line).payload.text == _general(line)
        assert to_row(line).facts is None  # the writer reads them from the document


def test_unvalidated_values_take_the_general_path():
    # model_construct skips validation: a float amount or a text year is not what the direct
    # serializer writes, so it leaves them to pydantic
    for odd in ({"amount": 1.5}, {"fiscal_year": "2025"}, {"period": datetime(2025, 7, 1)}, {"vendor": 5}):
        line = _line().model_copy(update=odd)
        assert _cost_line_json(line) is None, odd


def test_a_subclass_takes_the_general_path():
    class TaggedLine(CostLine):
        tag: str = "x"

    line = TaggedLine.model_validate(_line().model_dump())
    assert to_row(line).payload.text == _general(line)
    assert '"tag":"x"' in to_row(line).payload.text
