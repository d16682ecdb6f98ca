"""The simulated platform: deterministic, X API v2-shaped, and consistent with its ground truth."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from statistics import median

import orjson
import pytest
from typer.testing import CliRunner

from basira.cli import app
from basira.simulate import simulate_platform
from basira.simulate.corpus import POSITIVE_CATEGORIES, BuiltinCorpus, PooledTexts, shorten

FILES = ("tweets.jsonl", "follows.jsonl", "ground_truth.json")
FIXTURE = Path(__file__).parent / "fixtures" / "simulate_texts.jsonl"


def _load(out: Path) -> tuple[list[dict], list[dict], dict]:
    pages = [orjson.loads(line) for line in (out / "tweets.jsonl").read_bytes().splitlines()]
    follows = [orjson.loads(line) for line in (out / "follows.jsonl").read_bytes().splitlines()]
    return pages, follows, orjson.loads((out / "ground_truth.json").read_bytes())


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict], list[dict], dict]:
    out = tmp_path_factory.mktemp("platform")
    summary = simulate_platform(400, 11, str(out))
    assert summary.accounts == 400
    return (out, *_load(out))


def test_same_seed_same_bytes_different_seed_differs(tmp_path: Path) -> None:
    simulate_platform(60, 5, str(tmp_path / "a"))
    simulate_platform(60, 5, str(tmp_path / "b"))
    simulate_platform(60, 6, str(tmp_path / "c"))
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "tweets.jsonl").read_bytes() != (tmp_path / "c" / "tweets.jsonl").read_bytes()


def test_too_few_accounts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        simulate_platform(10, 1, str(tmp_path))


def test_pages_are_x_api_v2_shaped(platform) -> None:
    _, pages, _, gt = platform
    all_ids = {t["id"] for p in pages for t in p["data"]}
    for n, page in enumerate(pages):
        assert set(page) == {"data", "includes", "meta"}
        assert page["meta"]["result_count"] == len(page["data"]) <= 100
        assert ("next_token" in page["meta"]) == (n < len(pages) - 1)
        users = {u["id"]: u for u in page["includes"]["users"]}
        refs = {t["id"]: t for t in page["includes"].get("tweets", [])}
        media = {m["media_key"]: m for m in page["includes"].get("media", [])}
        for u in users.values():
            assert {"id", "username", "name", "description", "created_at", "profile_image_url", "verified",
                    "public_metrics"} <= set(u)
        for m in media.values():
            assert m["type"] in ("photo", "video", "animated_gif")
            assert ("url" if m["type"] == "photo" else "preview_image_url") in m
        for t in page["data"] + list(refs.values()):
            assert {"id", "text", "author_id", "created_at", "lang", "conversation_id", "public_metrics"} <= set(t)
            assert t["id"].isdigit() and t["created_at"].endswith("Z") and t["lang"] in ("ar", "en", "ru")
            assert t["author_id"] in users
            for key in t.get("attachments", {}).get("media_keys", []):
                assert key in media
            text = t["text"]
            ents = t.get("entities", {})
            for h in ents.get("hashtags", []):
                assert text[h["start"]:h["end"]] == "#" + h["tag"]
            for m in ents.get("mentions", []):
                assert text[m["start"]:m["end"]] == "@" + m["username"]
            for url in ents.get("urls", []):
                assert text[url["start"]:url["end"]] == url["url"]
                assert {"expanded_url", "display_url"} <= set(url)
            for ref in t.get("referenced_tweets", []):
                assert ref["type"] in ("replied_to", "quoted", "retweeted")
                assert ref["id"] in refs and ref["id"] in all_ids
                original = refs[ref["id"]]
                author = users[original["author_id"]]["username"]
                if ref["type"] == "retweeted":
                    assert text == f"RT @{author}: {original['text']}"
                    assert gt["posts"][t["id"]]["label"] == gt["posts"][ref["id"]]["label"]
                elif ref["type"] == "replied_to":
                    assert t["in_reply_to_user_id"] == original["author_id"]
                    assert text.startswith(f"@{author} ")
    assert all_ids == set(gt["posts"])


def test_entity_offsets_count_code_points(platform) -> None:
    _, pages, _, _ = platform
    astral = [t for p in pages for t in p["data"]
              if any(ord(c) > 0xFFFF for c in t["text"]) and t.get("entities", {}).get("urls")]
    assert astral, "expected emoji (astral code points) before some links"
    t = astral[0]
    u = t["entities"]["urls"][-1]
    assert t["text"][u["start"]:u["end"]] == u["url"]
    assert len(t["text"].encode("utf-16-le")) // 2 > len(t["text"])  # UTF-16 offsets would differ


def test_ground_truth_is_consistent(platform) -> None:
    _, pages, follows, gt = platform
    accounts = gt["accounts"]
    tweets = {t["id"]: t for p in pages for t in p["data"]}
    roles = {a["role"] for a in accounts.values()}
    assert {"ordinary", "news", "researcher", "counter_speech", "recruiter_hub", "member", "amplifier"} <= roles
    assert 2 <= gt["summary"]["networks"] <= 5 and len(gt["networks"]) == gt["summary"]["networks"]
    for net in gt["networks"]:
        assert net["hubs"] and all(accounts[a]["community"] == net["id"] for a in net["accounts"])
    # Returning accounts: the old one was suspended before the new one was created.
    returning = [(i, a) for i, a in accounts.items() if a["returns_of"]]
    assert returning and len(gt["returning_pairs"]) == len(returning)
    for new_id, a in returning:
        old = accounts[a["returns_of"]]
        assert old["status"] == "suspended" and old["returned_as"] == new_id
        assert _ts(old["suspended_at"]) < _ts(a["created_at"])
        assert old["persona"] == a["persona"] and old["role"] == a["role"]
    assert any(a["lookalike_of"] for a in accounts.values())
    # Nobody posts outside their lifetime.
    for t in tweets.values():
        a = accounts[t["author_id"]]
        assert _ts(a["created_at"]) <= _ts(t["created_at"])
        if a["suspended_at"]:
            assert _ts(t["created_at"]) < _ts(a["suspended_at"])
    # Hubs are hyperactive: far more posts per active day than members.
    end = _ts(gt["summary"]["window"]["end"])
    start = _ts(gt["summary"]["window"]["start"])

    def rate(a: dict) -> float:
        days = ((_ts(a["suspended_at"]) if a["suspended_at"] else end) - max(start, _ts(a["created_at"]))) / 86400
        return a["tweets"] / max(days, 1)

    hubs = [rate(a) for a in accounts.values() if a["role"] == "recruiter_hub"]
    members = [rate(a) for a in accounts.values() if a["role"] == "member"]
    assert median(hubs) > 4 * median(members)
    # Coordinated groups: every shared post falls inside its burst's window, by the group's accounts.
    assert gt["coordinated_groups"]
    for g in gt["coordinated_groups"]:
        assert set(g["tweet_ids"]) == {tid for b in g["bursts"] for tid in b["tweet_ids"]}
        for b in g["bursts"]:
            assert len(b["tweet_ids"]) >= 2 and b["window"]["seconds"] <= 600
            for tid in b["tweet_ids"]:
                t = tweets[tid]
                assert _ts(b["window"]["start"]) <= _ts(t["created_at"]) <= _ts(b["window"]["end"])
                assert t["author_id"] in g["accounts"]
    # Labels: positives come from network accounts; news and researchers post none of their own.
    for tid, post in gt["posts"].items():
        role = accounts[post["author_id"]]["role"]
        if post["type"] != "retweeted" and role in ("news", "researcher", "counter_speech", "ordinary"):
            assert post["label"] == 0, (tid, post)
    assert gt["summary"]["positive_tweets"] == sum(p["label"] for p in gt["posts"].values())
    assert follows and all(f["source_id"] in accounts and f["target_id"] in accounts for f in follows)


def test_builtin_corpus_varies_and_labels_by_category() -> None:
    corpus, rng = BuiltinCorpus(), random.Random(1)
    for category in ("propaganda", "migrate", "news", "counter", "religious", "ordinary"):
        for lang in ("ar", "en", "ru"):
            texts = [corpus.draw(rng, category, lang) for _ in range(60)]
            assert len({t.text for t in texts}) > 20, (category, lang)
            assert all(t.label == (category in POSITIVE_CATEGORIES) for t in texts)


def test_texts_from_labelled_files(tmp_path: Path) -> None:
    pool = PooledTexts([str(FIXTURE)], seed=3, cap=2)
    assert pool.counts == {"0/ar": 2, "0/en": 2, "0/en/news": 1, "1/ar": 2, "1/en": 1}
    rng = random.Random(0)
    assert pool.draw(rng, "news", "en").source_id == "fx-9"  # news posts prefer news-genre rows
    assert pool.draw(rng, "migrate", "ar").source_id in ("fx-1", "fx-2")
    assert pool.draw(rng, "news", "ru").source_id is None  # no Russian in the file: built-in fallback
    summary = simulate_platform(80, 2, str(tmp_path), texts=[str(FIXTURE)])
    pages, _, gt = _load(tmp_path)
    texts = [t["text"] for p in pages for t in p["data"]]
    assert any("FIXTURE positive ar" in text for text in texts)
    assert not any("unknown language" in text for text in texts)
    sourced = [p for p in gt["posts"].values() if "source_id" in p]
    assert sourced and all(p["label"] == (p["source_id"] in ("fx-1", "fx-2", "fx-5")) for p in sourced)
    assert summary.texts == str(FIXTURE)


def test_shorten_keeps_posts_short() -> None:
    assert shorten("headline here is long enough\n" + "body " * 200) == "headline here is long enough"
    assert len(shorten("word " * 200)) <= 280


def test_cli_simulate(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["simulate", "--accounts", "60", "--seed", "1", "--out", str(out),
                                      "--texts", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert "Simulated platform" in result.stdout
    assert all((out / name).exists() for name in FILES)
    bad = CliRunner().invoke(app, ["simulate", "--accounts", "60", "--out", str(out), "--texts",
                                   str(tmp_path / "missing.jsonl")])
    assert bad.exit_code == 2
