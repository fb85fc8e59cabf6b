"""The first cell of every chapter: quiet imports, seeds, the versions a page was run with."""

from __future__ import annotations

import contextlib
import os
import platform
from typing import Any

from . import _validate
from .settings import settings

__all__ = ["setup_notebook", "versions"]


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
    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": numpy.__version__, "device": device}


def setup_notebook(seed: int = 42, *, show: bool = True) -> dict[str, Any]:
    """Prepare a chapter notebook: quiet TensorFlow, seed everything, report versions.

    Imports TensorFlow and Keras with their start-up log lines silenced,
    calls :func:`keras.utils.set_random_seed` (Python, NumPy and the backend)
    and prints one reproducibility line. It changes no other setting of the
    kernel.

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
    info: dict[str, Any] = versions()
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.get_logger().setLevel("ERROR")  # TensorFlow's Python-side notes (e.g. on re-tracing) stay off the page
    info.update(seed=seed, fast=settings.fast)
    if show:
        mode = "FAST MODE (small data, for tests)" if info["fast"] else "full data"
        print(f"Python {info['python']} | TensorFlow {info['tensorflow']} | Keras {info['keras']} | "
              f"NumPy {info['numpy']} | {info['device']} | seed {seed} | {mode}")
    return info
