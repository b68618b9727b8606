"""The one family of nn101 errors.

Every error nn101 raises on purpose about a file or a download derives from ``NN101Error``, and
also from the built-in class a caller would catch without knowing nn101 (``ValueError`` for a
file whose content is wrong, ``OSError`` for a download that failed), so both
``except nn101.NN101Error`` and ``except ValueError`` work. Messages name the file (or URL) and
say what was expected and what was found.
"""

from __future__ import annotations

__all__ = [
    "DatasetNotFoundError",
    "DownloadError",
    "FileFormatError",
    "IdxFormatError",
    "ModelFileError",
    "NN101Error",
    "NonFiniteWeightsError",
    "OverwriteError",
]


class NN101Error(Exception):
    """Base class of every error nn101 raises about files, downloads and data."""


class FileFormatError(NN101Error, ValueError):
    """A file that is not what it claims to be: wrong magic, impossible sizes, bad checksum."""


class IdxFormatError(FileFormatError):
    """A file that is not a well-formed IDX file (or gzip of one)."""


class ModelFileError(FileFormatError):
    """A model or checkpoint file that cannot be loaded as one."""


class DownloadError(NN101Error, OSError):
    """No mirror delivered the file: refused, too slow, too long, or a checksum mismatch."""


class DatasetNotFoundError(NN101Error, FileNotFoundError):
    """The dataset is in none of the places looked at, and downloading is off or failed."""


class OverwriteError(NN101Error, FileExistsError):
    """Saving would replace something: a file or directory nn101 did not write (never
    replaced), or an nn101 model without ``overwrite=True``."""


class NonFiniteWeightsError(NN101Error, ValueError):
    """A model with NaN or infinite weights (a diverged run) is not saved."""
