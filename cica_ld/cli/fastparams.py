"""Option values converted without pydantic, for a fast start.

typer 0.29 converts every command-line value through a pydantic ``TypeAdapter``, and importing
pydantic costs 150-300 ms on each run: more than pyoxigraph needs to load and query the whole
CICA dataset. For the plain types cica-ld's options use (``str``, ``bool``, ``int``, ``float``
with ``min``/``max``, ``Path``, and lists of these) :func:`install` makes typer convert values
directly, with the same rules and messages; anything else (choices, enums, files, dates, custom
parsers, clamping, an unexpected value) still goes to typer's own pydantic-based conversion.

If typer's internals change, :func:`install` does nothing and typer works as before (only
slower); ``tests/test_cli_basics.py`` notices, since it checks the query path imports no
pydantic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_SCALARS = (str, bool, int, float)


def install() -> bool:
    """Route typer's conversion of plain option types around pydantic; True if installed."""
    try:
        from typer import _coercion, core
        from typer._click.exceptions import BadParameter
        from typer._display import describe_number_range
        from typer._param_types import coerce_cli_path
    except ImportError:  # another typer version: leave it alone
        return False
    original = getattr(core, "build_runtime_param", None)
    base = getattr(_coercion, "RuntimeParam", None)
    if original is None or base is None or getattr(original, "_cica_fast", False):
        return False

    class FastRuntimeParam(base):  # type: ignore[misc, valid-type]
        """Converts plain values itself; defers anything else to typer's own conversion."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            annotation = self.annotation
            if getattr(annotation, "__origin__", None) is list:
                if isinstance(value, (list, tuple)):
                    (item_type,) = annotation.__args__
                    out = [self._one(item_type, v, param, ctx) for v in value]
                    if all(v is not _DEFER for v in out):
                        return out
                return self._fallback(value, param, ctx)
            converted = self._one(annotation, value, param, ctx)
            return self._fallback(value, param, ctx) if converted is _DEFER else converted

        def _one(self, annotation: Any, value: Any, param: Any, ctx: Any) -> Any:
            info = self.parameter_info
            if annotation is str and isinstance(value, str):
                return value
            if annotation is bool and isinstance(value, bool):
                return value
            if annotation in (int, float) and isinstance(value, (str, int, float)):
                if isinstance(value, bool):
                    return _DEFER
                try:
                    number = annotation(value)
                except ValueError:
                    raise BadParameter(
                        f"{value!r} is not a valid {annotation.__name__}.", ctx=ctx, param=param
                    ) from None
                low, high = info.min, info.max
                if (low is not None and number < low) or (high is not None and number > high):
                    raise BadParameter(
                        f"{number} is not in the range {describe_number_range(low, high)}.",
                        ctx=ctx,
                        param=param,
                    )
                return number
            is_path = isinstance(annotation, type) and issubclass(annotation, Path)
            if is_path and isinstance(value, (str, Path)):
                path_type = info.path_type or annotation
                return coerce_cli_path(
                    annotation(value), info, path_type=path_type, param=param, ctx=ctx
                )
            return _DEFER

        def _fallback(self, value: Any, param: Any, ctx: Any) -> Any:
            return original(self._descriptor)._coerce_value(value, param=param, ctx=ctx)

    def build_runtime_param(descriptor: Any) -> Any:
        info = descriptor.parameter_info
        annotation = descriptor.annotation
        leaf = annotation
        if getattr(annotation, "__origin__", None) is list and len(annotation.__args__) == 1:
            leaf = annotation.__args__[0]
        plain = leaf in _SCALARS or (isinstance(leaf, type) and issubclass(leaf, Path))
        if (
            not plain
            or info.parser is not None
            or getattr(info, "clamp", False)
            or descriptor.is_file
            or descriptor.is_choice
        ):
            return original(descriptor)
        fast = FastRuntimeParam(parameter_info=info, annotation=annotation)
        object.__setattr__(fast, "_descriptor", descriptor)
        return fast

    build_runtime_param._cica_fast = True  # type: ignore[attr-defined]
    core.build_runtime_param = build_runtime_param
    return True


class _Defer:
    """Marks a value this module does not convert itself."""


_DEFER = _Defer()
