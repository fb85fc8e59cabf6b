"""Companion package of the course "Training Neural Networks with Keras".

It carries what repeats across chapters and is not the lesson itself:

- :mod:`companion.data` loads Fashion-MNIST (offline-friendly, verified, fast mode);
- :mod:`companion.notebook` prepares a notebook (quiet imports, seeds, versions);
- :mod:`companion.plots` draws training curves and image grids;
- :mod:`companion.widgets` builds widgets that also react on the static web page;
- :mod:`companion.quiz` asks multiple-choice questions with feedback;
- :mod:`companion.checks` inspects a learner's model or history and gives hints;
- :mod:`companion.results` records a chapter's figures beside the sources';
- :mod:`companion.execute` re-runs and stamps the chapters (``make execute``).

Settings (fast mode, data folder) come from environment variables; see
:mod:`companion.settings`.
"""

from .errors import (CompanionError, CompanionTypeError, CompanionValueError, DataCorruptError,
                     DataError, DataNotFoundError)
from .environment import setup_notebook, versions
from .settings import settings

__version__ = "0.1.0"

__all__ = [
    "setup_notebook", "versions", "settings", "CompanionError", "CompanionTypeError",
    "CompanionValueError", "DataError", "DataNotFoundError", "DataCorruptError",
]
