"""Set-up shared by every chapter notebook: quiet imports, seeds, versions."""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import sys
from typing import Any

from . import _validate
from .settings import settings

__all__ = ["collect_garbage_less_often", "setup_notebook", "skip_optimizing_small_graphs", "versions"]

# Graphs with fewer nodes than this skip Grappler, TensorFlow's graph optimizer.
# The graphs that small are the helper functions of the input pipeline that Keras
# builds from NumPy arrays; it rebuilds them twice per epoch for training and
# twice per validation pass, and optimizing them was about half of the fixed cost
# of an epoch (21 ms of 135 ms each time on 2 CPU cores). A model's own training
# and prediction graphs have hundreds of nodes and are optimized exactly as before:
# re-running every chapter with this setting gave bit-identical figures.
MIN_OPTIMIZED_GRAPH_NODES = 32

# Python's cycle collector runs after every 700 new container objects (lists,
# dicts, class instances) by default, and each full pass walks every object the
# process holds. Tracing a Keras model creates hundreds of thousands of small
# objects, and ``import keras`` alone leaves about 370,000, so collections took
# about 10 % of a notebook's time in fast mode (56 of 577 s over the book).
# The companion waits for 50,000 new objects instead and freezes what exists
# after ``import keras``, so later passes skip TensorFlow's own objects. No
# result changes: the collector only decides when unreachable memory is freed.
GC_THRESHOLDS = (50_000, 20, 100)


@contextlib.contextmanager
def _quiet_stderr():
    """Send file descriptor 2 to /dev/null for the duration of the block.

    TensorFlow prints start-up lines from C++ straight to fd 2, where neither
    ``TF_CPP_MIN_LOG_LEVEL`` nor ``contextlib.redirect_stderr`` can catch them.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no real fd 2 (some embedded consoles)
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def versions() -> dict[str, str]:
    """Return the versions that matter for reproducing a run.

    Returns
    -------
    dict
        Keys ``python``, ``tensorflow``, ``keras``, ``numpy``, ``device``.

    Examples
    --------
    >>> sorted(versions())  # doctest: +SKIP
    ['device', 'keras', 'numpy', 'python', 'tensorflow']
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _quiet_stderr():
        import keras
        import numpy
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
    device = f"GPU ({len(gpus)})" if gpus else f"CPU ({os.cpu_count()} cores)"
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "device": device,
    }


def skip_optimizing_small_graphs(min_nodes: int = MIN_OPTIMIZED_GRAPH_NODES) -> None:
    """Tell TensorFlow not to optimize graphs with fewer than ``min_nodes`` nodes.

    Speeds up every epoch of ``model.fit`` on NumPy arrays without changing a
    result: the graphs skipped are the small input-pipeline functions that Keras
    rebuilds each epoch, not the model's training graph (see
    ``MIN_OPTIMIZED_GRAPH_NODES``). Called by :func:`setup_notebook`.

    Parameters
    ----------
    min_nodes : int, default MIN_OPTIMIZED_GRAPH_NODES (32)
        Graphs with fewer nodes skip Grappler. 0 restores TensorFlow's default (4).

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``min_nodes`` is not an integer from 0 to 10,000.
    """
    min_nodes = _validate.check_int("min_nodes", min_nodes, minimum=0, maximum=10_000)
    with _quiet_stderr():
        import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"min_graph_nodes": min_nodes})


def collect_garbage_less_often(first: int = GC_THRESHOLDS[0], *, freeze: bool = True) -> tuple[int, int, int]:
    """Make Python's garbage collector run less often (faster training, same results).

    Sets the collector's thresholds to ``(first, 20, 100)`` and, with
    ``freeze``, moves every object that exists now into a permanent generation
    that later collections skip (:func:`gc.freeze`), so call it after the big
    imports. Memory that is no longer reachable is still freed, only in larger
    batches; ``keras.backend.clear_session()`` still collects at once. Called
    by :func:`setup_notebook` (see ``GC_THRESHOLDS`` for the measurements).

    Parameters
    ----------
    first : int, default 50,000
        New container objects between two collections of the youngest
        generation; Python's default is 700. From 700 to 1,000,000.
    freeze : bool, default True
        Also freeze the objects that exist now.

    Returns
    -------
    tuple of int
        The thresholds before the call, to restore them with
        :func:`gc.set_threshold`.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``first`` is not an integer from 700 to 1,000,000 or ``freeze`` not a bool.

    Examples
    --------
    >>> import gc
    >>> before = collect_garbage_less_often(freeze=False)
    >>> gc.get_threshold()
    (50000, 20, 100)
    >>> gc.set_threshold(*before)
    """
    first = _validate.check_int("first", first, minimum=700, maximum=1_000_000)
    freeze = _validate.check_bool("freeze", freeze)
    before = gc.get_threshold()
    gc.set_threshold(first, *GC_THRESHOLDS[1:])
    if freeze:
        gc.freeze()
    return before


def setup_notebook(seed: int = 42, *, show: bool = True) -> dict[str, Any]:
    """Prepare a chapter notebook: quiet TensorFlow, seed everything, report versions.

    Imports TensorFlow and Keras with their start-up log lines silenced,
    calls :func:`keras.utils.set_random_seed` (Python, NumPy and the backend),
    skips graph optimization for tiny graphs (:func:`skip_optimizing_small_graphs`,
    faster epochs, same results), lets Python's garbage collector run less often
    (:func:`collect_garbage_less_often`, same results) and prints one
    reproducibility line.

    Parameters
    ----------
    seed : int, default 42
        Seed for every random number generator; 0 to 2**32 - 1.
    show : bool, default True
        Print the reproducibility line.

    Returns
    -------
    dict
        The versions (see :func:`versions`) plus ``seed`` and ``fast``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``seed`` is not an integer in range or ``show`` is not a bool.

    Examples
    --------
    >>> info = setup_notebook(seed=42, show=False)  # doctest: +SKIP
    >>> info["seed"]  # doctest: +SKIP
    42
    """
    seed = _validate.check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    show = _validate.check_bool("show", show)
    collect_garbage_less_often(freeze=False)   # before the imports: they create 370,000 objects
    info: dict[str, Any] = versions()
    import keras

    keras.utils.set_random_seed(seed)
    import tensorflow as tf

    # Keep TensorFlow's Python-side notes (e.g. on re-tracing) out of the page.
    tf.get_logger().setLevel("ERROR")
    skip_optimizing_small_graphs()
    collect_garbage_less_often()               # and freeze what the imports created
    info["seed"] = seed
    info["fast"] = settings.fast
    if show:
        mode = "FAST MODE (small data, for tests)" if info["fast"] else "full data"
        print(
            f"Python {info['python']} | TensorFlow {info['tensorflow']} | "
            f"Keras {info['keras']} | NumPy {info['numpy']} | {info['device']} | "
            f"seed {seed} | {mode}",
            file=sys.stdout,
        )
    return info
