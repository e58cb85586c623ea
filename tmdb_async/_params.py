"""Parameter values as people write them: checked and rendered by their kind before any
request, or parsed from text (the CLI's `name=value`, the query strings FakeTMDB receives).

A parameter's kind comes from `codegen/parameters.toml` and travels on each generated
`PathParam` / `QueryParam` / `BodyParam`: its Python type (`kind`), its list shape (`joins`),
its closed set of values (`choices`) and a `Check` (range, step, pattern...).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

import msgspec

from ._errors import ParameterError
from ._operation import AnyOf, BodyParam, Check, Combination, ParamKind, PathParam, QueryParam

__all__ = ["Param", "format_float", "param_label", "parse_param_text", "render", "render_kind"]

Param = PathParam | QueryParam | BodyParam

_TYPE_WORDS: dict[ParamKind, str] = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "int_or_str": "int or str",
    "date": "a date (datetime.date or 'YYYY-MM-DD')",
    "struct": "a list of Structs",
}
_INT_TEXT = re.compile(r"-?\d+")
_FLOAT_TEXT = re.compile(r"-?\d+(\.\d+)?")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
_ITEM_SEPARATORS = re.compile(r"[,|]")


def format_float(value: float) -> str:
    """Render a float positionally, without trailing zeros: `7.0 -> "7"`, `1e-05 -> "0.00001"`."""
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def param_label(param: Param) -> str:
    """The name a user knows a parameter by: its Python keyword (`vote_count_gte`)."""
    return param.python_name if isinstance(param, QueryParam) else param.name


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _leave_out(param: Param) -> str:
    optional = isinstance(param, QueryParam) and not param.required
    return " (pass None to leave it out)" if optional else ""


def _fail(where: str, expected: str, value: object) -> ParameterError:
    shown = repr(value) if isinstance(value, str) else f"{type(value).__name__} {value!r}"
    return ParameterError(f"{where} must be {expected}, got {shown}")


def _typed_text(kind: ParamKind, value: object, where: str) -> str:
    """The wire text of one value of `kind`; ParameterError if it is not of that type."""
    if isinstance(value, enum.Enum):
        value = value.value
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "int" or kind == "int_or_str":
        if number and isinstance(value, int):
            return str(value)
        if kind == "int_or_str" and isinstance(value, str):
            return value
    elif kind == "float":
        if number:
            assert isinstance(value, (int, float))
            if not math.isfinite(value):
                raise _fail(where, "a finite number", value)
            return format_float(float(value))
    elif kind == "bool":
        if isinstance(value, bool):
            return "true" if value else "false"
    elif kind == "str":
        if isinstance(value, str):
            return value
    elif kind == "date":
        if isinstance(value, dt.datetime):
            raise _fail(where, "a date, not a datetime (pass its .date())", value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            _parse_date(value, where)
            return value
    raise _fail(where, _TYPE_WORDS.get(kind, kind), value)


def _parse_date(text: str, where: str) -> dt.date:
    if _DATE_TEXT.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise _fail(where, "a real date as YYYY-MM-DD", text)


def _checked(param: Param, value: object, text: str, where: str) -> str:
    """`text` if `value` passes the parameter's choices and check, else ParameterError."""
    if param.choices and text not in param.choices:
        raise _fail(where, f"one of {', '.join(param.choices)}", value)
    check = param.check
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, str):
        if check.nonempty and not value.strip():
            raise ParameterError(f"{where} must not be empty{_leave_out(param)}")
        if check.pattern is not None and not _compiled(check.pattern).fullmatch(value):
            raise _fail(where, check.format or f"like {check.example}", value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high, step = check.minimum, check.maximum, check.step
        if (low is not None and value < low) or (high is not None and value > high):
            raise _fail(where, check.format, value)
        if step is not None and not math.isclose(value / step, round(value / step)):
            raise _fail(where, check.format, value)
    return text


def _scalar(param: Param, value: object, where: str) -> str:
    return _checked(param, value, _typed_text(param.kind, value, where), where)


def _item(param: Param, value: object, where: str) -> str:
    if value is None and param.check.null:
        return "null"
    return _scalar(param, value, where)


def _verbatim(param: QueryParam, text: str, where: str) -> str:
    """TMDB's own spelling (`"28|12"`), sent as given once each item passes its checks."""
    if param.joins == "comma" and "|" in text:
        raise _fail(where, "values separated by ',' (TMDB takes no '|' here)", text)
    for piece in _ITEM_SEPARATORS.split(text):
        if not piece.strip():
            raise ParameterError(f"{where} has an empty item in {text!r}")
        _item(param, _parse_item(param, piece.strip(), f"{where} item"), f"{where} item")
    return text


def _list_text(param: QueryParam, value: object, where: str) -> str:
    if isinstance(value, str):
        return _verbatim(param, value, where)
    separator = ","
    if isinstance(value, Combination):
        items, separator = list(value.items), value.separator
        if param.joins == "comma" and isinstance(value, AnyOf):
            raise ParameterError(f"{where} takes a list of values, not AnyOf(...)")
    elif isinstance(value, (set, frozenset)):
        items = sorted(value, key=str)
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        items = list(value)
    else:
        items = [value]
    if not items:
        raise ParameterError(f"{where} must not be empty{_leave_out(param)}")
    if param.joins == "or" and separator == "," and len(items) > 1:
        raise ParameterError(
            f"{where}: a title has only one, so all of {len(items)} values never match;"
            " pass AnyOf(...) for any of them"
        )
    return separator.join(_item(param, item, f"{where} item") for item in items)


def _struct_list(param: BodyParam, value: object, where: str) -> str:
    """The JSON of a list of `param.item_type` Structs, once each field passed its kind."""
    item_type = param.item_type
    assert item_type is not None  # a struct kind always has one (generated)
    expected = f"a list of {item_type.__name__}"
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise _fail(where, expected, value)
    items = list(value)
    if not items and param.check.nonempty:
        raise ParameterError(f"{where} must not be empty")
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        if not isinstance(item, item_type):
            raise _fail(at, f"a {item_type.__name__}", item)
        for field in param.fields:
            field_value = getattr(item, field.name)
            if field_value is not None:
                render(field, field_value, f"{at}.{field.name}")
            elif field.required:
                raise ParameterError(f"{at}.{field.name} is required, got None")
    return msgspec.json.encode(items).decode()


def render(param: Param, value: object, where: str) -> str:
    """TMDB's wire text of `value` for `param`, after every check of its kind.

    Raises ParameterError (the message starts with `where`) when the value is not one the
    parameter takes: the wrong type, out of range, not a real date, an empty list, a list
    item's field (`items[1].media_id`)...
    """
    if isinstance(param, QueryParam) and param.joins is not None:
        return _list_text(param, value, where)
    if isinstance(param, BodyParam) and param.item_type is not None:
        return _struct_list(param, value, where)
    return _scalar(param, value, where)


def render_kind(kind: ParamKind, check: Check, value: object, where: str) -> str:
    """`render` for a value that fills in parameters of this kind and check (`_generated.kinds`):
    a client option (`language`), a user view's account id. The message starts with `where`."""
    return _scalar(PathParam(where, kind, check=check), value, where)


def _parse_item(param: Param, text: str, where: str) -> object:
    """One value of `param`'s type spelled by `text` (no range checks: `render` makes them)."""
    kind = param.kind
    if text == "null" and param.check.null:
        return None
    if kind == "int" or (kind == "int_or_str" and text.isdigit()):
        if _INT_TEXT.fullmatch(text):
            return int(text)
    elif kind == "float":
        if _FLOAT_TEXT.fullmatch(text):
            return float(text)
    elif kind == "bool":
        if text in ("true", "false"):
            return text == "true"
    elif kind == "date":
        return _parse_date(text, where)
    elif kind == "struct":
        return _parse_structs(param, text, where)
    else:
        return text
    raise _fail(where, _TYPE_WORDS[kind], text)


def _parse_structs(param: Param, text: str, where: str) -> object:
    """`[{"media_type": "movie", "media_id": 550}]` -> `[ListItem(...)]`."""
    item_type = getattr(param, "item_type", None)
    if item_type is None:
        raise ParameterError(f"{where} takes no list of Structs")
    try:
        return msgspec.json.decode(text, type=list.__class_getitem__(item_type))
    except msgspec.DecodeError as err:
        raise ParameterError(
            f"{where} must be a JSON list of {item_type.__name__} objects: {err}"
        ) from None


def parse_param_text(param: Param, text: str) -> object:
    """The Python value a user would pass for `param`, spelled as `text` (a CLI argument).

    By kind: `"2020-01-01"` -> `date(2020, 1, 1)`, `"100"` -> `100`, `"true"` -> `True`, a
    JSON list of objects -> the Structs a `struct` body field takes; for
    a list parameter `"28,12"` -> `[28, 12]`, `"28|12"` -> `AnyOf(28, 12)`, `"28"` -> `28`
    and `"en,null"` -> `["en", None]`. Text that mixes `,` and `|` is TMDB's own spelling and
    stays a str (sent verbatim). Raises ParameterError when `text` is not of the parameter's
    type; ranges, patterns and choices are checked when the request is built.
    """
    where = param_label(param)
    if not isinstance(param, QueryParam) or param.joins is None:
        return _parse_item(param, text, where)
    if "," in text and "|" in text:
        return text
    separator = "|" if "|" in text else ","
    items = [_parse_item(param, piece.strip(), f"{where} item") for piece in text.split(separator)]
    if separator == "|":
        return AnyOf(*items)
    if len(items) == 1 and items[0] is not None:
        return items[0]
    return items
