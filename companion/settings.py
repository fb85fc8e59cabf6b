"""The one place the companion keeps settings.

Settings are read from environment variables each time they are used, so a
test or a notebook can change them with ``os.environ`` and see the effect:

``COMPANION_FAST``
    ``1`` shrinks every data set to a small, class-balanced subset so each
    notebook runs in seconds (used by the test suite). Same code path.
``COMPANION_DATA_DIR``
    A folder holding the four Fashion-MNIST files (``.gz`` or decompressed).
``COMPANION_RESULTS_DIR``
    Where :func:`companion.results.record` writes a chapter's figures (unset: nowhere).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "settings"]

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Read-only view of the companion's settings (see the module docstring)."""

    @property
    def fast(self) -> bool:
        """True when ``COMPANION_FAST`` is set to 1/true/yes/on."""
        return os.environ.get("COMPANION_FAST", "").strip().lower() in _TRUE

    @property
    def data_dir(self) -> Path | None:
        value = os.environ.get("COMPANION_DATA_DIR", "").strip()
        return Path(value).expanduser() if value else None

    @property
    def results_dir(self) -> Path | None:
        value = os.environ.get("COMPANION_RESULTS_DIR", "").strip()
        return Path(value).expanduser() if value else None


settings = Settings()
