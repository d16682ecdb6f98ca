"""Feature extraction: hashed char and word n-grams with learned IDF, plus the indicator block.

Hashing keeps the model free of a vocabulary (nothing to unpickle, constant memory); the IDF vector and
the feature parameters are plain arrays and JSON, saved beside the weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize as l2_normalize

from basira.detect.indicators import CATEGORIES, count_indicators
from basira.detect.lexicon import SUPPORT_CATEGORIES


@dataclass(frozen=True)
class FeatureConfig:
    char_ngram_min: int = 2
    char_ngram_max: int = 5
    char_features: int = 2**20
    word_ngram_max: int = 2
    word_features: int = 2**18
    indicator_scale: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


class FeatureExtractor:
    """normalized texts -> sparse feature matrix; `fit_idf` learns document frequencies once."""

    def __init__(self, config: FeatureConfig, idf: np.ndarray | None = None):
        self.config = config
        self.char = HashingVectorizer(
            analyzer="char_wb",
            ngram_range=(config.char_ngram_min, config.char_ngram_max),
            n_features=config.char_features,
            alternate_sign=False,
            norm=None,
            lowercase=False,
            dtype=np.float32,
        )
        self.word = HashingVectorizer(
            analyzer="word",
            token_pattern=r"(?u)\b\w\w+\b|<url>|<user>",
            ngram_range=(1, config.word_ngram_max),
            n_features=config.word_features,
            alternate_sign=False,
            norm=None,
            lowercase=False,
            dtype=np.float32,
        )
        self.idf = idf

    @property
    def n_features(self) -> int:
        return self.config.char_features + self.config.word_features + 2 * len(CATEGORIES)

    def _counts(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        return self.char.transform(texts), self.word.transform(texts)

    def fit_idf(self, texts: Sequence[str]) -> np.ndarray:
        char, word = self._counts(texts)
        n = len(texts)
        df = np.concatenate([np.bincount(m.indices, minlength=m.shape[1]) for m in (char, word)])
        self.idf = (np.log((1 + n) / (1 + df)) + 1.0).astype(np.float32)
        return self.idf

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        if self.idf is None:
            raise RuntimeError("FeatureExtractor.transform called before fit_idf")
        char, word = self._counts(texts)
        nc = self.config.char_features
        blocks = []
        for m, idf in ((char, self.idf[:nc]), (word, self.idf[nc:])):
            m = m.tocsr()
            m.data = np.log1p(m.data)  # sublinear tf: long articles do not drown in repeats
            m = m.multiply(idf).tocsr()
            blocks.append(l2_normalize(m, copy=False))
        blocks.append(self.indicator_block(texts))
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def indicator_block(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Per category: log(1 + hits) and a presence flag, language-independent by design."""
        k = len(CATEGORIES)
        out = np.zeros((len(texts), 2 * k), dtype=np.float32)
        s = self.config.indicator_scale
        for i, text in enumerate(texts):
            counts = count_indicators(text)
            for j, category in enumerate(CATEGORIES):
                c = counts[category]
                if c:
                    out[i, j] = s * math.log1p(c)
                    out[i, k + j] = s
        return sp.csr_matrix(out)

    @property
    def n_indicator_columns(self) -> int:
        return 2 * len(CATEGORIES)

    @property
    def support_columns(self) -> list[int]:
        """Columns of the indicator block's presence flags for the support categories."""
        k = len(CATEGORIES)
        start = self.config.char_features + self.config.word_features + k
        return [start + j for j, c in enumerate(CATEGORIES) if c in SUPPORT_CATEGORIES]

    def feature_names_tail(self) -> list[str]:
        return [f"ind_log:{c}" for c in CATEGORIES] + [f"ind_any:{c}" for c in CATEGORIES]
