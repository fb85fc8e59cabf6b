"""Companion package of the course "Training Neural Networks with Keras".

What repeats across chapters and is not the lesson itself: :mod:`~companion.data`
(Fashion-MNIST, offline-friendly, verified), :mod:`~companion.environment` (the
set-up cell), :mod:`~companion.plots`, :mod:`~companion.widgets` (a viewer of
precomputed frames that reacts on the static web page), :mod:`~companion.experiments`
(training helpers), :mod:`~companion.quiz`, :mod:`~companion.checks` (hints for
exercises) and :mod:`~companion.results` (a chapter's figures beside its sources').
Settings come from environment variables (:mod:`~companion.settings`).
"""

from .errors import (CompanionError, CompanionTypeError, CompanionValueError, DataCorruptError,
                     DataError, DataNotFoundError)
from .environment import setup_notebook, versions
from .settings import settings

__version__ = "0.1.0"

__all__ = ["setup_notebook", "versions", "settings", "CompanionError", "CompanionTypeError",
           "CompanionValueError", "DataError", "DataNotFoundError", "DataCorruptError"]
