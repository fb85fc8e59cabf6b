"""Tests of companion.data: finding, checking, splitting Fashion-MNIST.

No test uses the network or the real ~/.keras: every test points KERAS_HOME
at a temporary folder, and the download (probe and Keras call) is replaced.
The "good" copies are the Debian package's files; tests that need them are
skipped when the package is not installed.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest

from companion import data
from companion.errors import (
    CompanionTypeError,
    DataCorruptError,
    DataError,
    DataNotFoundError,
)

NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]
DEBIAN = Path("/usr/share/datasets/fashion-mnist")
HAVE_DEBIAN = all((DEBIAN / (n + ".gz")).is_file() for n in NAMES)
# The real probe and download, kept before the autouse fixture replaces them.
REAL_PROBE = data._download_host_reachable
REAL_DOWNLOAD = data._download_with_keras

needs_data = pytest.mark.skipif(
    not HAVE_DEBIAN,
    reason="Fashion-MNIST is not in /usr/share/datasets/fashion-mnist "
    "(sudo apt-get install dataset-fashion-mnist)",
)


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Keep every test away from the network, ~/.keras and the real settings."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("COMPANION_DATA_DIR", raising=False)
    monkeypatch.delenv("COMPANION_FAST", raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian-package")
    monkeypatch.setattr(data, "_download_host_reachable", lambda timeout: "offline (test)")

    def no_download(keras_dir, names):
        raise AssertionError("a test tried to download")

    monkeypatch.setattr(data, "_download_with_keras", no_download)


def keras_dir(tmp_path: Path) -> Path:
    return tmp_path / "keras_home" / "datasets" / "fashion-mnist"


@pytest.fixture(scope="session")
def raw_files(tmp_path_factory) -> Path:
    """A folder with the four decompressed Debian files (made once)."""
    if not HAVE_DEBIAN:
        pytest.skip("Fashion-MNIST is not in /usr/share/datasets/fashion-mnist")
    folder = tmp_path_factory.mktemp("raw")
    for name in NAMES:
        with gzip.open(DEBIAN / (name + ".gz"), "rb") as src, open(folder / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return folder


def good_folder(folder: Path, raw_files: Path, *, gz: bool = False, skip: str | None = None) -> Path:
    """Fill ``folder`` with symlinks to good files (``.gz`` or decompressed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        if name == skip:
            continue
        if gz:
            (folder / (name + ".gz")).symlink_to(DEBIAN / (name + ".gz"))
        else:
            (folder / name).symlink_to(raw_files / name)
    return folder


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Content and modification time of every file under ``root``."""
    return {
        str(p): (p.read_bytes(), p.lstat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def fake_idx(magic: int, shape: tuple[int, ...], fill: int = 0) -> bytes:
    """A well-formed IDX file of the given shape (but not Fashion-MNIST)."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in shape)
    return header + bytes([fill]) * int(np.prod(shape))


# Ways to damage train-labels-idx1-ubyte (small, so cheap to copy).
def damage_truncated_gz(folder: Path, raw_files: Path) -> Path:
    good = (DEBIAN / "train-labels-idx1-ubyte.gz").read_bytes()
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(good[: len(good) // 2])
    return path


def damage_bit_flip_gz(folder: Path, raw_files: Path) -> Path:
    good = bytearray((DEBIAN / "train-labels-idx1-ubyte.gz").read_bytes())
    good[len(good) // 2] ^= 0x10
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(bytes(good))
    return path


def damage_wrong_size(folder: Path, raw_files: Path) -> Path:
    path = folder / "train-labels-idx1-ubyte"
    path.write_bytes((raw_files / "train-labels-idx1-ubyte").read_bytes()[:-1])
    return path


def damage_wrong_content(folder: Path, raw_files: Path) -> Path:
    # Right size, right header, one label changed: only the hash can tell.
    labels = bytearray((raw_files / "train-labels-idx1-ubyte").read_bytes())
    labels[100] = (labels[100] + 1) % 10
    path = folder / "train-labels-idx1-ubyte"
    path.write_bytes(bytes(labels))
    return path


def damage_fake_idx_gz(folder: Path, raw_files: Path) -> Path:
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(fake_idx(2049, (60_000,), fill=3)))
    return path


DAMAGES = {
    "truncated .gz": (damage_truncated_gz, "gzip"),
    "bit flip in .gz": (damage_bit_flip_gz, "gzip"),
    "wrong size": (damage_wrong_size, "size"),
    "wrong content": (damage_wrong_content, "SHA-256"),
    "fake IDX in .gz": (damage_fake_idx_gz, "SHA-256"),
}


# ---------------------------------------------------------------------------
# The real data
# ---------------------------------------------------------------------------

@needs_data
def test_real_data_from_debian_package(monkeypatch):
    from sklearn.model_selection import train_test_split

    monkeypatch.setattr(data, "DEBIAN_DIR", DEBIAN)
    d = data.load_fashion_mnist(fast=False)

    assert d.x_train.shape == (48_000, 28, 28)
    assert d.x_val.shape == (12_000, 28, 28)
    assert d.x_test.shape == (10_000, 28, 28)
    assert d.y_train.shape == (48_000,) and d.y_val.shape == (12_000,) and d.y_test.shape == (10_000,)
    for x in (d.x_train, d.x_val, d.x_test):
        assert x.dtype == np.float32
        assert x.min() == 0.0 and x.max() == 1.0
    for y in (d.y_train, d.y_val, d.y_test):
        assert y.dtype == np.uint8
        assert set(np.unique(y)) == set(range(10))
    assert d.class_names == data.CLASS_NAMES
    assert d.class_names[0] == "T-shirt/top" and d.class_names[9] == "Ankle boot"
    assert d.source == str(DEBIAN) and d.fast is False

    # The split is exactly the sources' train_test_split.
    arrays = data._locate_and_read()[1]
    x_full, y_full = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    x_test, y_test = arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]
    x_tr, x_va, y_tr, y_va = train_test_split(x_full, y_full, test_size=0.2, random_state=42)
    np.testing.assert_array_equal(d.y_train, y_tr)
    np.testing.assert_array_equal(d.y_val, y_va)
    np.testing.assert_array_equal(d.y_test, y_test)
    np.testing.assert_array_equal(d.x_train, x_tr.astype(np.float32) / 255)
    np.testing.assert_array_equal(d.x_val, x_va.astype(np.float32) / 255)
    np.testing.assert_array_equal(d.x_test, x_test.astype(np.float32) / 255)

    assert data._locate_and_read()[0] == DEBIAN
    text = repr(d)
    assert "(48000, 28, 28)" in text and "(10000, 28, 28)" in text and str(DEBIAN) in text


def test_scale_false_gives_the_uint8_values(tmp_path, raw_files, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(good_folder(tmp_path / "d", raw_files)))
    raw = data.load_fashion_mnist(scale=False, fast=True)
    scaled = data.load_fashion_mnist(scale=True, fast=True)
    assert raw.x_train.dtype == np.uint8 and raw.x_train.max() == 255
    np.testing.assert_array_equal(raw.x_train.astype(np.float32) / 255, scaled.x_train)
    np.testing.assert_array_equal(raw.y_val, scaled.y_val)


def test_returned_arrays_are_independent_copies(tmp_path, raw_files, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(good_folder(tmp_path / "d", raw_files)))
    first = data.load_fashion_mnist(scale=False, fast=True)
    first.x_train[:] = 7
    first.y_train[:] = 7
    second = data.load_fashion_mnist(scale=False, fast=True)
    assert second.x_train.max() == 255
    assert set(np.unique(second.y_train)) == set(range(10))


# ---------------------------------------------------------------------------
# Fast mode
# ---------------------------------------------------------------------------

def test_fast_mode_is_small_balanced_and_deterministic(tmp_path, raw_files, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(good_folder(tmp_path / "d", raw_files)))
    monkeypatch.setenv("COMPANION_FAST", "1")
    d = data.load_fashion_mnist()
    assert d.fast is True and "fast" in repr(d)
    assert d.x_train.shape == (2000, 28, 28)
    assert d.x_val.shape == (500, 28, 28)
    assert d.x_test.shape == (500, 28, 28)
    assert np.bincount(d.y_train, minlength=10).tolist() == [200] * 10
    assert np.bincount(d.y_val, minlength=10).tolist() == [50] * 10
    assert np.bincount(d.y_test, minlength=10).tolist() == [50] * 10
    assert d.x_train.dtype == np.float32 and d.x_train.max() <= 1.0

    again = data.load_fashion_mnist()
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(d, name), getattr(again, name))


def test_fast_subset_is_first_per_class_of_the_full_split(tmp_path, raw_files, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(good_folder(tmp_path / "d", raw_files)))
    full = data.load_fashion_mnist(fast=False, scale=False)
    small = data.load_fashion_mnist(fast=True, scale=False)
    for split, k in (("train", 200), ("val", 50), ("test", 50)):
        y = getattr(full, f"y_{split}")
        keep = np.sort(np.concatenate([np.flatnonzero(y == c)[:k] for c in range(10)]))
        np.testing.assert_array_equal(getattr(small, f"y_{split}"), y[keep])
        np.testing.assert_array_equal(getattr(small, f"x_{split}"), getattr(full, f"x_{split}")[keep])


def test_fast_argument_overrides_the_setting(tmp_path, raw_files, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(good_folder(tmp_path / "d", raw_files)))
    monkeypatch.setenv("COMPANION_FAST", "1")
    assert len(data.load_fashion_mnist(fast=False, scale=False).y_train) == 48_000
    monkeypatch.setenv("COMPANION_FAST", "0")
    assert len(data.load_fashion_mnist(fast=True, scale=False).y_train) == 2_000


# ---------------------------------------------------------------------------
# Where the files are found
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [False, True], ids=["decompressed", "gz"])
def test_files_in_companion_data_dir_are_used(tmp_path, raw_files, monkeypatch, gz):
    folder = good_folder(tmp_path / "mine", raw_files, gz=gz)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(folder))
    assert data._locate_and_read()[0] == folder
    d = data.load_fashion_mnist(fast=True)
    assert d.source == str(folder)


def test_keras_cache_comes_first(tmp_path, raw_files, monkeypatch):
    good_folder(keras_dir(tmp_path), raw_files, gz=True)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(good_folder(tmp_path / "mine", raw_files)))
    monkeypatch.setattr(data, "DEBIAN_DIR", good_folder(tmp_path / "deb", raw_files))
    assert data._locate_and_read()[0] == keras_dir(tmp_path)
    assert data.load_fashion_mnist(fast=True).source == str(keras_dir(tmp_path))


def test_companion_data_dir_comes_before_debian(tmp_path, raw_files, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(good_folder(tmp_path / "mine", raw_files)))
    monkeypatch.setattr(data, "DEBIAN_DIR", good_folder(tmp_path / "deb", raw_files))
    assert data._locate_and_read()[0] == tmp_path / "mine"


def test_keras_home_default_is_home_dot_keras(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delitem(sys.modules, "keras.src.backend.config", raising=False)
    assert data._keras_cache_dir() == tmp_path / ".keras" / "datasets" / "fashion-mnist"


def test_keras_home_of_an_imported_keras_is_respected(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    fake_config = types.SimpleNamespace(keras_home=lambda: str(tmp_path / "kh"))
    monkeypatch.setitem(sys.modules, "keras.src.backend.config", fake_config)
    assert data._keras_cache_dir() == tmp_path / "kh" / "datasets" / "fashion-mnist"


# ---------------------------------------------------------------------------
# Damaged copies
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("damage", list(DAMAGES), ids=list(DAMAGES))
def test_damaged_copy_is_skipped_for_a_good_one_later(tmp_path, raw_files, monkeypatch, damage):
    make_bad, _ = DAMAGES[damage]
    bad_dir = good_folder(keras_dir(tmp_path), raw_files, skip="train-labels-idx1-ubyte")
    make_bad(bad_dir, raw_files)
    good = good_folder(tmp_path / "mine", raw_files, gz=True)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(good))
    before = snapshot(tmp_path)

    d = data.load_fashion_mnist(fast=True)

    assert d.source == str(good)
    assert snapshot(tmp_path) == before  # nothing deleted, changed or added


def test_damaged_copy_in_data_dir_is_skipped_for_debian(tmp_path, raw_files, monkeypatch):
    bad_dir = good_folder(tmp_path / "mine", raw_files, skip="train-labels-idx1-ubyte")
    damage_truncated_gz(bad_dir, raw_files)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(bad_dir))
    monkeypatch.setattr(data, "DEBIAN_DIR", good_folder(tmp_path / "deb", raw_files, gz=True))
    assert data._locate_and_read()[0] == tmp_path / "deb"


def test_good_sibling_of_a_damaged_file_in_the_same_folder_is_used(tmp_path, raw_files, monkeypatch):
    folder = good_folder(tmp_path / "mine", raw_files)  # decompressed, all good
    damage_bit_flip_gz(folder, raw_files)               # plus a bad .gz next to one
    monkeypatch.setenv("COMPANION_DATA_DIR", str(folder))
    assert data._locate_and_read()[0] == folder


@pytest.mark.parametrize("damage", list(DAMAGES), ids=list(DAMAGES))
def test_only_damaged_copies_raise_data_corrupt_error(tmp_path, raw_files, monkeypatch, damage):
    make_bad, reason = DAMAGES[damage]
    folder = good_folder(tmp_path / "mine", raw_files, skip="train-labels-idx1-ubyte")
    bad = make_bad(folder, raw_files)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(folder))
    before = snapshot(tmp_path)

    with pytest.raises(DataCorruptError) as info:
        data.load_fashion_mnist()

    message = str(info.value)
    assert str(bad) in message
    assert reason in message
    assert isinstance(info.value, DataError)
    assert snapshot(tmp_path) == before


def test_damaged_keras_cache_is_never_handed_to_keras(tmp_path, raw_files, monkeypatch):
    folder = keras_dir(tmp_path)
    folder.mkdir(parents=True)
    bad = damage_truncated_gz(folder, raw_files)
    probes = []
    monkeypatch.setattr(data, "_download_host_reachable", lambda timeout: probes.append(1))
    before = snapshot(tmp_path)

    with pytest.raises(DataCorruptError) as info:
        data.load_fashion_mnist()

    assert probes == []  # no download attempted (the autouse fixture would also fail)
    assert str(bad) in str(info.value)
    assert "not tried" in str(info.value)
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------------------
# Nothing found
# ---------------------------------------------------------------------------

def assert_names_remedies(message: str) -> None:
    for name in NAMES:
        assert name in message
    assert "internet" in message                                # (a)
    assert "sudo apt-get install dataset-fashion-mnist" in message  # (b)
    assert "COMPANION_DATA_DIR" in message                      # (c)


def test_nothing_found_offline_raises_data_not_found(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError) as info:
        data.load_fashion_mnist()
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    assert_names_remedies(message)
    assert str(keras_dir(tmp_path)) in message
    assert str(tmp_path / "nowhere") in message and "does not exist" in message
    assert str(tmp_path / "no-debian-package") in message
    assert "offline (test)" in message
    with pytest.raises(DataNotFoundError):
        data._locate_and_read()[0]
    with pytest.raises(DataNotFoundError):
        data.load_fashion_mnist(fast=True)


def test_data_dir_that_is_a_file_is_reported(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("hello")
    monkeypatch.setenv("COMPANION_DATA_DIR", str(not_a_folder))
    with pytest.raises(DataNotFoundError, match="not a folder"):
        data.load_fashion_mnist()


def test_incomplete_folder_names_the_missing_file(tmp_path, raw_files, monkeypatch):
    folder = good_folder(tmp_path / "mine", raw_files, skip="t10k-labels-idx1-ubyte")
    monkeypatch.setenv("COMPANION_DATA_DIR", str(folder))
    with pytest.raises(DataNotFoundError, match=r"missing t10k-labels-idx1-ubyte\[\.gz\]"):
        data.load_fashion_mnist()


def test_offline_failure_does_not_hang_when_the_network_hangs(tmp_path, monkeypatch):
    """The real probe, with a connection attempt that never returns."""
    monkeypatch.setattr(data, "_download_host_reachable", REAL_PROBE)
    monkeypatch.setattr(data, "PROBE_TIMEOUT_S", 0.2)
    release = threading.Event()

    def hanging_connect(address, timeout=None):
        release.wait()  # like a DNS lookup that never answers
        raise OSError("released")

    monkeypatch.setattr(data.socket, "create_connection", hanging_connect)
    outcome: list[BaseException] = []

    def load():
        try:
            data.load_fashion_mnist()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(60)  # generous: only "did it hang?"
    release.set()
    assert not worker.is_alive(), "load_fashion_mnist hung on a network that does not answer"
    assert len(outcome) == 1 and isinstance(outcome[0], DataNotFoundError)
    assert "did not answer" in str(outcome[0])
    assert_names_remedies(str(outcome[0]))


# ---------------------------------------------------------------------------
# The probe and the download (without the network)
# ---------------------------------------------------------------------------

def test_probe_reports_a_refused_connection(monkeypatch):
    def refuse(address, timeout=None):
        raise OSError("Name or service not known")

    monkeypatch.setattr(data.socket, "create_connection", refuse)
    for var in ("https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    reason = REAL_PROBE(1.0)
    assert "Name or service not known" in reason and "storage.googleapis.com" in reason


def test_probe_succeeds_when_a_connection_opens(monkeypatch):
    calls = []

    class Connection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def connect(address, timeout=None):
        calls.append(address)
        return Connection()

    monkeypatch.setattr(data.socket, "create_connection", connect)
    for var in ("https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    assert REAL_PROBE(1.0) is None
    assert calls == [("storage.googleapis.com", 443)]

    calls.clear()
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    assert REAL_PROBE(1.0) is None
    assert calls == [("proxy.example", 3128)]


def test_download_fills_the_keras_cache(tmp_path, raw_files, monkeypatch):
    kdir = keras_dir(tmp_path)
    kdir.mkdir(parents=True)
    (kdir / "t10k-labels-idx1-ubyte").symlink_to(raw_files / "t10k-labels-idx1-ubyte")
    requested = []

    def fake_download(folder, names):
        requested.extend(names)
        good_folder(folder, raw_files, gz=True, skip="t10k-labels-idx1-ubyte")
        return folder

    monkeypatch.setattr(data, "_download_host_reachable", lambda timeout: None)
    monkeypatch.setattr(data, "_download_with_keras", fake_download)
    assert data._locate_and_read()[0] == kdir
    assert sorted(requested) == sorted(n for n in NAMES if n != "t10k-labels-idx1-ubyte")


def test_damaged_download_is_reported_not_deleted(tmp_path, raw_files, monkeypatch):
    def fake_download(folder, names):
        good_folder(folder, raw_files, skip="train-labels-idx1-ubyte")
        (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"<html>captive portal</html>")
        return folder

    monkeypatch.setattr(data, "_download_host_reachable", lambda timeout: None)
    monkeypatch.setattr(data, "_download_with_keras", fake_download)
    with pytest.raises(DataCorruptError) as info:
        data.load_fashion_mnist()
    bad = keras_dir(tmp_path) / "train-labels-idx1-ubyte.gz"
    assert str(bad) in str(info.value)
    assert bad.read_bytes() == b"<html>captive portal</html>"


def test_failed_download_raises_ours_without_the_urllib_chain(tmp_path, monkeypatch):
    def fake_download(folder, names):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- timed out")

    monkeypatch.setattr(data, "_download_host_reachable", lambda timeout: None)
    monkeypatch.setattr(data, "_download_with_keras", fake_download)
    with pytest.raises(DataNotFoundError) as info:
        data.load_fashion_mnist()
    assert "URL fetch failure" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert_names_remedies(str(info.value))


def test_download_asks_keras_for_the_missing_files_only(tmp_path, monkeypatch):
    """The real _download_with_keras, with keras.utils.get_file replaced."""
    calls = []

    def get_file(fname, origin, cache_dir, cache_subdir):
        calls.append((fname, origin, cache_dir, cache_subdir))
        return os.path.join(cache_dir, cache_subdir, fname)

    fake_keras = types.ModuleType("keras")
    fake_utils = types.ModuleType("keras.utils")
    fake_utils.get_file = get_file
    fake_keras.utils = fake_utils
    monkeypatch.setitem(sys.modules, "keras", fake_keras)
    monkeypatch.setitem(sys.modules, "keras.utils", fake_utils)

    kdir = keras_dir(tmp_path)
    folder = REAL_DOWNLOAD(kdir, ["train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
    assert folder == kdir
    assert [c[0] for c in calls] == ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert calls[0][1] == data.DOWNLOAD_URL + "train-images-idx3-ubyte.gz"
    assert Path(calls[0][2]) == tmp_path / "keras_home"
    assert Path(calls[0][3]) == Path("datasets/fashion-mnist")



@needs_data
def test_real_keras_download_from_a_local_server(tmp_path, monkeypatch):
    """Keras's real get_file, served the Debian files by a local HTTP server."""
    pytest.importorskip("keras")
    import functools
    import http.server

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(DEBIAN)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(data, "DOWNLOAD_URL", f"http://127.0.0.1:{server.server_address[1]}/")
    monkeypatch.setattr(data, "_download_host_reachable", REAL_PROBE)
    monkeypatch.setattr(data, "_download_with_keras", REAL_DOWNLOAD)
    try:
        d = data.load_fashion_mnist(fast=True)
    finally:
        server.shutdown()
        server.server_close()
    kdir = keras_dir(tmp_path)
    assert d.source == str(kdir)
    assert sorted(p.name for p in kdir.iterdir()) == sorted(n + ".gz" for n in NAMES)
    assert np.bincount(d.y_train).tolist() == [200] * 10


# ---------------------------------------------------------------------------
# Permissions and memoization
# ---------------------------------------------------------------------------

def test_read_only_folder_is_fine_and_untouched(tmp_path, raw_files, monkeypatch):
    folder = good_folder(tmp_path / "mine", raw_files, gz=True)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(folder))
    before = snapshot(tmp_path)
    folder.chmod(0o555)
    try:
        assert data.load_fashion_mnist(fast=True).source == str(folder)
    finally:
        folder.chmod(0o755)
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root can read a folder whatever its permissions")
def test_unreadable_folder_gives_a_clear_error(tmp_path, raw_files, monkeypatch):
    folder = good_folder(tmp_path / "mine", raw_files, gz=True)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(folder))
    folder.chmod(0)
    try:
        with pytest.raises(DataNotFoundError) as info:
            data.load_fashion_mnist()
    finally:
        folder.chmod(0o755)
    assert str(folder) in str(info.value) and "cannot be read" in str(info.value)


def test_folder_that_cannot_be_listed_gives_a_clear_error(tmp_path, raw_files, monkeypatch):
    # The same as above, simulated, so that it also runs as root.
    folder = good_folder(tmp_path / "mine", raw_files, gz=True)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(folder))
    real_listdir = os.listdir

    def listdir(path="."):
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real_listdir(path)

    monkeypatch.setattr(data.os, "listdir", listdir)
    with pytest.raises(DataNotFoundError) as info:
        data.load_fashion_mnist()
    assert f"COMPANION_DATA_DIR {folder}: cannot be read (Permission denied)" in str(info.value)


def test_unreadable_file_gives_a_clear_error(tmp_path, raw_files, monkeypatch):
    # A folder where a file should be: cannot be opened, even by root.
    folder = good_folder(tmp_path / "mine", raw_files, skip="train-labels-idx1-ubyte")
    (folder / "train-labels-idx1-ubyte").mkdir()
    monkeypatch.setenv("COMPANION_DATA_DIR", str(folder))
    with pytest.raises(DataNotFoundError) as info:
        data.load_fashion_mnist()
    message = str(info.value)
    assert "train-labels-idx1-ubyte cannot be read" in message and str(folder) in message


def test_second_load_reuses_the_checked_arrays(tmp_path, raw_files, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in NAMES:  # real copies, so the test can change a modification time
        shutil.copy(raw_files / name, folder / name)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(folder))
    parsed = []
    real_parse = data._parse_idx
    monkeypatch.setattr(data, "_parse_idx", lambda raw, exp: parsed.append(1) or real_parse(raw, exp))

    data.load_fashion_mnist(fast=True)
    assert len(parsed) == 4
    data.load_fashion_mnist(fast=True)
    data.load_fashion_mnist(fast=True)
    assert len(parsed) == 4  # nothing read again

    stat = (folder / "t10k-labels-idx1-ubyte").stat()
    os.utime(folder / "t10k-labels-idx1-ubyte", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    data.load_fashion_mnist(fast=True)
    assert len(parsed) == 5  # only the changed file is read and checked again


def test_a_file_damaged_after_a_good_load_is_noticed(tmp_path, raw_files, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in NAMES:
        shutil.copy(raw_files / name, folder / name)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(folder))
    data.load_fashion_mnist(fast=True)
    with open(folder / "train-labels-idx1-ubyte", "ab") as f:
        f.write(b"\0")
    with pytest.raises(DataCorruptError, match="wrong size"):
        data.load_fashion_mnist(fast=True)


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["yes", 1, None, 0.5])
def test_bad_scale_is_rejected(value):
    with pytest.raises(CompanionTypeError) as info:
        data.load_fashion_mnist(scale=value)
    message = str(info.value)
    assert "`scale`" in message and repr(value) in message and "True or False" in message


@pytest.mark.parametrize("value", ["1", 1, 0])
def test_bad_fast_is_rejected(value):
    with pytest.raises(CompanionTypeError) as info:
        data.load_fashion_mnist(fast=value)
    message = str(info.value)
    assert "`fast`" in message and repr(value) in message and "None" in message


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        data.load_fashion_mnist(True)  # type: ignore[misc]


def test_class_names():
    assert data.CLASS_NAMES == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )

