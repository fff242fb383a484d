"""One normal form and one unknown-value test for every provider (providers/base/values.py)."""

from __future__ import annotations

import pytest
from pulumi.output import Unknown

from providers import key_inputs
from providers.base import management_resource, values
from providers.base.fields import Kind


def test_the_key_and_the_governance_resources_share_one_normaliser_and_one_unknown_test():
    assert key_inputs.normal_value is management_resource.normal_value is values.normal_value
    assert key_inputs.is_unknown is management_resource.is_unknown is values.is_unknown


@pytest.mark.parametrize(
    "value", [Unknown(), [1, Unknown()], {"a": {"b": Unknown()}}, ({"x": [Unknown()]},)]
)
def test_a_value_holding_an_unknown_anywhere_is_unknown(value):
    assert values.is_unknown(value)


@pytest.mark.parametrize("value", [None, 0, "", [1, "a"], {"a": None}])
def test_a_known_value_is_known(value):
    assert not values.is_unknown(value)


@pytest.mark.parametrize(
    ("left", "right", "kind"),
    [
        (5, 5.0, None),
        (5, 5.0, Kind.USD),
        ({"a": 1, "b": None}, {"a": 1.0}, None),
        ([{"x": 2}], ({"x": 2.0},), None),
        ("2027-06-30T00:00:00Z", "2027-06-30T00:00:00.000+00:00", Kind.TIMESTAMP),
        ("3F2B0C4E-8A1D-4E5F-9B6A-7C8D9E0F1A2B", "3f2b0c4e-8a1d-4e5f-9b6a-7c8d9e0f1a2b", Kind.UUID),
    ],
)
def test_equal_values_have_one_normal_form(left, right, kind):
    assert values.normal_value(left, kind) == values.normal_value(right, kind)


@pytest.mark.parametrize(
    ("left", "right", "kind"),
    [("ABC", "abc", Kind.TEXT), ("a", "b", None), ({"a": 1}, {"a": 2}, None), (1, [1], None)],
)
def test_different_values_stay_different(left, right, kind):
    assert values.normal_value(left, kind) != values.normal_value(right, kind)
