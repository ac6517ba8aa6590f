"""Writing a file so that a failure never leaves a half-written one.

The bytes go to a temporary file in the target's folder, are flushed to disk,
and the temporary file is renamed over the target: a crash, a full disk or a
killed process leaves the previous file whole and no temporary file behind.
A target that is a symbolic link is written through: the link stays, the file
it points to is replaced (atomically, in that file's folder), and the caller
is told where the bytes went.

Every operating-system failure (disk full, read-only, permission, quota,
a name too long) becomes a ``CheckpointError`` of one plain line naming the
file and the cause.
"""

from __future__ import annotations

import errno
import os
import tempfile

from .errors import CheckpointError

# Plain words for the failures a classroom machine meets; others use strerror.
_CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EFBIG: "the file is too large for this disk",
    errno.EIO: "the disk reported an input/output error",
}


def cause(exc: OSError) -> str:
    """What went wrong, in plain words."""
    return _CAUSES.get(exc.errno, exc.strerror or str(exc) or type(exc).__name__)


def resolve_target(path: str) -> str:
    """The file a save to ``path`` writes: the end of a chain of symbolic
    links, else ``path`` itself. A dangling link writes its target too."""
    if not os.path.islink(path):
        return path
    target = os.path.realpath(path)
    if os.path.isdir(target):
        raise CheckpointError(f"cannot save to {path}: the link points to a folder ({target})")
    return target


def check_writable_folder(path: str) -> str:
    """Before a long run: make sure ``path`` can be written; returns the file
    a save would write (the link's target when ``path`` is a symbolic link)."""
    if not path:
        raise CheckpointError("no file name given to save to")
    target = resolve_target(path)
    folder = os.path.dirname(os.path.abspath(target)) or "."
    if os.path.isdir(target):
        raise CheckpointError(f"cannot save to {path}: it is a folder; give a file name such as model.pt")
    if not os.path.isdir(folder):
        raise CheckpointError(f"cannot save to {path}: the folder {folder} does not exist")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".rnn-studio-", suffix=".check", dir=folder)
        os.close(fd)
    except OSError as exc:
        raise CheckpointError(f"cannot save to {path}: {cause(exc)}") from None
    finally:
        remove_quietly(tmp)
    return target


def atomic_write(path: str, write) -> str:
    """Call ``write(fh)`` on a temporary file, then rename it over ``path``'s
    target. Returns the path written (the link's target for a link)."""
    target = check_writable_folder(path) if os.path.islink(path) else path
    folder = os.path.dirname(os.path.abspath(target)) or "."
    if os.path.isdir(target):
        raise CheckpointError(f"cannot save to {path}: it is a folder; give a file name such as model.pt")
    if not os.path.isdir(folder):
        raise CheckpointError(f"cannot save to {path}: the folder {folder} does not exist")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".rnn-studio-", suffix=".tmp", dir=folder)
        # mkstemp makes the file private (0600); a saved model is for sharing,
        # so give it the mode any new file gets here (0644 with umask 022)
        umask = os.umask(0)
        os.umask(umask)
        try:
            os.fchmod(fd, 0o666 & ~umask)
        except (AttributeError, OSError):
            pass  # not on every platform; the file is still written
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise CheckpointError(f"cannot save to {path}: {cause(exc)}") from None
    except RuntimeError as exc:
        # torch's zip writer reports a failed write (a full disk) as RuntimeError
        # ("unexpected pos ..."); the errno is lost, so say what it almost always is
        raise CheckpointError(
            f"cannot save to {path}: writing failed ({_first_line(exc)}); the disk may be full"
        ) from None
    finally:
        remove_quietly(tmp)
    return target


def remove_quietly(path: str | None) -> None:
    if path is None:
        return
    try:
        os.unlink(path)
    except OSError:
        pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line[:160]
