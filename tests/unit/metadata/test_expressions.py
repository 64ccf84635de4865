import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from propolis.metadata.expressions import (
    CompiledExpression,
    ExpressionError,
    compile_expression,
    evaluate_rule,
    to_decimal_places,
)

UTC = dt.UTC
SHANGHAI = ZoneInfo("Asia/Shanghai")


def ev(source: str, **variables: Any) -> Any:
    return compile_expression(source).evaluate(variables)


def rule(source: str, **variables: Any) -> bool:
    return evaluate_rule(compile_expression(source), variables)


# --- arithmetic ---------------------------------------------------------------


def test_decimal_literals_are_exact() -> None:
    assert ev("0.1 + 0.2 == 0.3") is True
    assert ev("0.1 + 0.2") == Decimal("0.3")


def test_price_times_literal_keeps_decimal_scale() -> None:
    result = ev("price * 1.1", price=Decimal("10.00"))
    assert type(result) is Decimal
    assert result == Decimal("11.000")
    assert str(result) == "11.000"


def test_int_and_decimal_mix_without_casts() -> None:
    assert ev("qty * price", qty=3, price=Decimal("2.50")) == Decimal("7.50")
    assert type(ev("qty * 2", qty=4)) is Decimal
    assert ev("qty * 2", qty=4) == 8
    assert ev("1.5 * 2") == Decimal("3.0")
    assert ev("amount / 3", amount=Decimal("9")) == 3
    assert ev("7 / 2") == Decimal("3.5")  # not CEL's truncating int division
    assert ev("7 % 3") == 1
    assert ev("10 - 2.5 + -1") == Decimal("6.5")


def test_float_inputs_become_their_shortest_decimal() -> None:
    assert ev("x + 0.2 == 0.3", x=0.1) is True


def test_numbers_compare_across_int_and_decimal() -> None:
    assert ev("total > 5000", total=Decimal("5000.01")) is True
    assert ev("total > 5000", total=Decimal("5000.00")) is False
    assert ev("total >= 5000", total=5000) is True
    assert ev("qty == 2.0", qty=2) is True


def test_division_by_zero_is_null() -> None:
    assert ev("amount / qty", amount=Decimal("10"), qty=0) is None
    assert ev("amount % 0", amount=Decimal("10")) is None


@pytest.mark.parametrize("op", ["*", "/", "%"])
def test_multiplicative_operators_take_numbers_and_pass_nulls_on(op: str) -> None:
    assert ev(f"amount {op} qty", amount=None, qty=2) is None
    assert ev(f"amount {op} qty", amount=Decimal("3"), qty=None) is None
    with pytest.raises(ExpressionError) as caught:
        ev(f"name {op} 2", name="a")
    assert f"operator '{op}' cannot be applied" in str(caught.value)


def test_int_result_is_not_a_bool_and_bool_is_not_a_number() -> None:
    with pytest.raises(ExpressionError):
        ev("flag + 1", flag=True)
    assert ev("flag == 1", flag=True) is False


# --- null propagation ----------------------------------------------------------


def test_null_propagates_through_arithmetic_and_functions() -> None:
    assert ev("qty * price", qty=None, price=Decimal("2")) is None
    assert ev("qty * price", price=Decimal("2")) is None  # unknown -> null
    assert ev("-qty") is None
    assert ev("size(name)") is None
    assert ev("name.startsWith('a')") is None
    assert ev("date(created_at)") is None
    assert ev("total > 5000") is None
    assert ev("area.city") is None
    assert ev("items[0]") is None


def test_null_comparisons_with_null_literal() -> None:
    assert ev("x == null") is True
    assert ev("x != null") is False
    assert ev("x == null", x=Decimal("1")) is False
    assert ev("x != null", x="") is True


def test_null_counts_as_false_in_boolean_positions() -> None:
    assert ev("x || false") is False
    assert ev("x || true") is True
    assert ev("x && true") is False
    assert ev("!x") is True
    assert ev("x ? 'yes' : 'no'") == "no"


def test_short_circuit_skips_the_failing_side() -> None:
    # The right side would be a type error; it must not be evaluated.
    assert ev("true || 'a' * 2") is True
    assert ev("false && 'a' * 2") is False
    assert ev("ok ? 1 : 'a' * 2", ok=True) == 1
    # CEL absorbs an error on the left when the right decides the result.
    assert ev("'a' * 2 > 1 || true") is True
    with pytest.raises(ExpressionError):
        ev("'a' * 2 > 1 || false")


def test_unknown_variable_is_null() -> None:
    assert ev("missing") is None
    assert ev("missing == null") is True


# --- validation rules ------------------------------------------------------------

CLOSE_RULE = "close_date == null || close_date >= date(created_at)"


def test_close_date_rule_passes_and_fails() -> None:
    created = dt.datetime(2024, 3, 10, 9, 0, tzinfo=SHANGHAI)
    assert rule(CLOSE_RULE, close_date=dt.date(2024, 3, 10), created_at=created)
    assert rule(CLOSE_RULE, close_date=None, created_at=created)
    assert not rule(CLOSE_RULE, close_date=dt.date(2024, 3, 9), created_at=created)


def test_date_of_aware_datetime_uses_evaluator_time_zone() -> None:
    # 20:00 UTC on the 1st is already the 2nd in Shanghai.
    created = dt.datetime(2024, 1, 1, 20, 0, tzinfo=UTC)
    expr = compile_expression("date(created_at)")
    assert expr.evaluate({"created_at": created}) == dt.date(2024, 1, 2)
    assert expr.evaluate({"created_at": created}, tz="UTC") == dt.date(2024, 1, 1)
    assert not rule(CLOSE_RULE, close_date=dt.date(2024, 1, 1), created_at=created)


def test_evaluate_rule_null_passes_and_non_bool_is_an_error() -> None:
    assert rule("total > 5000") is True  # total empty -> null -> passes
    assert rule("total > 5000", total=Decimal("10")) is False
    assert rule("total > 5000", total=Decimal("5001")) is True
    with pytest.raises(ExpressionError, match="boolean"):
        rule("total", total=Decimal("1"))


# --- formulas over table rows -----------------------------------------------------

ROWS = [
    {"qty": 2, "price": Decimal("10.50")},
    {"qty": Decimal("1.5"), "price": 4},
    {"qty": None, "price": Decimal("99")},
]


def test_sum_of_map_over_table_rows() -> None:
    result = ev("sum(items.map(i, i.qty * i.price))", items=ROWS)
    assert result == Decimal("27.00")
    assert type(result) is Decimal


def test_sum_skips_nulls_and_empty_list_is_zero() -> None:
    assert ev("sum(xs)", xs=[1, None, Decimal("2.5")]) == Decimal("3.5")
    assert ev("sum(xs)", xs=[]) == 0
    assert ev("sum(xs)") is None
    with pytest.raises(ExpressionError):
        ev("sum(xs)", xs=["a"])


def test_macros_filter_all_exists() -> None:
    assert ev("items.filter(i, i.qty > 1).map(i, i.price)", items=ROWS) == [
        Decimal("10.50"),
        Decimal("4"),
    ]
    assert ev("items.all(i, i.price > 0)", items=ROWS) is True
    assert ev("items.all(i, i.price > 5)", items=ROWS) is False
    assert ev("items.exists(i, i.price == 99)", items=ROWS) is True
    assert ev("items.exists(i, i.price > 100)", items=ROWS) is False
    assert ev("tags.exists_one(t, t == 'vip')", tags=["vip", "new"]) is True
    assert ev("items.map(i, i.qty != null, i.qty)", items=ROWS) == [2, Decimal("1.5")]


def test_macros_nest_and_loop_variable_shadows_a_field() -> None:
    rows = [{"tags": ["a", "b"]}, {"tags": ["c"]}]
    assert ev("rows.map(r, r.tags.exists(t, t == 'c'))", rows=rows) == [False, True]
    assert ev("xs.map(x, x * 2)", xs=[1, 2], x=Decimal("100")) == [2, 4]
    assert ev("xs.map(x, x * 2) + [x]", xs=[1], x=Decimal("100")) == [2, 100]


def test_lists_maps_in_and_indexing() -> None:
    assert ev("status in ['open', 'won']", status="won") is True
    assert ev("status in ['open', 'won']", status="lost") is False
    assert ev("'city' in area", area={"city": "Hangzhou"}) is True
    assert ev("area.city", area={"city": "Hangzhou"}) == "Hangzhou"
    assert ev("area['city']", area={"city": "Hangzhou"}) == "Hangzhou"
    assert ev("items[1].price", items=ROWS) == 4
    assert ev("items[9].price", items=ROWS) is None
    assert ev("{'a': 1, 'b': 2}.b") == 2
    assert ev("[1, 2] + [3]") == [1, 2, 3]
    assert ev("2 in tags", tags=[1, 2]) is True


# --- functions --------------------------------------------------------------------


def test_string_functions() -> None:
    name = "Acme Trading Ltd"
    assert ev("name.contains('Trading')", name=name) is True
    assert ev("name.startsWith('Acme')", name=name) is True
    assert ev("name.endsWith('Inc')", name=name) is False
    assert ev("phone.matches('^1[0-9]{10}$')", phone="13800138000") is True
    assert ev("phone.matches('^1[0-9]{10}$')", phone="12345") is False
    assert ev("size(name)", name=name) == 16
    assert ev("name.size()", name=name) == 16
    assert ev("size(tags)", tags=["a", "b"]) == 2
    assert ev("'No. ' + string(n)", n=7) == "No. 7"
    assert ev("'line\\n' + r'\\n'") == "line\n\\n"


def test_matches_runs_in_linear_time_on_a_catastrophic_pattern() -> None:
    # Python's re takes seconds at 26 characters and doubles per character
    text = "a" * 100_000 + "!"
    assert ev("text.matches('(a+)+$')", text=text) is False
    assert ev("text.matches('(a+)+!$')", text=text) is True
    assert ev("matches(text, pattern)", text=text, pattern="(a|aa)+$") is False


def test_a_literal_pattern_re2_refuses_does_not_compile() -> None:
    for pattern in (r"(a)\\1", "(?=a)", "[a-"):
        with pytest.raises(ExpressionError, match="not supported") as info:
            compile_expression(f"name.matches('{pattern}')")
        assert "RE2" in info.value.message


def test_a_pattern_from_a_field_that_re2_refuses_fails_at_run_time() -> None:
    compiled = compile_expression("name.matches(pattern)")
    assert compiled.evaluate({"name": "aa", "pattern": "(a)a"}) is True
    with pytest.raises(ExpressionError, match="lookaround"):
        compiled.evaluate({"name": "aa", "pattern": "a(?!b)"})


STAGES = {"stage": {"proposal": {"probability": 60, "closed": False},
                   "won": {"probability": 100, "closed": True, "won": True},
                   "lost": {"closed": True}},
          "tags": {"vip": {"weight": 2.5}, "new": {}}}


def test_option_reads_the_attribute_of_the_current_option() -> None:
    probability = compile_expression("option(stage, 'probability')")
    assert probability.option_references == {("stage", "probability")}
    assert probability.references == {"stage"}
    assert probability.evaluate({"stage": "proposal"}, options=STAGES) == 60
    assert type(probability.evaluate({"stage": "won"}, options=STAGES)) is Decimal
    # empty field, an option without the attribute, an unknown value: null
    for stage in (None, "lost", "archived"):
        assert probability.evaluate({"stage": stage}, options=STAGES) is None
    assert probability.evaluate({"stage": "won"}) is None  # no table given
    assert rule("!option(stage, 'closed')", stage="proposal") is True
    closed = compile_expression("!option(stage, 'closed')")
    assert evaluate_rule(closed, {"stage": "won"}, options=STAGES) is False
    weight = compile_expression("sum(option(tags, 'weight'))")
    assert weight.evaluate({"tags": ["vip", "new"]}, options=STAGES) == Decimal("2.5")


def test_conversions() -> None:
    assert ev("int(x)", x=Decimal("3.9")) == 3
    assert ev("int(x)", x=Decimal("-3.9")) == -3
    assert ev("int('42')") == 42
    assert ev("double('1.25') * 2") == Decimal("2.50")
    assert type(ev("double(2)")) is Decimal
    assert ev("string(1e3)") == "1000"
    assert ev("string(true)") == "true"
    assert ev("string(d)", d=dt.date(2024, 5, 1)) == "2024-05-01"
    with pytest.raises(ExpressionError, match="int"):
        ev("int('abc')")


def test_days_between_dates_datetimes_and_strings() -> None:
    assert ev("days_between(a, b)", a=dt.date(2024, 1, 1), b=dt.date(2024, 3, 1)) == 60
    assert ev("days_between(b, a)", a=dt.date(2024, 1, 1), b=dt.date(2024, 1, 4)) == -3
    start = dt.datetime(2024, 1, 1, 23, 0, tzinfo=SHANGHAI)
    end = dt.datetime(2024, 1, 2, 1, 0, tzinfo=SHANGHAI)
    assert ev("days_between(s, e)", s=start, e=end) == 1  # calendar days
    assert ev("days_between('2024-01-01', d)", d=dt.date(2024, 1, 31)) == 30
    assert ev("days_between(a, b)", a=dt.date(2024, 1, 1)) is None


def test_today_and_now_use_the_given_time_zone() -> None:
    expr = compile_expression("today()")
    for name in ("Pacific/Kiritimati", "Etc/GMT+12", "Asia/Shanghai"):
        zone = ZoneInfo(name)
        before = dt.datetime.now(zone).date()
        result = expr.evaluate({}, tz=name)
        after = dt.datetime.now(zone).date()
        assert result in (before, after)
    # UTC+14 and UTC-12 are 26 hours apart: their dates always differ.
    assert expr.evaluate({}, tz="Pacific/Kiritimati") != expr.evaluate(
        {}, tz="Etc/GMT+12"
    )
    now = ev("now()")
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(hours=8)
    # A tzinfo object works as well as a name.
    before = dt.datetime.now(UTC).date()
    assert expr.evaluate({}, tz=UTC) in (before, dt.datetime.now(UTC).date())


def test_date_comparisons_and_day_shifts() -> None:
    d = dt.date(2024, 2, 28)
    assert ev("d + 2", d=d) == dt.date(2024, 3, 1)
    assert ev("d - 28 == date('2024-01-31')", d=d) is True
    assert ev("date('2024-01-01T23:30:00Z') == date('2024-01-02')") is True
    assert ev("t < t2", t=dt.time(9, 0), t2=dt.time(17, 30)) is True
    with pytest.raises(ExpressionError, match="date"):
        ev("d < now()", d=d)


# --- errors -----------------------------------------------------------------------


def test_syntax_error_has_message_and_position() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression("qty * ")
    assert "syntax error" in str(info.value)
    assert info.value.line == 1
    assert info.value.column is not None and info.value.column >= 5
    with pytest.raises(ExpressionError, match=r"column 5: unexpected 'price'"):
        compile_expression("qty price")
    with pytest.raises(ExpressionError, match="empty"):
        compile_expression("  ")


def test_compile_rejects_unknown_functions_and_bad_arity() -> None:
    with pytest.raises(ExpressionError, match="unknown function 'eval'"):
        compile_expression("eval('1')")
    with pytest.raises(ExpressionError, match="size"):
        compile_expression("size(a, b)")
    with pytest.raises(ExpressionError, match="variable name"):
        compile_expression("items.map(1, 2)")


def test_runtime_type_error() -> None:
    with pytest.raises(ExpressionError, match=r"'\*'.*string and number"):
        ev('"a" * 2')
    with pytest.raises(ExpressionError):
        ev("name * 2", name="x")
    with pytest.raises(ExpressionError):
        ev("1 < 'a'")
    with pytest.raises(ExpressionError):
        ev("n.field", n=Decimal("1"))


# --- references -------------------------------------------------------------------


def test_references_and_member_references() -> None:
    expr = compile_expression("sum(items.map(i, i.qty * i.price))")
    assert isinstance(expr, CompiledExpression)
    assert expr.references == {"items"}
    assert expr.member_references == {"items": {"qty", "price"}}


def test_references_cover_nested_macros_selection_and_shadowing() -> None:
    expr = compile_expression(
        "items.filter(i, i.qty > min_qty).map(j, j['price']).size() > 0"
        " && area.city == 'Hangzhou' && today() > close_date"
    )
    assert expr.references == {"items", "min_qty", "area", "close_date"}
    assert expr.member_references == {
        "items": {"qty", "price"},
        "area": {"city"},
    }
    assert compile_expression("qty * price").member_references == {}
    # The loop variable is not a reference even when a field has its name.
    assert compile_expression("xs.all(x, x > 0)").references == {"xs"}


def test_compile_is_cached() -> None:
    assert compile_expression("a + b") is compile_expression("a + b")


# --- rounding ---------------------------------------------------------------------


def test_to_decimal_places_rounds_half_up() -> None:
    assert to_decimal_places(Decimal("2.345"), 2) == Decimal("2.35")
    assert str(to_decimal_places(Decimal("2.344"), 2)) == "2.34"
    assert to_decimal_places(Decimal("-2.345"), 2) == Decimal("-2.35")
    assert str(to_decimal_places(Decimal("11.000"), 2)) == "11.00"
    assert to_decimal_places(5, 2) == Decimal("5.00")
    assert to_decimal_places(None, 2) is None
    big = Decimal("123456789012345678901234567890.125")
    assert to_decimal_places(big, 2) == Decimal("123456789012345678901234567890.13")
