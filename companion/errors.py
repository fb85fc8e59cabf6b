"""Exception types raised by the companion package.

Every error the package raises on purpose is one of these, so a notebook (or a
test) can catch them precisely. Each subclasses the built-in exception a Python
programmer would expect (``ValueError``, ``TypeError``, ``FileNotFoundError``).
"""

from __future__ import annotations

__all__ = [
    "CompanionError",
    "CompanionValueError",
    "CompanionTypeError",
    "DataError",
    "DataNotFoundError",
    "DataCorruptError",
]


class CompanionError(Exception):
    """Base class of every error the companion raises on purpose."""


class CompanionValueError(CompanionError, ValueError):
    """An argument has the right type but a value that is not accepted."""


class CompanionTypeError(CompanionError, TypeError):
    """An argument has a type that is not accepted."""


class DataError(CompanionError, OSError):
    """The Fashion-MNIST data could not be loaded."""


class DataNotFoundError(DataError, FileNotFoundError):
    """No copy of the data was found and it could not be downloaded."""


class DataCorruptError(DataError):
    """A data file was found but its content is not the expected one."""
