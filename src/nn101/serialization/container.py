"""The one-file container of models and checkpoints: a zip of named members, written atomically.

Writing: the members go into ``.<name>.nn101-tmp-<pid>-<random>`` in the target's directory
(created with the user's umask), which is flushed, fsynced and then ``os.replace``d onto the
target, and the directory is fsynced: at every instant the path holds the old file or the new
one, whole. A temporary file left by a killed writer never looks like a model (its name says
what it is) and the next write to the same path removes it; one whose writer is still running
(two saves to one path at once) is left alone, so that both saves succeed and the last one wins.

Reading: ``open_container`` opens either the zip or a directory saved by nn101 0.1
(``architecture.json`` + ``weights.npz``); members are read with sizes bounded before reading.
"""

from __future__ import annotations

import io
import os
import secrets
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nn101.errors import ModelFileError, OverwriteError
from nn101.serialization.arrays import ZIP_ERRORS, archive_size, check_member_size

__all__ = [
    "write_atomically",
    "open_container",
    "Container",
    "temporary_files",
    "is_abandoned",
    "TMP_MARK",
]

TMP_MARK = ".nn101-tmp-"
MAX_MEMBERS = 16


def temporary_files(path: Path) -> list[Path]:
    """Temporary files a killed write to ``path`` may have left behind."""
    prefix = f".{path.name}{TMP_MARK}"
    if not path.parent.is_dir():
        return []
    return [p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.is_file()]


def is_abandoned(tmp: Path) -> bool:
    """Whether the writer of the temporary file ``tmp`` is gone (killed mid-write).

    Its name carries the writer's process id; a file of this process, or of a process that is
    still running, belongs to a write in progress. Where processes cannot be asked (Windows),
    a file untouched for an hour counts as abandoned.
    """
    pid_text = tmp.name.rpartition(TMP_MARK)[2].partition("-")[0]
    if not pid_text.isdigit():  # written by nn101 0.2's first builds, without a pid
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    if os.name == "nt":
        try:
            return time.time() - tmp.stat().st_mtime > 3600
        except OSError:
            return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists, but belongs to another user
        return False
    return False


def write_atomically(path: Path, members: dict[str, bytes]) -> None:
    """Write a zip of ``members`` at ``path``: old or new, never neither, never half."""
    for stale in temporary_files(path):
        if is_abandoned(stale):
            stale.unlink(missing_ok=True)
    tmp = path.parent / f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(6)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    try:
        with os.fdopen(fd, "wb") as file:
            with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
                for name, data in members.items():
                    archive.writestr(name, data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; its replace is durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Container:
    """Read access to the members of a model file (zip) or a 0.1 model directory."""

    def __init__(self, path: Path, archive: zipfile.ZipFile | None) -> None:
        self.path, self.archive = path, archive

    def names(self) -> set[str]:
        if self.archive is None:
            return {p.name for p in self.path.iterdir() if p.is_file()}
        return set(self.archive.namelist())

    def read(self, name: str, limit: int) -> bytes:
        """The bytes of member ``name``, refused when it declares more than ``limit``."""
        size = self._size(name)
        if size > limit:
            raise ModelFileError(f"{self.path}: {name} is {size} bytes, more than {limit}")
        try:
            if self.archive is None:
                return (self.path / name).read_bytes()
            return self.archive.read(name)
        except ZIP_ERRORS as error:
            raise ModelFileError(f"{self.path}: {name} cannot be read ({error})") from None

    def _size(self, name: str) -> int:
        if self.archive is None:
            return (self.path / name).stat().st_size
        info = self.archive.getinfo(name)
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise ModelFileError(f"{self.path}: {name} is compressed or encrypted; expected stored")
        check_member_size(info, archive_size(self.archive), str(self.path))
        return info.file_size

    @contextmanager
    def zip_member(self, name: str) -> Iterator[zipfile.ZipFile]:
        """Member ``name`` (an ``.npz``) opened as a zip."""
        try:
            if self.archive is None:
                inner = zipfile.ZipFile(self.path / name)
            else:
                size = self._size(name)
                inner = zipfile.ZipFile(io.BytesIO(self.read(name, size)))
        except ZIP_ERRORS as error:
            raise ModelFileError(f"{self.path}: {name} is not a zip ({error})") from None
        with inner:
            yield inner


@contextmanager
def open_container(path: Path, what: str = "model") -> Iterator[Container]:
    """Open ``path`` for reading; a file that is not a zip is a ModelFileError."""
    if path.is_dir():
        yield Container(path, None)
        return
    if not path.exists():
        raise FileNotFoundError(f"no {what} file at {str(path)!r}")
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as error:
        raise ModelFileError(f"{path}: not an nn101 {what} file ({error})") from None
    with archive:
        if len(archive.infolist()) > MAX_MEMBERS:
            raise ModelFileError(f"{path}: {len(archive.infolist())} members; not an nn101 file")
        yield Container(path, archive)


def check_overwrite(path: Path, overwrite: bool, is_ours: bool, what: str) -> None:
    """Refuse to replace anything nn101 did not write, and an nn101 file unless asked."""
    if not os.path.lexists(path):
        return
    if path.is_dir():
        kind = "a model directory saved by nn101 0.1" if is_ours else "a directory"
        raise OverwriteError(
            f"{str(path)!r} is {kind}; nn101 never replaces a directory: choose a file name "
            f"such as {str(path / ('model.nn101'))!r}"
        )
    if not is_ours:
        raise OverwriteError(
            f"{str(path)!r} exists and is not an nn101 {what}; nn101 never replaces "
            "a file it did not write: choose another path"
        )
    if not overwrite:
        raise OverwriteError(
            f"{str(path)!r} already holds an nn101 {what}; pass overwrite=True to replace it"
        )
