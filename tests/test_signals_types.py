"""Signal types: registry, PDQ/MD5/SHA-256/vPDQ/text/URL hashing and distances on generated content."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from basira.signals import SignalError, get_signal_type, signal_types
from basira.signals.pdq import PdqSignal, pdq_from_image
from basira.signals.text import TextMinHashSignal
from basira.signals.url import canonicalize_url
from basira.signals.vpdq import VpdqSignal, frames_to_signal, parse_frames


def make_image(seed: int, size: int = 400) -> Image.Image:
    """A synthetic picture: random coloured shapes on a gradient (never real content)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    base = np.stack([(x * 255 // size), (y * 255 // size), ((x + y) * 127 // size)], -1).astype(np.uint8)
    im = Image.fromarray(base)
    d = ImageDraw.Draw(im)
    for _ in range(12):
        x0, y0 = rng.integers(0, size, 2)
        w, h = rng.integers(size // 10, size // 2, 2)
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)([x0, y0, x0 + w, y0 + h], fill=color)
    return im


def test_registry_names_and_aliases():
    names = set(signal_types())
    assert {"pdq", "vpdq", "md5", "sha256", "text_minhash", "url"} <= names
    assert get_signal_type("video_md5").name == "md5"
    assert get_signal_type("PDQ").name == "pdq"
    with pytest.raises(SignalError, match="unknown signal type"):
        get_signal_type("nope")


def test_pdq_is_robust_to_resize_and_jpeg_but_separates_images(tmp_path):
    a = make_image(1)
    ha, qa = pdq_from_image(a)
    assert qa >= 50 and len(ha) == 64
    p = tmp_path / "a.jpg"
    a.resize((250, 250)).filter(ImageFilter.GaussianBlur(1)).save(p, quality=60)
    hb = PdqSignal.hash_file(p)
    assert PdqSignal.distance(ha, hb) <= 31
    hc, _ = pdq_from_image(make_image(2))
    assert PdqSignal.distance(ha, hc) > 31
    assert PdqSignal.validate(ha.upper()) == ha
    with pytest.raises(SignalError):
        PdqSignal.validate("xyz")


def test_pdq_rejects_flat_images_and_non_images(tmp_path):
    flat = tmp_path / "flat.png"
    Image.new("RGB", (100, 100), (128, 128, 128)).save(flat)
    with pytest.raises(SignalError, match="quality"):
        PdqSignal.hash_file(flat)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image")
    with pytest.raises(SignalError, match="not an image"):
        PdqSignal.hash_file(junk)


def test_file_hashes(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"hello" * 1000)
    assert get_signal_type("md5").hash_file(p) == hashlib.md5(b"hello" * 1000).hexdigest()
    assert get_signal_type("sha256").hash_file(p) == hashlib.sha256(b"hello" * 1000).hexdigest()
    with pytest.raises(SignalError):
        get_signal_type("sha256").validate("abc")
    with pytest.raises(SignalError, match="cannot read"):
        get_signal_type("md5").hash_file(tmp_path / "missing")


def test_text_minhash_near_duplicates_after_normalization():
    t = "انضموا إلينا الآن في القافلة، الطريق إلى النصر يبدأ من هنا يا إخوة"
    disguised = "انضمــــوا إلينا الآن في القافلة ، الطريق إلى النصر يبدأ من هنا يا اخوة!!"
    other = "the weather in the city is sunny today and the market is busy with people"
    h = TextMinHashSignal.hash_text(t)
    assert TextMinHashSignal.distance(h, TextMinHashSignal.hash_text(disguised)) <= 0.4
    assert TextMinHashSignal.distance(h, TextMinHashSignal.hash_text(other)) > 0.8
    assert TextMinHashSignal.hash_text(t) == h  # deterministic
    with pytest.raises(SignalError):
        TextMinHashSignal.hash_text("   ")


@pytest.mark.parametrize(
    "a,b",
    [
        ("HTTP://WWW.Example.com:80/a//b/?utm_source=x&b=2&a=1#frag", "https://example.com/a/b?a=1&b=2"),
        ("example.com/path/", "https://example.com/path"),
        ("https://m.youtube.com/watch?v=abc&feature=share&si=XYZ", "https://youtube.com/watch?v=abc&feature=share"),
        ("https://bücher.de/%7Euser", "https://xn--bcher-kva.de/~user"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
    ],
)
def test_url_canonicalization(a, b):
    assert canonicalize_url(a) == canonicalize_url(b)


def test_url_keeps_path_case_and_rejects_hostless():
    assert canonicalize_url("t.me/AbC") != canonicalize_url("t.me/abc")
    with pytest.raises(SignalError):
        canonicalize_url("https:///nohost")


def test_vpdq_signal_parse_and_distance():
    frames_a = [pdq_from_image(make_image(i))[0] for i in range(5)]
    frames_b = frames_a[:4] + [pdq_from_image(make_image(99))[0]]
    sig_a = json.dumps([f"{h},100,{i}.000" for i, h in enumerate(frames_a)])
    sig_b = json.dumps([f"{h},100,{i}.000" for i, h in enumerate(frames_b)])
    # Kept as written (a partner's spacing and float format go back out unchanged); the frames are what count.
    assert VpdqSignal.validate(" " + sig_a) == sig_a and parse_frames(sig_a) == parse_frames(
        frames_to_signal(parse_frames(sig_a)))
    assert VpdqSignal.distance(sig_b, sig_a) == pytest.approx(0.2)
    assert VpdqSignal.matches(sig_b, sig_a)
    with pytest.raises(SignalError):
        VpdqSignal.validate('["nope"]')


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed (scripts/system-deps.sh)")
def test_vpdq_hashes_a_generated_video(tmp_path):
    pytest.importorskip("vpdq")
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(4):
        make_image(10 + i // 2, 160).save(frames / f"{i:03d}.png")
    out = tmp_path / "v.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-framerate", "1", "-i", str(frames / "%03d.png"), "-pix_fmt", "yuv420p",
         str(out)], check=True, timeout=60,
    )
    sig = VpdqSignal.hash_file(out)
    assert len(parse_frames(sig)) >= 2
    assert VpdqSignal.distance(sig, sig) == 0


def test_hash_files_in_parallel_equals_one_by_one(tmp_path):
    from basira.signals.banks import hash_file, hash_files

    paths = []
    for i in range(6):
        p = tmp_path / f"{i}.jpg"
        make_image(i, 600).save(p, "JPEG", quality=90)
        paths.append(str(p))
    paths.append(str(tmp_path / "missing.jpg"))  # hashes nothing, in its place
    one_by_one = [hash_file(p) for p in paths]
    assert hash_files(paths, workers=2) == one_by_one
    assert len({h["pdq"] for h in one_by_one[:6]}) == 6 and one_by_one[6] == {}
