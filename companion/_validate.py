"""Small argument checks shared by the public functions.

Each check raises :class:`~companion.errors.CompanionTypeError` or
:class:`~companion.errors.CompanionValueError` with a message that names the
argument, shows the bad value and says what is accepted.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import CompanionTypeError, CompanionValueError


#: Largest magnitude an array of "finite" numbers may hold (see :func:`check_array`).
LARGEST = 1e300


def _show(value: Any) -> str:
    text = repr(value)
    if isinstance(value, np.ndarray):
        text = f"an array of shape {value.shape} and dtype {value.dtype}"
    return text if len(text) <= 80 else text[:77] + "..."


def fail_type(name: str, value: Any, accepted: str) -> CompanionTypeError:
    return CompanionTypeError(
        f"`{name}` must be {accepted}; got {_show(value)} (type {type(value).__name__})."
    )


def fail_value(name: str, value: Any, accepted: str) -> CompanionValueError:
    return CompanionValueError(f"`{name}` must be {accepted}; got {_show(value)}.")


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` if it is an integer inside the bounds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise fail_type(name, value, _int_range(minimum, maximum))
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise fail_value(name, value, _int_range(minimum, maximum))
    return value


def _int_range(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"an integer from {minimum} to {maximum}"
    if minimum is not None:
        return f"an integer >= {minimum}"
    if maximum is not None:
        return f"an integer <= {maximum}"
    return "an integer"


def check_float(name: str, value: Any, *, minimum: float | None = None,
                maximum: float | None = None, inclusive: bool = True) -> float:
    """Return ``value`` as a finite ``float`` inside the bounds."""
    lo = "" if minimum is None else (f">= {minimum}" if inclusive else f"> {minimum}")
    hi = "" if maximum is None else (f"<= {maximum}" if inclusive else f"< {maximum}")
    accepted = "a finite number" + (" " + " and ".join(x for x in (lo, hi) if x) if lo or hi else "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise fail_type(name, value, accepted)
    try:
        value = float(value)
    except OverflowError:  # an integer beyond any float
        raise fail_value(name, value, accepted) from None
    if not math.isfinite(value):
        raise fail_value(name, value, accepted)
    if minimum is not None and (value < minimum or (not inclusive and value == minimum)):
        raise fail_value(name, value, accepted)
    if maximum is not None and (value > maximum or (not inclusive and value == maximum)):
        raise fail_value(name, value, accepted)
    return value


def optional(check: Any, name: str, value: Any, **options: Any) -> Any:
    """None stays None; anything else goes through ``check(name, value, **options)``."""
    return None if value is None else check(name, value, **options)


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise fail_type(name, value, "True or False")
    return bool(value)


def check_str(name: str, value: Any, *, nonempty: bool = True) -> str:
    if not isinstance(value, str):
        raise fail_type(name, value, "a string")
    if nonempty and not value.strip():
        raise fail_value(name, value, "a non-empty string")
    return value


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    choices = list(choices)
    try:  # same type and equal: no array broadcasting, no 1 == True
        ok = any(isinstance(value, type(c)) and bool(value == c) for c in choices)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise fail_value(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def check_array(name: str, value: Any, *, ndim: int | Sequence[int] | None = None,
                min_len: int = 1, numeric: bool = True, finite: bool = True) -> np.ndarray:
    """Return ``value`` as a NumPy array after checking dimensions and content."""
    if isinstance(value, (str, bytes)) or value is None:
        raise fail_type(name, value, "an array-like of real numbers")
    try:
        arr = np.asarray(value)
    except Exception:  # ragged lists and other oddities
        raise fail_type(name, value, "an array-like of real numbers") from None
    if numeric and arr.dtype.kind not in "biuf":  # complex, text, objects, dates: not real numbers
        raise fail_type(name, value, "an array-like of real numbers")
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in dims:
            want = " or ".join(str(d) for d in dims)
            raise fail_value(name, value, f"an array with {want} dimension(s) (got {arr.ndim})")
    if arr.ndim == 0 or len(arr) < min_len:
        raise fail_value(name, value, f"an array with at least {min_len} element(s)")
    # Beyond +-1e300 a number is as good as infinite: matplotlib cannot even draw an axis for it.
    if numeric and finite and arr.dtype.kind == "f" and not (
            np.all(np.isfinite(arr)) and (float(np.finfo(arr.dtype).max) <= LARGEST  # float32: always
                                          or np.max(np.abs(arr), initial=0.0) <= LARGEST)):
        raise fail_value(name, value, "an array of finite numbers "
                                      f"(no NaN, no infinity, nothing beyond ±{LARGEST:g})")
    return arr


def check_sequence_of_str(name: str, value: Any, *, length: int | None = None,
                          allow_empty: bool = False, per: str | None = None) -> list[str]:
    """Return ``value`` as a list of non-empty strings (the list may be empty if ``allow_empty``).

    ``per`` says what the ``length`` strings match, e.g. "frame of `frames`".
    """
    if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, Sequence):
        raise fail_type(name, value, "a list of strings")
    items = list(value)
    if not all(isinstance(v, str) and v.strip() for v in items):
        raise fail_value(name, value, "a list of non-empty strings")
    if not items and not allow_empty:
        raise fail_value(name, value, "a non-empty list of non-empty strings")
    if length is not None and len(items) != length:
        raise fail_value(name, value, f"a list of exactly {length} strings"
                         + (f", one per {per}" if per else ""))
    return items


def check_limits(name: str, value: Any) -> tuple[float, float]:
    """Return ``value`` as a pair ``(low, high)`` of finite numbers with ``low < high``."""
    accepted = "a pair (low, high) of finite numbers with low < high, e.g. (0.2, 0.6)"
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise fail_type(name, value, accepted)
    arr = check_array(name, value, ndim=1)
    if arr.shape != (2,) or not arr[0] < arr[1]:
        raise fail_value(name, value, accepted)
    return float(arr[0]), float(arr[1])


def check_model_input(name: str, x: np.ndarray, model: Any) -> None:
    """Check that the examples in ``x`` have the shape ``model`` expects, when it says.

    Models with several inputs, or not built yet, are not checked.
    """
    try:
        shape = model.input_shape
    except (AttributeError, ValueError, RuntimeError):
        return
    if not isinstance(shape, tuple) or not all(d is None or isinstance(d, int) for d in shape):
        return  # several inputs
    want = shape[1:]
    got = x.shape[1:]
    if len(got) != len(want) or any(w is not None and w != g for w, g in zip(want, got)):
        dims = ", ".join("any" if d is None else str(d) for d in want)
        one = f"({dims},)" if len(want) == 1 else f"({dims})"
        raise fail_value(name, x, f"examples of shape {one} each, as the model's input: an array "
                                  f"of shape (n, {dims})")


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def loss_name(loss: Any) -> str | None:
    """A compile-config loss (string, function, Loss object or its config) as snake_case."""
    if loss is None:
        return None
    if isinstance(loss, str):
        return snake_case(loss) if loss[:1].isupper() else loss
    if isinstance(loss, Mapping):
        inner = loss.get("config", {})
        if isinstance(inner, Mapping) and isinstance(inner.get("name"), str):
            return inner["name"]
        return snake_case(str(loss.get("class_name", "")))
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or snake_case(type(loss).__name__)
