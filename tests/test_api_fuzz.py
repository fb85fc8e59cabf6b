"""Every public callable of ``companion`` fails cleanly on bad arguments (property-based).

The public API is found, not listed: every function or class named in the
``__all__`` of a module of the package (CLI ``main`` functions aside). For each
one, ``BASELINES`` gives a cheap *valid* call. Hypothesis then replaces one
parameter at a time by a bad value -- junk (None, bools, huge or negative
integers, NaN and infinities, empty strings and containers, random text, nested
junk, odd objects, arrays of any shape, dtype and content) or a mutation of the
valid value (a key dropped, a NaN slipped in, an axis added, a name misspelled)
-- and calls the function under a time limit. The call must either

- work, and then the value must fit the parameter's type annotation (so a
  silently accepted ``None``, string or NaN for a number is caught too), or
- raise a :class:`companion.errors.CompanionError` whose message names the
  parameter and, for a type or value error, says what is accepted ("must be")
  and shows what was given ("got").

Any other exception (a bare ``TypeError``, ``IndexError``... from deep inside
NumPy, Keras or matplotlib) and any call running past the limit fail the test.

Two more checks keep the table and the documentation honest: every baseline
call works, and every public callable's docstring has a numpydoc ``Raises``
section naming the Companion errors.

``COMPANION_FUZZ_EXAMPLES`` sets the number of examples per parameter (default 15);
raise it to search harder, e.g. ``COMPANION_FUZZ_EXAMPLES=200 pytest tests/test_api_fuzz.py``.
"""

from __future__ import annotations

import collections.abc
import contextlib
import functools
import importlib
import inspect
import io
import math
import numbers
import os
import pkgutil
import re
import signal
import tempfile
import types
import typing
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")  # this process only

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import companion
from companion.errors import CompanionError, CompanionTypeError, CompanionValueError, DataError

# Junk titles draw glyphs no font has, junk limits make singular axes: matplotlib warns, fine.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TIMEOUT_S = 20
MAX_EXAMPLES = int(os.environ.get("COMPANION_FUZZ_EXAMPLES", "15"))


# ---- the public API, found from __all__ -------------------------------------------------

def _public_api() -> dict[str, typing.Callable]:
    modules = [companion] + [importlib.import_module(info.name) for info in
                             pkgutil.walk_packages(companion.__path__, "companion.")]
    found: dict[str, typing.Callable] = {}
    for module in modules:
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if name == "main" or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # CLI entry points; constants and instances (CLASS_NAMES, settings)
            found[f"{obj.__module__}.{obj.__qualname__}"] = obj  # re-exports counted once
    return found


PUBLIC = _public_api()


def _params(obj: typing.Callable) -> list[inspect.Parameter]:
    try:
        sig = inspect.signature(obj)
    except ValueError:  # the error types: built-in constructor, any arguments
        return []
    return [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _hints(obj: typing.Callable) -> dict[str, typing.Any]:
    target = obj if inspect.isclass(obj) and hasattr(obj, "__dataclass_fields__") else (
        obj.__init__ if inspect.isclass(obj) else obj)
    return typing.get_type_hints(target)


# ---- cheap valid values (built once where they are costly) -------------------------------

RNG = np.random.default_rng(0)
IMAGES = RNG.random((3, 28, 28)).astype("float32")
HIST = {"loss": [0.9, 0.6, 0.5], "accuracy": [0.6, 0.7, 0.75],
        "val_loss": [0.8, 0.7, 0.72], "val_accuracy": [0.65, 0.7, 0.69]}
X4 = RNG.random((16, 4)).astype("float32")
Y4 = (X4.sum(axis=1) > 2).astype("int64")
for _shared in (IMAGES, X4, Y4):
    _shared.flags.writeable = False  # shared by every call: a function must not change its input


@functools.lru_cache(maxsize=None)
def _classifier():
    import keras
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@functools.lru_cache(maxsize=None)
def _saved_model() -> tuple[str, typing.Any]:
    import keras
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    path = _scratch() / "tiny.keras"
    model.save(path)
    return str(path), model


def _build(value):
    """The model-building function of a sweep: ignores the setting (only the call is fuzzed)."""
    import keras
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


@functools.lru_cache(maxsize=None)
def _scratch() -> Path:
    """A folder for the files some functions read or write, and the fuzz's working directory."""
    return Path(tempfile.mkdtemp(prefix="companion-fuzz-"))


#: One valid call per public callable: a function returning fresh keyword arguments.
BASELINES: dict[str, typing.Callable[[], dict]] = {
    # errors
    "companion.errors.CompanionError": lambda: {},
    "companion.errors.CompanionValueError": lambda: {},
    "companion.errors.CompanionTypeError": lambda: {},
    "companion.errors.DataError": lambda: {},
    "companion.errors.DataNotFoundError": lambda: {},
    "companion.errors.DataCorruptError": lambda: {},
    # environment, settings
    "companion.environment.setup_notebook": lambda: dict(seed=42, show=False),
    "companion.environment.versions": lambda: {},
    "companion.settings.Settings": lambda: {},
    # checks
    "companion.checks.CheckResult": lambda: dict(name="demo", hints=["a hint"], passed=[]),
    "companion.checks.check_model": lambda: dict(
        model=_classifier(), input_shape=(4,), n_outputs=2, output_activation="softmax",
        loss="sparse_categorical_crossentropy", metrics=["accuracy"], min_hidden=0),
    "companion.checks.check_saved_model": lambda: dict(
        path=_saved_model()[0], model=_saved_model()[1], x=X4[:2], expect_format="keras"),
    "companion.checks.check_history": lambda: dict(history=dict(HIST), epochs=3,
                                                   metrics=["loss"], validation=True),
    # data
    "companion.data.load_fashion_mnist": lambda: dict(scale=True, fast=True),
    # experiments
    "companion.experiments.fit_quickly": lambda: dict(
        model=_classifier(), x=X4, y=Y4, epochs=1, batch_size=8, validation_data=(X4[:4], Y4[:4]),
        steps_per_execution=2, callbacks=None),
    "companion.experiments.sweep": lambda: dict(
        build=_build, values=[0.1], x=X4, y=Y4, epochs=1, validation_data=None, batch_size=8,
        labels=["a"], steps_per_execution=2, seed=0, verbose=False, seeds=1),
    "companion.experiments.repeat": lambda: dict(
        build=lambda: _build(0.1), x=X4, y=Y4, epochs=1, seeds=2, validation_data=(X4[:4], Y4[:4]),
        batch_size=8, first_seed=0, steps_per_execution=2),
    # plots
    "companion.plots.plot_history": lambda: dict(history=dict(HIST), metrics=["loss"], title="t",
                                                 mark_best=True, ylim={"loss": (0.0, 1.0)}),
    "companion.plots.show_images": lambda: dict(
        images=IMAGES, labels=[0, 1, 2], class_names=["a", "b", "c"], predictions=[0, 1, 1],
        n_cols=2, title="t", size=1.0),
    "companion.plots.plot_probabilities": lambda: dict(probabilities=[0.25, 0.75],
                                                       class_names=["a", "b"], true_label=1, ax=None),
    "companion.plots.best_epoch": lambda: dict(history=dict(HIST), monitor="val_loss", mode="min"),
    # quiz
    "companion.quiz.Quiz": lambda: dict(question="2 + 2?", options=["3", "4"], answer=1,
                                        explanations=["Off by one.", "Yes."]),
    "companion.quiz.quiz": lambda: dict(question="2 + 2?", options=["3", "4"], answer=1,
                                        explanations=["Off by one.", "Yes."]),
    # results
    "companion.results.compare_with_sources": lambda: dict(rows=[("acc", "001", 0.79, 0.8, "same data")]),
    "companion.results.record": lambda: dict(chapter="ch99", figures={"acc": 0.8}, sources=None),
    # widgets
    "companion.widgets.figure_to_png": lambda: dict(fig=plt.figure(figsize=(1, 1)), dpi=20, colors=8),
    "companion.widgets.frame_viewer": lambda: dict(
        frames=[b"a", b"b"], labels=["1", "2"], description="d", control="slider", start=0,
        caption="c", alt=["x", "y"]),
    "companion.widgets.probability_viewer": lambda: dict(
        images=IMAGES[:2], probabilities=np.full((2, 2), 0.5), labels=[0, 1], class_names=["a", "b"]),
}

#: Callables whose calls cost a second or more (training, many frames): fewer examples each.
SLOW = {"companion.experiments.fit_quickly", "companion.experiments.sweep", "companion.experiments.repeat"}

#: (callable, parameter) pairs known to fail. Empty: every gap found was fixed.
KNOWN_GAPS: dict[tuple[str, str], str] = {}

#: Public callables whose docstrings may lack a Raises section. Empty: all have one.
UNDOCUMENTED: set[str] = set()


# ---- bad values -------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")


class _Opaque:
    """An object of a type no function expects."""

    def __repr__(self) -> str:
        return "<opaque>"


def _array_mutations(a: np.ndarray) -> list:
    f = a.astype(float) if a.dtype.kind in "biuf" else a
    out = [a[:0], a[..., None], np.full(a.shape, NAN), a.astype(complex), a.astype(str),
           a.astype(object)]
    if a.ndim >= 1 and a.size:
        out += [a[0], a[:1], a.reshape(-1), -f, np.repeat(a, 2, axis=0)]
        g = f.astype(float).copy()
        g.flat[0] = NAN
        h = f.astype(float).copy()
        h.flat[-1] = INF
        out += [g, h]
    if a.ndim >= 2:
        out += [a[..., :1], np.swapaxes(a, 0, -1), a.reshape(len(a), -1)]
    return out


def _object_array(items: typing.Sequence) -> np.ndarray:
    arr = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        arr[i] = item
    return arr


def _mutations(value: typing.Any, depth: int = 0) -> list:
    """Values close to a valid one but wrong in one respect (type, range, shape, content)."""
    out: list = []
    if isinstance(value, (bool, np.bool_)):
        out += [None, 0, 1, "True", 2]
    elif isinstance(value, numbers.Integral):
        out += [None, -1, 0, -int(value) - 1, 2**63, 10**400, int(value) + 0.5, str(value), NAN]
    elif isinstance(value, numbers.Real):
        out += [None, NAN, INF, -INF, -float(value), 0.0, 1e308, -1e308, str(value)]
    elif isinstance(value, str):
        out += [None, "", "   ", value + "?", value.upper() + "X", b"x"]
    elif isinstance(value, np.ndarray):
        out += _array_mutations(value)
    elif isinstance(value, (list, tuple)):
        kind = type(value)
        out += [kind(), kind([None]), kind([list(value)]), value[:1], kind(list(value) * 2),
                {i: v for i, v in enumerate(value)}, _object_array(value)]
        if value and all(isinstance(v, numbers.Real) for v in value):
            out += [kind(m.tolist()) if isinstance(m.tolist(), list) else m.tolist()
                    for m in _array_mutations(np.asarray(value))]
        if depth < 3:
            for i, item in enumerate(list(value)[:3]):
                for m in _mutations(item, depth + 1)[:12]:
                    items = list(value)
                    items[i] = m
                    out.append(kind(items))
    elif isinstance(value, collections.abc.Mapping):
        out += [{}, dict.fromkeys(value), {0: v for v in list(value.values())[:1]},
                list(value.items())]
        for k in list(value)[:4]:
            out.append({kk: vv for kk, vv in value.items() if kk != k})
            if depth < 3:
                out += [{**value, k: m} for m in _mutations(value[k], depth + 1)[:14]]
    return out


_ATOMS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
                   st.text(max_size=8), st.binary(max_size=4))
JUNK = st.one_of(
    st.none(), st.booleans(),
    st.sampled_from([0, -1, -(2**63), 2**31, 2**63, 10**30, 10**400]), st.integers(max_value=-1),
    st.sampled_from([NAN, INF, -INF, -0.0, 1e308, -1e308, 5e-324]), st.floats(),
    st.sampled_from(["", "   ", b"", [], (), {}, set(), frozenset(), range(0), range(3)]),
    st.text(max_size=20),
    st.recursive(_ATOMS, lambda c: st.lists(c, max_size=3) | st.tuples(c, c)
                 | st.dictionaries(st.text(max_size=4) | st.integers(0, 3), c, max_size=3),
                 max_leaves=8),
    hnp.arrays(dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128]),
               shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)),
    st.sampled_from([_Opaque(), SimpleNamespace(history={"loss": "x"}), SimpleNamespace(history=None),
                     Ellipsis, print, int, 1j, np.float64(NAN), np.array(NAN), np.int64(-3),
                     {"loss": [NAN, NAN], "val_loss": [NAN, NAN]}, [[1, 2], [3]]]),
)


def _bad_values(valid: typing.Any) -> st.SearchStrategy:
    near = _mutations(valid)
    return st.one_of(st.sampled_from(near), JUNK) if near else JUNK


# ---- the type contract of a successful call --------------------------------------------

_SEQUENCES = (collections.abc.Sequence, list, collections.abc.Iterable)


def _conforms(value: typing.Any, hint: typing.Any, depth: int = 0) -> bool:
    """Whether ``value`` fits the annotation ``hint`` (numbers must be finite)."""
    if hint is None or hint is typing.Any or depth > 5:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, a, depth) for a in args)
    if hint is bool:
        return isinstance(value, (bool, np.bool_))
    # A bool is no number as an argument of its own (epochs=True is a slip), but inside an
    # array of numbers it is the 0 or 1 NumPy makes of it.
    if hint is int:
        return isinstance(value, numbers.Integral) and (depth > 0 or not isinstance(value, (bool, np.bool_)))
    if hint is float:
        return (isinstance(value, numbers.Real) and (depth > 0 or not isinstance(value, (bool, np.bool_)))
                and (isinstance(value, numbers.Integral) or math.isfinite(value)))
    if hint is str:
        return isinstance(value, str)
    if isinstance(value, np.ndarray) and value.ndim >= 1 and (origin in _SEQUENCES or origin is tuple):
        value = value.tolist()
    if origin in _SEQUENCES:
        return (isinstance(value, collections.abc.Sequence) and not isinstance(value, (str, bytes))
                and all(_conforms(v, args[0] if args else None, depth + 1) for v in value))
    if origin is tuple:
        if not isinstance(value, collections.abc.Sequence) or isinstance(value, (str, bytes)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_conforms(v, args[0], depth + 1) for v in value)
        return len(value) == len(args) and all(_conforms(v, a, depth + 1) for v, a in zip(value, args))
    if origin in (collections.abc.Mapping, dict):
        return isinstance(value, collections.abc.Mapping) and all(
            _conforms(k, args[0] if args else None, depth + 1)
            and _conforms(v, args[1] if args else None, depth + 1) for k, v in value.items())
    if origin is collections.abc.Callable:
        return callable(value)
    if hint is bytes:
        return isinstance(value, (bytes, bytearray))
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


# ---- calling under a time limit ---------------------------------------------------------

class _TimedOut(BaseException):
    """Raised by the alarm; a BaseException so no ``except Exception`` can swallow it."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    def on_alarm(signum, frame):
        raise _TimedOut(f"the call ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _call(fn: typing.Callable, kwargs: dict) -> typing.Any:
    try:
        with _time_limit(TIMEOUT_S), contextlib.redirect_stdout(io.StringIO()):
            return fn(**kwargs)
    finally:
        plt.close("all")


@pytest.fixture(scope="module", autouse=True)
def _in_scratch_folder():
    """Run from a scratch folder: a fuzzed path must never land in the working tree."""
    import keras  # noqa: F401  (imported once, outside any time limit)

    before = os.getcwd()
    os.chdir(_scratch())
    try:
        yield
    finally:
        os.chdir(before)
        plt.close("all")


# ---- the tests --------------------------------------------------------------------------

def test_every_public_callable_has_a_baseline_call():
    missing = sorted(set(PUBLIC) - set(BASELINES))
    assert not missing, f"add a valid call to BASELINES for: {missing}"
    stale = sorted(set(BASELINES) - set(PUBLIC))
    assert not stale, f"BASELINES names callables that are no longer public: {stale}"


def test_the_api_is_found():
    # A sanity check of the discovery itself, not a list to maintain.
    assert len(PUBLIC) > 20
    assert "companion.widgets.frame_viewer" in PUBLIC and "companion.plots.plot_history" in PUBLIC


@pytest.mark.parametrize("key", sorted(k for k in PUBLIC if _params(PUBLIC[k]) and k not in UNDOCUMENTED))
def test_public_docstring_lists_what_is_raised(key):
    doc = inspect.getdoc(PUBLIC[key]) or ""
    assert re.search(r"^Raises\n-+\n", doc, re.M), f"{key}: add a numpydoc 'Raises' section"
    assert "Companion" in doc.split("Raises", 1)[1], f"{key}: name the Companion error types raised"


@pytest.mark.parametrize("key", sorted(BASELINES))
def test_baseline_call_works(key):
    kwargs = BASELINES[key]()
    assert set(kwargs) <= {p.name for p in _params(PUBLIC[key])}, "unknown parameter in the baseline"
    try:
        _call(PUBLIC[key], kwargs)
    except DataError as err:  # no copy of Fashion-MNIST on this machine
        pytest.skip(f"no data: {str(err).splitlines()[0]}")


def _cases():
    cases = []
    for key in sorted(PUBLIC):
        for p in _params(PUBLIC[key]):
            marks = ([pytest.mark.xfail(reason=KNOWN_GAPS[key, p.name], strict=False)]
                     if (key, p.name) in KNOWN_GAPS else [])
            cases.append(pytest.param(key, p.name, id=f"{key.removeprefix('companion.')}:{p.name}",
                                      marks=marks))
    return cases


@pytest.mark.parametrize(("key", "param"), _cases())
def test_bad_argument_fails_cleanly(key, param):
    fn = PUBLIC[key]
    default = next(p.default for p in _params(fn) if p.name == param)
    valid = BASELINES[key]().get(param, None if default is inspect.Parameter.empty else default)
    hint = _hints(fn).get(param)

    @settings(max_examples=max(1, MAX_EXAMPLES // (3 if key in SLOW else 1)), deadline=None,
              database=None, print_blob=True, suppress_health_check=list(HealthCheck))
    @given(bad=_bad_values(valid))
    def call_with(bad):
        kwargs = BASELINES[key]()
        kwargs[param] = bad
        try:
            _call(fn, kwargs)
        except DataError:
            return  # a valid flag, but no copy of Fashion-MNIST on this machine
        except CompanionError as err:
            msg = str(err)
            assert re.search(rf"(?<![\w]){re.escape(param)}(?![\w])", msg), (
                f"{key}({param}={bad!r}) raised {type(err).__name__} without naming {param!r}: {msg}")
            if isinstance(err, (CompanionTypeError, CompanionValueError)):
                assert "must" in msg and "got" in msg, (
                    f"{key}({param}={bad!r}): the message should say what is accepted and what "
                    f"was given: {msg}")
            return
        except _TimedOut:
            pytest.fail(f"{key}({param}={bad!r}) did not return within {TIMEOUT_S} s")
        except Exception as err:
            pytest.fail(f"{key}({param}={bad!r}) raised {type(err).__name__}: {err}")
        assert _conforms(bad, hint), (
            f"{key} accepted {param}={bad!r}, which does not fit its annotation {hint}")

    call_with()
