"""Evidence packages for investigators: a signed, self-contained zip (or directory) of everything Basira holds
about a case, an account or a community, with a manifest of SHA-256 hashes. See docs/evidence.md.

Building and checking a package are pure functions over {path: bytes}; only `export_package` touches the store
(to read the rows and to log the export in the hash-chained event log: the chain of custody)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import orjson

from basira.compliance import signing
from basira.core.errors import BasiraError
from basira.core.i18n import N_
from basira.core.time import utcnow

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    from basira.store import Store

FORMAT = "basira-evidence/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
GENESIS = "0" * 64
_MEDIA_EXT = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif",
              "image/webp": "webp", "video/mp4": "mp4"}
_MAX_EMBEDDED = 20 * 1024 * 1024  # a data: URL bigger than this stays a reference
_MAX_PACKAGE = 4 * 2**30  # verify reads packages into memory: refuse zip bombs

README = """Basira evidence package ({format})
Subject: {ref}    Exported: {exported_at} by {exporter}    Basira {version}

Files
  content/posts.json      the posts' texts (UTF-8 JSON, exactly as stored)
  content/media.json      media references (URL, kind, stored SHA-256 / PDQ / MD5); embedded files in content/media/
  metadata.json           accounts and posts: ids, times, reply/quote/repost/forward links, mentions, URLs
  detections.json         the detector's scores, categories and evidence spans
  decisions.json          cases, reviewers' decisions (with undo history), appeals, the policy reasons cited
  hash_matches.json       matches against hash banks (bank, item, signal, distance)
  compliance.json         removal orders naming this content, notices to its provider, complaints, preserved copies
  audit/events.jsonl      the event-log entries about these objects, with prev_hash and hash
  manifest.json           every file above with its SHA-256 and size; the signer's public key
  manifest.sig            Ed25519 signature (raw 64 bytes) over the exact bytes of manifest.json

Verify
  basira evidence verify PACKAGE --public-key basira-evidence.pub
or without Basira:
  openssl pkeyutl -verify -pubin -inkey basira-evidence.pub -rawin -in manifest.json -sigfile manifest.sig
  sha256sum each file and compare with manifest.json
Obtain the public key from the exporting organisation through a separate channel and compare its
fingerprint ({fingerprint}): the copy inside the manifest proves integrity only, not origin.

Audit entries: hash = sha256(prev_hash + JSON of {{id, at, kind, actor, subject, payload}} with sorted keys,
no spaces, UTF-8). Compare them with the exporter's live chain (`basira audit verify`); the export itself is
logged there as an `evidence.exported` entry naming this manifest's SHA-256 ({manifest_note}).
"""


class PackageError(BasiraError):
    """A package path that cannot be read as a package at all (the CLI exits 2)."""


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _embedded_media(m: dict[str, Any]) -> tuple[str, bytes] | None:
    """(extension, bytes) of a base64 data: URL; None for references (fetched media are preservation's job)."""
    url = m.get("url") or ""
    if not url.startswith("data:") or ";base64," not in url[:100] or len(url) > _MAX_EMBEDDED * 4 // 3 + 100:
        return None
    mime = url[5:url.index(";")]
    try:
        data = base64.b64decode(url[url.index(",") + 1:], validate=True)
    except (binascii.Error, ValueError):
        return None
    return _MEDIA_EXT.get(mime, "bin"), data


def _reasons(decisions: list[dict[str, Any]]) -> dict[str, Any]:
    """The policy reasons the decisions cite, as the catalogue words them (what the reviewer applied)."""
    from basira.review.policy import load_catalogue

    cat = load_catalogue()
    out = {}
    for code in sorted({d["reason_code"] for d in decisions}):
        r = cat.get(code)
        out[code] = {"title": r.title, "description": r.description} if r else None
    return out


def build_files(data: Mapping[str, Any], subject: dict[str, Any]) -> dict[str, bytes]:
    """The package's content files (everything but README, manifest and signature) from gathered rows."""
    files: dict[str, bytes] = {}
    posts = [{k: p.get(k) for k in ("id", "platform", "external_id", "account_id", "created_at", "lang", "text")}
             for p in data["posts"]]
    media = []
    for m in data["media"]:
        row = {k: m.get(k) for k in ("id", "post_id", "position", "kind", "url", "sha256", "pdq", "md5")}
        emb = _embedded_media(m)
        if emb is not None:
            ext, blob = emb
            path = f"content/media/{m['post_id']}-{m['position']}.{ext}"
            files[path] = blob
            row.update(url=f"(embedded: {path})", file=path, file_sha256=sha256(blob), file_size=len(blob))
        media.append(row)
    files["content/posts.json"] = _json(posts)
    files["content/media.json"] = _json(media)
    meta_posts = [{k: v for k, v in p.items() if k != "text"} for p in data["posts"]]
    files["metadata.json"] = _json({"subject": subject, "accounts": data["accounts"], "posts": meta_posts})
    files["detections.json"] = _json(data["detections"])
    files["decisions.json"] = _json({"cases": data["cases"], "decisions": data["decisions"],
                                     "appeals": data["appeals"], "policy_reasons": _reasons(data["decisions"])})
    files["hash_matches.json"] = _json(data["bank_matches"])
    if data.get("compliance"):
        files["compliance.json"] = _json(data["compliance"])
    files["audit/events.jsonl"] = b"".join(
        orjson.dumps(e, option=orjson.OPT_SORT_KEYS) + b"\n" for e in data["events"])
    return files


def build_manifest(files: Mapping[str, bytes], *, subject: dict[str, Any], exporter: str, exported_at: datetime,
                   public_key: Ed25519PublicKey, chain_head: dict[str, Any] | None, counts: dict[str, int],
                   version: str) -> bytes:
    return _json({
        "format": FORMAT, "subject": subject, "exported_at": _iso(exported_at), "exporter": exporter,
        "basira_version": version, "public_key": signing.public_pem(public_key).decode("ascii"),
        "public_key_sha256": signing.fingerprint(public_key), "audit_chain_head": chain_head, "counts": counts,
        "files": [{"path": p, "sha256": sha256(b), "size": len(b)} for p, b in sorted(files.items())],
    })


def assemble(data: Mapping[str, Any], subject: dict[str, Any], key: Ed25519PrivateKey, *, exporter: str,
             exported_at: datetime, version: str) -> dict[str, bytes]:
    """The whole package as {path: bytes}: content files, README, manifest and its signature."""
    files = build_files(data, subject)
    fp = signing.fingerprint(key.public_key())
    files["README.txt"] = README.format(
        format=FORMAT, ref=subject["ref"], exported_at=_iso(exported_at), exporter=exporter, version=version,
        fingerprint=fp, manifest_note="see manifest.json").encode("utf-8")
    counts = {k: len(data[k]) for k in ("accounts", "posts", "media", "detections", "cases", "decisions",
                                         "appeals", "bank_matches", "events")}
    manifest = build_manifest(files, subject=subject, exporter=exporter, exported_at=exported_at,
                              public_key=key.public_key(), chain_head=data.get("chain_head"), counts=counts,
                              version=version)
    return {**files, MANIFEST: manifest, SIGNATURE: signing.sign(key, manifest)}


# --- writing and reading ---------------------------------------------------------------------------------------

def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name


def write_package(entries: Mapping[str, bytes], out: str | Path, when: datetime) -> Path:
    """Write to a temporary sibling of `out` (a .zip file, else a directory) and return it; `commit_package`
    moves it into place. Never overwrites: evidence once handed over must not silently change."""
    out = Path(out)
    if out.exists():
        raise PackageError.of(N_("%(path)s: already exists (evidence packages are never overwritten)"), path=out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".zip":
        fd, tmp_file = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        stamp = when.astimezone(UTC).timetuple()[:6]
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as z:
            for name in sorted(entries):
                info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, entries[name])
        return Path(tmp_file)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    for name, data in entries.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return tmp


def commit_package(tmp: Path, out: str | Path) -> None:
    os.replace(tmp, out)


def discard_package(tmp: Path) -> None:
    if tmp.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.unlink(missing_ok=True)


def read_package(path: str | Path) -> dict[str, bytes]:
    """Every file of a package (zip or directory) as {path: bytes}. Nothing is extracted to disk."""
    p = Path(path)
    if p.is_dir():
        out: dict[str, bytes] = {}
        for f in sorted(p.rglob("*")):
            rel = f.relative_to(p).as_posix()
            if f.is_symlink():
                out[rel] = b"(symbolic link: " + os.readlink(f).encode("utf-8", "replace") + b")"
            elif f.is_file():
                out[rel] = f.read_bytes()
        return out
    if not p.exists():
        raise PackageError.of(N_("%(path)s: no such file or directory"), path=p)
    try:
        with zipfile.ZipFile(p) as z:
            out = {}
            if sum(i.file_size for i in z.infolist()) > _MAX_PACKAGE:
                raise PackageError.of(N_("%(path)s: expands to more than %(n)s GiB; not read"), path=p,
                                          n=_MAX_PACKAGE // 2**30)
            for info in z.infolist():
                if info.is_dir():
                    continue
                if info.filename in out:
                    raise PackageError.of(N_("%(path)s: the zip holds %(name)s twice"), path=p, name=repr(info.filename))
                out[info.filename] = z.read(info)
            return out
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageError.of(N_("%(path)s: not a zip file or directory (%(error)s)"), path=p, error=exc) from None


# --- verification ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    file: str
    what: str  # modified, missing, added, signature, manifest, audit

    detail: str = ""

    def __str__(self) -> str:
        return f"{self.file}: {self.what}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Verification:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    key_fingerprint: str | None = None
    key_source: str = "none"  # given, embedded

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        m = self.manifest or {}
        return {"ok": self.ok, "problems": [{"file": p.file, "what": p.what, "detail": p.detail}
                                            for p in self.problems],
                "warnings": self.warnings, "subject": m.get("subject"), "exported_at": m.get("exported_at"),
                "exporter": m.get("exporter"), "files": len(m.get("files") or []),
                "key_fingerprint": self.key_fingerprint, "key_source": self.key_source}


def audit_problems(events_jsonl: bytes) -> list[Problem]:
    """Entries of the audit excerpt whose hash does not follow from their prev_hash and content."""
    from basira.store.events import event_hash

    out = []
    for n, line in enumerate(events_jsonl.splitlines(), 1):
        if not line.strip():
            continue
        try:
            e = orjson.loads(line)
            entry = {k: e[k] for k in ("id", "at", "kind", "actor", "subject", "payload")}
            ok = event_hash(e["prev_hash"], entry) == e["hash"]
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            out.append(Problem("audit/events.jsonl", "audit", f"line {n}: unreadable entry ({exc})"))
            continue
        if not ok:
            out.append(Problem("audit/events.jsonl", "audit", f"line {n}: entry {e['id']} does not hash to its "
                                                              "recorded hash"))
    return out


def verify_entries(entries: Mapping[str, bytes], public_key: Ed25519PublicKey | None = None) -> Verification:
    """Check a package's signature and every file against the manifest. With no public key, the one in the
    manifest is used, which proves integrity but not who signed (anyone can re-sign a changed package)."""
    v = Verification()
    raw = entries.get(MANIFEST)
    if raw is None:
        v.problems.append(Problem(MANIFEST, "missing", "without it nothing can be verified"))
        return v
    try:
        manifest = orjson.loads(raw)
        listed = {f["path"]: f for f in manifest["files"]}
        embedded_pem = manifest["public_key"].encode("ascii")
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        v.problems.append(Problem(MANIFEST, "manifest", f"unreadable: {exc}"))
        return v
    v.manifest = manifest
    if public_key is None:
        try:
            public_key = signing.parse_public_key(embedded_pem, MANIFEST)
        except signing.SigningKeyError as exc:
            v.problems.append(Problem(MANIFEST, "manifest", str(exc)))
            return v
        v.key_source = "embedded"
        v.warnings.append("no --public-key given: checked with the key inside the manifest, which proves the "
                          "files are as signed (integrity) but not who signed them (origin); get the exporter's "
                          "public key through another channel and pass --public-key")
    else:
        v.key_source = "given"
        if manifest.get("public_key_sha256") != signing.fingerprint(public_key):
            v.warnings.append(f"the manifest names signing key {manifest.get('public_key_sha256')}, not the key "
                              f"given ({signing.fingerprint(public_key)})")
    v.key_fingerprint = signing.fingerprint(public_key)
    sig = entries.get(SIGNATURE)
    if sig is None:
        v.problems.append(Problem(SIGNATURE, "missing", "the package is unsigned"))
    elif not signing.verify(public_key, sig, raw):
        v.problems.append(Problem(SIGNATURE, "signature", "the signature over manifest.json does not verify with "
                                  f"key {v.key_fingerprint}: manifest changed or signed by another key"))
    for name in sorted(set(listed) | set(entries)):
        if name in (MANIFEST, SIGNATURE):
            continue
        want, got = listed.get(name), entries.get(name)
        if want is None:
            v.problems.append(Problem(name, "added", "not in the manifest"
                                      + ("" if _safe_name(name) else "; unsafe path")))
        elif got is None:
            v.problems.append(Problem(name, "missing", "listed in the manifest"))
        elif sha256(got) != want.get("sha256") or len(got) != want.get("size"):
            v.problems.append(Problem(name, "modified", f"sha256 {sha256(got)[:16]}…, {len(got)} bytes; manifest: "
                                      f"{str(want.get('sha256'))[:16]}…, {want.get('size')} bytes"))
    audit = entries.get("audit/events.jsonl")
    if audit is not None and not any(p.file == "audit/events.jsonl" for p in v.problems):
        v.problems.extend(audit_problems(audit))
    return v


def excerpt_hashes(entries: Mapping[str, bytes]) -> dict[int, str]:
    """{event id: hash} of the readable entries of a package's audit excerpt."""
    out = {}
    for line in (entries.get("audit/events.jsonl") or b"").splitlines():
        try:
            e = orjson.loads(line)
            out[int(e["id"])] = str(e["hash"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
    return out


def check_against_chain(entries: Mapping[str, bytes], stored: Mapping[int, str]) -> list[Problem]:
    """Excerpt entries whose hash differs from (or is absent in) a live chain's `stored` {id: hash}."""
    out = []
    for eid, h in sorted(excerpt_hashes(entries).items()):
        if stored.get(eid) != h:
            out.append(Problem("audit/events.jsonl", "audit", f"entry {eid} is "
                               + ("not in this database's chain" if eid not in stored else
                                  "different in this database's chain")))
    return out


# --- export (reads the store, logs the export) -------------------------------------------------------------------

@dataclass(frozen=True)
class ExportResult:
    path: Path
    subject: str
    manifest_sha256: str
    files: int
    bytes: int
    event_id: int
    counts: dict[str, int]


def export_package(store: Store, ref: str, out: str | Path, key: Ed25519PrivateKey, *, exporter: str,
                   now: datetime | None = None) -> ExportResult:
    """Export the package for `ref` (case:ID, account:..., community:N) to `out` and log `evidence.exported`.

    The package is written to a temporary name, the export is logged, then the package is moved into place:
    a package never exists without its custody entry."""
    from basira import __version__
    from basira.compliance.evidence_data import gather, resolve

    now = now or utcnow()
    s = resolve(store, ref)
    data = gather(store, s)
    subject = {"kind": s.kind, "ref": s.ref, "cases": sorted(s.case_ids), "accounts": sorted(s.account_ids),
               "posts": len(s.post_ids), "notes": s.notes}
    entries = assemble(data, subject, key, exporter=exporter, exported_at=now, version=__version__)
    manifest_hash = sha256(entries[MANIFEST])
    size = sum(len(b) for b in entries.values())
    tmp = write_package(entries, out, now)
    try:
        counts = orjson.loads(entries[MANIFEST])["counts"]
        event_id = store.append_event("evidence.exported", {
            "package": Path(out).name, "manifest_sha256": manifest_hash,
            "public_key_sha256": signing.fingerprint(key.public_key()), "files": len(entries), "bytes": size,
            "counts": counts, "chain_head": data["chain_head"],
        }, actor=exporter, subject=s.ref)
    except BaseException:
        discard_package(tmp)
        raise
    commit_package(tmp, out)
    return ExportResult(Path(out), s.ref, manifest_hash, len(entries), size, event_id, counts)
