"""Config problems in plain words, each naming where it came from: the file and key, or the variable.

Pydantic says "Extra inputs are not permitted" and knows nothing of sources: values from the
file and from ZHIBAN_* variables reach it merged. Here each error is traced back to its source,
a misspelt key gets the nearest real one suggested, and a ZHIBAN_* variable that is no setting
is refused (pydantic-settings would ignore it, and the operator would believe it applied).
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

PREFIX = "ZHIBAN_"
DELIMITER = "__"

# ZHIBAN_* variables that are read directly by the code, not settings.
NOT_SETTINGS = {
    "ZHIBAN_CONFIG",
    "ZHIBAN_REQUIRE_POSTGRES",
    "ZHIBAN_REQUIRE_CHROMIUM",
    "ZHIBAN_REQUIRE_VOICE_EN",
    "ZHIBAN_FUZZ_EXAMPLES",
    "ZHIBAN_WHISPER_CACHE",
}
NOT_SETTINGS_PREFIXES = ("ZHIBAN_TEST_", "ZHIBAN_BENCH_")


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The models an annotation holds: the section itself, or the items of a list or dict of them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def _model_at(root: type[BaseModel], path: tuple[str, ...]) -> type[BaseModel] | None:
    """The model whose keys sit at `path` (list indices and dict keys are stepped over)."""
    current: type[BaseModel] | None = root
    for part in path:
        if current is None:
            return None
        field = current.model_fields.get(part)
        if field is None:
            continue  # an index into a list or a key of a dict: same model for the items
        current = next(_models_in(field.annotation), None)
    return current


def _suggest(wrong: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(wrong, candidates, n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def _env_names(root: type[BaseModel]) -> list[str]:
    """Every setting's variable name, ZHIBAN_<KEY> and ZHIBAN_<SECTION>__<KEY>."""
    names = []
    for name, field in root.model_fields.items():
        names.append(PREFIX + name.upper())
        for section in _models_in(field.annotation):
            if isinstance(field.annotation, type):  # a section, not a list or dict of models
                names += [f"{PREFIX}{name.upper()}{DELIMITER}{key.upper()}" for key in section.model_fields]
    return names


def _setting_path(var: str) -> tuple[str, ...]:
    return tuple(var[len(PREFIX) :].lower().split(DELIMITER))


def _is_setting_var(var: str) -> bool:
    upper = var.upper()
    return upper.startswith(PREFIX) and upper not in NOT_SETTINGS and not upper.startswith(NOT_SETTINGS_PREFIXES)


def unknown_variables(root: type[BaseModel], environ: Mapping[str, str]) -> dict[str, str]:
    """ZHIBAN_* variables that name no setting → the problem, with the nearest real name."""
    unknown: dict[str, str] = {}
    for var in sorted(v for v in environ if _is_setting_var(v)):
        model: type[BaseModel] | None = root
        for part in _setting_path(var):
            if model is None:
                break  # inside a dict or list value (roles, meetings.places): any key may be right
            field = model.model_fields.get(part)
            if field is None:
                suggestion = _suggest(var.upper(), _env_names(root))
                unknown[var] = f"{var} (environment): not a Zhiban setting{suggestion}"
                break
            annotation = field.annotation
            model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return unknown


def _source_var(loc: tuple[str, ...], environ: Mapping[str, str]) -> str | None:
    """The variable that set the value at `loc`, if one did (the longest match wins)."""
    best: str | None = None
    for var in environ:
        if not _is_setting_var(var):
            continue
        path = _setting_path(var)
        if loc[: len(path)] == path and (best is None or len(path) > len(_setting_path(best))):
            best = var
    return best


def _plain(err: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    """Pydantic's message in the words of a config file."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        keys = list(model.model_fields) if model is not None else []
        return f"is not a setting here{_suggest(str(err['loc'][-1]), keys)}"
    if kind == "missing":
        return "is required"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }
        bound = next(iter(ctx.values()), "")
        return f"must be {words[kind]} {bound}; got {err.get('input')!r}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number; got {err.get('input')!r}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number; got {err.get('input')!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false; got {err.get('input')!r}"
    if kind in ("string_type",):
        return f"must be text (in quotes); got {err.get('input')!r}"
    if kind in ("list_type",):
        return f'must be a list, e.g. ["a", "b"]; got {err.get("input")!r}'
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a table of keys; got {err.get('input')!r}"
    message = str(err["msg"])
    return message.removeprefix("Value error, ")


def describe(
    root: type[BaseModel], error: ValidationError, *, file: Path, environ: Mapping[str, str], skip: set[str]
) -> list[str]:
    """One line per problem, naming the file and key or the variable it came from."""
    lines = []
    for err in error.errors():
        loc = tuple(str(part) for part in err["loc"])
        var = _source_var(loc, environ)
        if var in skip:
            continue  # already reported as no setting at all
        words = _plain(err, _model_at(root, loc[:-1]))
        dotted = ".".join(loc)
        if var is not None:
            below = loc[len(_setting_path(var)) :]
            where = f"{var} (environment)" + (f", key {'.'.join(below)}" if below else "")
        else:
            where = f"{file}: {dotted}"
        lines.append(f"{where}: {words}")
    return lines


__all__ = ["describe", "unknown_variables"]
