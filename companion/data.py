"""Load Fashion-MNIST the way the course uses it, from a verified local copy.

:func:`load_fashion_mnist` returns the 70,000 images (28 x 28 grey pixels, 10
classes of clothing) split as the source notes split them, with
``train_test_split(..., test_size=0.2, random_state=42)``: 48,000 training,
12,000 validation and 10,000 test images.

The four files (``.gz`` or decompressed) are looked for, in this order, in
Keras's cache (``$KERAS_HOME/datasets/fashion-mnist``), the folder named by
``COMPANION_DATA_DIR``, ``/usr/share/datasets/fashion-mnist`` (Debian's
``dataset-fashion-mnist``), and finally downloaded by Keras into its cache,
tried only when the server answers within a few seconds (Keras's own download
would wait forever offline). Every file is checked against the SHA-256 of its
decompressed content; a damaged copy is skipped and reported, never deleted.
Checked arrays are kept in memory, keyed by each file's path, size and time.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import struct
import sys
import threading
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._validate import check_bool, fail_type
from .errors import DataCorruptError, DataNotFoundError
from .settings import settings

__all__ = ["CLASS_NAMES", "load_fashion_mnist"]   # it returns a FashionMNIST

#: Names of the 10 classes, indexed by label (0 = 'T-shirt/top', ...).
CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

#: Where Keras downloads the files from (``keras.datasets.fashion_mnist``).
DOWNLOAD_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

#: The folder the Debian/Ubuntu package ``dataset-fashion-mnist`` installs.
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

#: Seconds to wait for the download server before giving up on a download.
PROBE_TIMEOUT_S = 3.0

# Fast mode (COMPANION_FAST=1): images kept per class in each split.
_FAST_PER_CLASS = {"train": 200, "val": 50, "test": 50}


class _Expected(NamedTuple):
    """What one decompressed file must be."""

    sha256: str
    size: int       # bytes
    magic: int      # first 4 bytes of an IDX file: 2051 images, 2049 labels
    shape: tuple[int, ...]


_FILES: dict[str, _Expected] = {
    "train-images-idx3-ubyte": _Expected(
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        47_040_016, 2051, (60_000, 28, 28)),
    "train-labels-idx1-ubyte": _Expected(
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        60_008, 2049, (60_000,)),
    "t10k-images-idx3-ubyte": _Expected(
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        7_840_016, 2051, (10_000, 28, 28)),
    "t10k-labels-idx1-ubyte": _Expected(
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        10_008, 2049, (10_000,)),
}


# ---------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class FashionMNIST:
    """Fashion-MNIST split into training, validation and test sets.

    Attributes
    ----------
    x_train, y_train : numpy.ndarray
        48,000 images of shape (28, 28) and their labels (2,000 in fast mode).
    x_val, y_val : numpy.ndarray
        12,000 validation images and labels (500 in fast mode).
    x_test, y_test : numpy.ndarray
        The 10,000 test images and labels (500 in fast mode).
    class_names : tuple of str
        ``class_names[label]`` is the name of a label.
    source : str
        The folder the files were read from.
    fast : bool
        True when this is the small, class-balanced fast-mode subset.
    train_rows, val_rows : numpy.ndarray
        Where each training and validation image stands in the original
        60,000-image training file (see :meth:`in_file_order`).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    fast: bool
    train_rows: np.ndarray
    val_rows: np.ndarray

    def in_file_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Training and validation images together, in the order of the original training file.

        That is the order of ``keras.datasets.fashion_mnist.load_data()``,
        which the sources cross-validate on (60,000 images; 2,500 in fast mode).
        """
        order = np.argsort(np.concatenate([self.train_rows, self.val_rows]))
        return (np.concatenate([self.x_train, self.x_val])[order],
                np.concatenate([self.y_train, self.y_val])[order])

    def __repr__(self) -> str:
        def part(x: np.ndarray) -> str:
            return f"{x.shape} {x.dtype}"

        mode = ", fast mode" if self.fast else ""
        return (
            f"FashionMNIST(train {part(self.x_train)}, val {part(self.x_val)}, "
            f"test {part(self.x_test)}, {len(self.class_names)} classes{mode}, "
            f"source={self.source!r})"
        )


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def load_fashion_mnist(*, scale: bool = True, fast: bool | None = None) -> FashionMNIST:
    """Load Fashion-MNIST split into training, validation and test sets.

    The 60,000 training images are split with
    ``train_test_split(x, y, test_size=0.2, random_state=42)`` from
    scikit-learn, as in the source notes: 48,000 for training and 12,000 for
    validation. The 10,000 test images are kept apart.

    In fast mode the same split is made, then a class-balanced subset is kept:
    the first 200 images of each class in the training split (2,000), and the
    first 50 of each class in the validation and test splits (500 each), in
    their original order. The subset is the same on every run.

    Parameters
    ----------
    scale : bool, default True
        If True, images are ``float32`` with pixel values divided by 255, so
        in [0, 1]. If False, they are the raw ``uint8`` values 0-255.
    fast : bool or None, default None
        True for the small fast-mode subset, False for the full data. None
        follows the setting ``COMPANION_FAST`` (see :mod:`companion.settings`).

    Returns
    -------
    FashionMNIST
        Images of shape ``(n, 28, 28)`` and ``uint8`` labels from 0 to 9 (the
        same label type as ``keras.datasets.fashion_mnist.load_data()``), the
        class names, and the folder the files came from. The arrays are new
        copies: changing them does not change later loads.

    Raises
    ------
    CompanionTypeError
        If ``scale`` or ``fast`` is not a bool (``fast`` may also be None).
    DataNotFoundError
        If no copy of the files was found and none could be downloaded.
    DataCorruptError
        If copies were found but none was intact.

    Examples
    --------
    >>> data = load_fashion_mnist(fast=False)
    >>> data.x_train.shape, data.x_val.shape, data.x_test.shape
    ((48000, 28, 28), (12000, 28, 28), (10000, 28, 28))
    >>> data.x_train.dtype, float(data.x_train.max())
    (dtype('float32'), 1.0)
    >>> data.class_names[int(data.y_train[0])]  # doctest: +SKIP
    'Bag'
    """
    scale = check_bool("scale", scale)
    if fast is None:
        fast = settings.fast
    elif not isinstance(fast, (bool, np.bool_)):
        raise fail_type("fast", fast, "True, False or None (None follows COMPANION_FAST)")
    fast = bool(fast)

    folder, arrays = _locate_and_read()
    x_full, y_full = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    x_test, y_test = arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]

    train_idx, val_idx = _split_indices(len(y_full))
    test_idx = np.arange(len(y_test))
    if fast:
        train_idx = train_idx[_first_per_class(y_full[train_idx], _FAST_PER_CLASS["train"])]
        val_idx = val_idx[_first_per_class(y_full[val_idx], _FAST_PER_CLASS["val"])]
        test_idx = test_idx[_first_per_class(y_test, _FAST_PER_CLASS["test"])]

    def images(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        subset = x[idx]  # fancy indexing makes a new, writable array
        return subset.astype(np.float32) / np.float32(255.0) if scale else subset

    return FashionMNIST(
        x_train=images(x_full, train_idx), y_train=y_full[train_idx],
        x_val=images(x_full, val_idx), y_val=y_full[val_idx],
        x_test=images(x_test, test_idx), y_test=y_test[test_idx],
        class_names=CLASS_NAMES, source=str(folder), fast=fast,
        train_rows=train_idx, val_rows=val_idx,
    )


# ---------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------

class _Search:
    """What was tried so far, to explain a failure precisely."""

    def __init__(self) -> None:
        self.tried: list[str] = []    # one line per location
        self.corrupt: list[str] = []  # "path: what is wrong"

    def note(self, where: str, outcome: str) -> None:
        self.tried.append(f"{where}: {outcome}")


def _locate_and_read() -> tuple[Path, dict[str, np.ndarray]]:
    """Return the folder used and the four checked arrays (read-only)."""
    search = _Search()

    # 1. Keras's cache.
    keras_dir = _keras_cache_dir()
    found = _read_folder(keras_dir, "Keras's cache", search)
    if isinstance(found, dict):
        return keras_dir, found
    keras_missing = found  # names missing from Keras's cache
    keras_cache_damaged = len(search.corrupt) > 0

    # 2. COMPANION_DATA_DIR.
    data_dir = settings.data_dir
    if data_dir is None:
        search.note("COMPANION_DATA_DIR", "not set")
    else:
        found = _read_folder(data_dir, "COMPANION_DATA_DIR", search)
        if isinstance(found, dict):
            return data_dir, found

    # 3. The Debian package.
    found = _read_folder(DEBIAN_DIR, "Debian package dataset-fashion-mnist", search)
    if isinstance(found, dict):
        return DEBIAN_DIR, found

    # 4. A download by Keras, into its cache.
    where = f"download from {DOWNLOAD_URL}"
    if keras_cache_damaged:
        # Keras would not check the damaged file and might overwrite it.
        search.note(where, "not tried, because Keras's cache holds a damaged file")
        raise _failure(search)
    problem = _download_host_reachable(PROBE_TIMEOUT_S)
    if problem is not None:
        search.note(where, problem)
        raise _failure(search)
    try:
        folder = _download_with_keras(keras_dir, keras_missing)
    except Exception as exc:  # Keras raises a bare Exception on URL errors
        search.note(where, f"failed ({type(exc).__name__}: {exc})")
        raise _failure(search) from None
    found = _read_folder(folder, "Keras's cache after the download", search)
    if isinstance(found, dict):
        return folder, found
    raise _failure(search)


def _keras_cache_dir() -> Path:
    """The folder where Keras keeps Fashion-MNIST (``$KERAS_HOME/datasets/...``)."""
    home = os.environ.get("KERAS_HOME", "").strip()
    if home:
        base = Path(home).expanduser()
    else:
        # If Keras is already imported, ask it (it reads KERAS_HOME once, at
        # import). Otherwise use its default: ~/.keras, or /tmp/.keras when
        # the home folder is not writable.
        keras_config = sys.modules.get("keras.src.backend.config")
        keras_home = getattr(keras_config, "keras_home", None)
        if callable(keras_home):
            base = Path(keras_home()).expanduser()
        else:
            user_home = Path("~").expanduser()
            base = (user_home if os.access(user_home, os.W_OK) else Path("/tmp")) / ".keras"
    return base / "datasets" / "fashion-mnist"


def _read_folder(folder: Path, label: str, search: _Search) -> dict[str, np.ndarray] | list[str]:
    """Read the four files from ``folder``.

    Returns the four arrays if all are present and intact; otherwise records
    what went wrong in ``search`` and returns the names that are missing or
    damaged.
    """
    where = f"{label} {folder}"
    try:
        if not folder.is_dir():
            search.note(where, "not a folder" if folder.exists() else "folder does not exist")
            return list(_FILES)
        os.listdir(folder)  # fails early, and clearly, on an unreadable folder
    except OSError as exc:
        search.note(where, f"cannot be read ({exc.strerror or exc})")
        return list(_FILES)

    arrays: dict[str, np.ndarray] = {}
    missing: list[str] = []
    unreadable: list[str] = []
    n_corrupt = len(search.corrupt)
    for name, expected in _FILES.items():
        for path in (folder / name, folder / (name + ".gz")):
            try:
                if not path.exists():
                    continue
                arrays[name] = _read_checked(path, expected)
                break
            except _Damaged as exc:
                search.corrupt.append(f"{path}: {exc}")
            except OSError as exc:
                unreadable.append(f"{path.name} cannot be read ({exc.strerror or exc})")
        else:
            missing.append(name)

    if not missing:
        return arrays
    outcome = []
    absent = [n for n in missing if not any(_present(folder / f) for f in (n, n + ".gz"))]
    if absent:
        outcome.append("missing " + ", ".join(f"{n}[.gz]" for n in absent))
    if len(search.corrupt) > n_corrupt:
        outcome.append(f"{len(search.corrupt) - n_corrupt} damaged file(s), listed above")
    outcome.extend(unreadable)
    search.note(where, "; ".join(outcome))
    return missing


def _present(path: Path) -> bool:
    """True if ``path`` exists, or may exist but cannot even be looked at."""
    try:
        return path.exists()
    except OSError:
        return True


# ---------------------------------------------------------------------------
# Reading and checking one file
# ---------------------------------------------------------------------------

class _Damaged(Exception):
    """A file is there but its content is not the expected one."""


# path -> ((size, mtime_ns) of the file when read, the checked array)
_MEMO: dict[str, tuple[tuple[int, int], np.ndarray]] = {}


def _read_checked(path: Path, expected: _Expected) -> np.ndarray:
    """Return the IDX array stored in ``path`` (``.gz`` or not), checked.

    Raises ``_Damaged`` if the content is wrong, ``OSError`` if the file
    cannot be read. Results are memoized on (path, size, modification time).
    """
    stat = path.stat()
    stamp = (stat.st_size, stat.st_mtime_ns)
    key = str(path.absolute())
    memo = _MEMO.get(key)
    if memo is not None and memo[0] == stamp:
        return memo[1]

    with open(path, "rb") as f:
        if path.suffix == ".gz":
            try:
                with gzip.GzipFile(fileobj=f) as gz:
                    data = gz.read()  # checks the gzip CRC at the end
            except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
                raise _Damaged(f"the gzip data is damaged ({exc})") from None
        else:
            data = f.read()

    if len(data) != expected.size:
        raise _Damaged(f"wrong size: {len(data):,} bytes once decompressed, expected {expected.size:,}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected.sha256:
        raise _Damaged(f"wrong content: SHA-256 {digest[:16]}..., expected {expected.sha256[:16]}...")
    array = _parse_idx(data, expected)
    _MEMO[key] = (stamp, array)
    return array


def _parse_idx(data: bytes, expected: _Expected) -> np.ndarray:
    """Parse an IDX file (the MNIST format) of unsigned bytes.

    The header is a 4-byte magic number (two zero bytes, the type code 0x08
    for unsigned bytes, the number of dimensions), then one big-endian 32-bit
    size per dimension; the values follow.
    """
    (magic,) = struct.unpack(">I", data[:4])
    if magic != expected.magic:
        raise _Damaged(f"not an IDX file of this kind (magic number {magic}, expected {expected.magic})")
    ndim = magic & 0xFF
    offset = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", data[4:offset])
    if shape != expected.shape or len(data) - offset != int(np.prod(shape)):
        raise _Damaged(f"unexpected dimensions {shape}, expected {expected.shape}")
    array = np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)
    array.flags.writeable = False  # shared by every load: callers get copies
    return array


# ---------------------------------------------------------------------------
# Split and fast-mode subset
# ---------------------------------------------------------------------------

_SPLITS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _split_indices(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation indices of the sources' 80/20 split of ``n`` items."""
    if n not in _SPLITS:
        from sklearn.model_selection import train_test_split

        train_idx, val_idx = train_test_split(np.arange(n), test_size=0.2, random_state=42)
        _SPLITS[n] = (train_idx, val_idx)
    train_idx, val_idx = _SPLITS[n]
    return train_idx.copy(), val_idx.copy()


def _first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Positions of the first ``per_class`` items of each class, in their order."""
    keep = [np.flatnonzero(labels == c)[:per_class] for c in range(len(CLASS_NAMES))]
    return np.sort(np.concatenate(keep))


# ---------------------------------------------------------------------------
# Download
# ---------------------------------------------------------------------------

def _download_host_reachable(timeout: float) -> str | None:
    """Try to reach the download server (or the HTTPS proxy) within ``timeout`` s.

    Returns None if a connection opened, else a short reason. The attempt runs
    in a daemon thread because name resolution has no timeout of its own.
    """
    url = urllib.parse.urlsplit(DOWNLOAD_URL)
    host, port = url.hostname or "", url.port or 443
    proxy = urllib.request.getproxies().get("https")
    if proxy and not urllib.request.proxy_bypass(host):
        proxy_url = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
        host, port = proxy_url.hostname or host, proxy_url.port or 8080

    outcome: list[str | None] = []  # None: connected; else why not
    done = threading.Event()

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                outcome.append(None)
        except OSError as exc:
            outcome.append(str(exc) or type(exc).__name__)
        finally:
            done.set()

    threading.Thread(target=attempt, daemon=True, name="fashion-mnist-probe").start()
    if not done.wait(timeout) or not outcome:
        return f"{host} did not answer within {timeout:g} s; offline?"
    if outcome[0] is not None:
        return f"{host} cannot be reached ({outcome[0]}); offline?"
    return None


def _download_with_keras(keras_dir: Path, names: list[str]) -> Path:
    """Download the ``.gz`` files missing from Keras's cache; return their folder.

    This is what ``keras.datasets.fashion_mnist.load_data()`` does (same URL,
    same cache folder), one file at a time so we learn where each file went.
    Files already in the cache are not downloaded again.
    """
    from keras.utils import get_file

    cache_dir = keras_dir.parent.parent  # .../datasets/fashion-mnist -> KERAS_HOME
    try:  # get_file falls back to /tmp/.keras when the folder does not exist yet
        keras_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # not writable: Keras's own fallback applies
    folder = keras_dir
    for name in names:
        path = get_file(
            name + ".gz", origin=DOWNLOAD_URL + name + ".gz",
            cache_dir=str(cache_dir), cache_subdir=os.path.join("datasets", "fashion-mnist"),
        )
        # Keras falls back to /tmp/.keras when the cache folder is not writable.
        folder = Path(path).parent
    return folder


# ---------------------------------------------------------------------------
# The error message
# ---------------------------------------------------------------------------

def _failure(search: _Search) -> DataNotFoundError | DataCorruptError:
    """Build the error that explains what was searched and how to fix it."""
    files = ", ".join(_FILES)
    lines: list[str] = []
    if search.corrupt:
        lines.append("Fashion-MNIST was found, but no intact copy of all four files:")
        lines += [f"  - {c}" for c in search.corrupt]
        lines.append("These files were left untouched: delete or replace them yourself.")
    else:
        lines.append("Fashion-MNIST was not found.")
    lines.append(f"Looked for {files} (each .gz or decompressed) in:")
    lines += [f"  {i}. {t}" for i, t in enumerate(search.tried, 1)]
    lines += [
        "To fix it, do one of:",
        "  (a) connect to the internet and load again: Keras downloads the files "
        f"(about 30 MB) into {_keras_cache_dir()};",
        "  (b) on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist",
        "  (c) put the four files in a folder and set the environment variable "
        "COMPANION_DATA_DIR to that folder (in a notebook: "
        "os.environ['COMPANION_DATA_DIR'] = '/path/to/folder').",
    ]
    error = DataCorruptError if search.corrupt else DataNotFoundError
    return error("\n".join(lines))
