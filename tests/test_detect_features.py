"""The batch n-gram hasher (basira.detect.features) gives scikit-learn's HashingVectorizer matrices, entry for entry.

The shipped weights were trained on sklearn's features; a different hash, n-gram or count would silently move
every score. sklearn is the reference here (it is a pinned dependency).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer

from basira.detect.features import _WORD_TOKEN, FeatureConfig, FeatureExtractor, _murmur3_32
from basira.text import normalize_text

CONFIG = FeatureConfig()
EXTRACTOR = FeatureExtractor(CONFIG)
CHAR = HashingVectorizer(analyzer="char_wb", ngram_range=(CONFIG.char_ngram_min, CONFIG.char_ngram_max),
                         n_features=CONFIG.char_features, alternate_sign=False, norm=None, lowercase=False,
                         dtype=np.float32)
WORD = HashingVectorizer(analyzer="word", token_pattern=_WORD_TOKEN, ngram_range=(1, CONFIG.word_ngram_max),
                         n_features=CONFIG.word_features, alternate_sign=False, norm=None, lowercase=False,
                         dtype=np.float32)

EDGE_CASES = [
    "", " ", "\t\n", "a", "ab", "abc", "abcd", "abcde", "abcdef",  # padded words shorter, equal, longer than n
    "  leading and trailing  ", "a\x1cb\u2028c\xa0d\u3000e\u0085f",  # every kind of Python whitespace splits
    "\U0001f600x\U0001f600 \U00010348\U00010348\U00010348",  # 4-byte UTF-8: blocks end mid-character
    "<url> <user> x_y snake_case", "ﻻ ﷲ",  # placeholders; presentation forms as written
    "a" * 450, "é" * 7, "Σ ΣΑΣ ß ﬁ", "日本語のテキスト",
    "الدولة الإسلامية باقية وتتمدد", "Мы победим", "#ISIS_Khilafa @user http://t.me/x",
    "word " * 40, "x y", "xy z", "1 22 333 4444",  # one-char tokens are no word features
]


def _assert_same(ours, theirs) -> None:
    theirs.sort_indices()
    assert type(ours) is type(theirs) and ours.shape == theirs.shape
    assert ours.has_canonical_format
    for name in ("indptr", "indices", "data"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("normalized", [False, True])
def test_edge_cases_match_sklearn(normalized):
    texts = [normalize_text(t) for t in EDGE_CASES] if normalized else EDGE_CASES
    char, word = EXTRACTOR._counts(texts)
    _assert_same(char, CHAR.transform(texts))
    _assert_same(word, WORD.transform(texts))


def test_each_text_alone_matches_its_row_in_a_batch():
    char, word = EXTRACTOR._counts(EDGE_CASES)
    for i, text in enumerate(EDGE_CASES):
        c, w = EXTRACTOR._counts([text])
        assert (c != char[i]).nnz == 0 and (w != word[i]).nnz == 0, text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(alphabet=st.sampled_from("ab ا ل\u0644\u0627é\U0001f600\u00a0\t_<>url1"), max_size=30),
                min_size=1, max_size=6))
def test_random_texts_match_sklearn(texts):
    char, word = EXTRACTOR._counts(texts)
    _assert_same(char, CHAR.transform(texts))
    _assert_same(word, WORD.transform(texts))


def test_murmur3_matches_sklearn_on_every_tail_length():
    from sklearn.utils import murmurhash3_32

    keys = ["", "a", "ab", "abc", "abcd", "abcde", "ا", "اب", "ابج", "\U0001f600", "x" * 33, "é" * 17]
    buf = "".join(keys).encode("utf-8")
    lengths = np.array([len(k.encode("utf-8")) for k in keys], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    ours = _murmur3_32(buf, starts, lengths)
    assert ours.tolist() == [murmurhash3_32(k.encode("utf-8"), seed=0) for k in keys]


def test_an_empty_batch_is_refused():
    with pytest.raises(ValueError):
        EXTRACTOR._counts([])


def _reference_transform(ext: FeatureExtractor, texts: list[str]):
    """The feature matrix as FeatureExtractor built it with sklearn (before the batch hasher)."""
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    nc = CONFIG.char_features
    blocks = []
    for m, idf in ((CHAR.transform(texts), ext.idf[:nc]), (WORD.transform(texts), ext.idf[nc:])):
        m = m.tocsr()
        m.data = np.log1p(m.data)
        blocks.append(normalize(m.multiply(idf).tocsr(), copy=False))
    blocks.append(ext.indicator_block(texts))
    return sp.hstack(blocks, format="csr", dtype=np.float32)


def test_transform_matches_the_sklearn_pipeline_bit_for_bit():
    from basira.detect.model import LinearModel

    ext = LinearModel.load().extractor()
    texts = [normalize_text(t) for t in EDGE_CASES] * 3 + ["word " * 2000]  # one row longer than _CELLS allows
    ours, theirs = ext.transform(texts), _reference_transform(ext, texts)
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name), err_msg=name)
    x, dense = ext.transform_with_indicators(texts)
    np.testing.assert_array_equal(dense, x[:, -ext.n_indicator_columns:].toarray())


@pytest.mark.parametrize("guard", [2.0**-52, 1.0])  # 1.0: every row is redone in sklearn's order
def test_l2_normalize_matches_sklearn_where_summation_order_matters(monkeypatch, guard):
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    from basira.detect import features

    # Values over six orders of magnitude, in rows of up to 3,000: numpy's pairwise sums differ from sklearn's
    # left-to-right ones in the last bits, which the guard must catch.
    rng = np.random.default_rng(3)
    dense = (rng.random((60, 3000)) * 10.0 ** rng.uniform(-3, 3, (60, 3000))).astype(np.float32)
    dense[rng.random((60, 3000)) < rng.random((60, 1))] = 0
    dense[7] = 0  # an empty row
    monkeypatch.setattr(features, "_GUARD", guard)
    ours = features.l2_normalize_rows(sp.csr_matrix(dense))
    np.testing.assert_array_equal(ours.data, normalize(sp.csr_matrix(dense), copy=False).data)
