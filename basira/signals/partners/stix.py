"""STIX 2.1 bundles: written valid under OASIS `stix2-validator --strict`, read from Basira, MISP and others.

Written: one `identity` (Basira) and one `extension-definition` (the Basira bank-item property extension), then
one `indicator` per item with a `name`, a `description`, a STIX pattern any consumer can read
(`[file:hashes.'SHA-256' = '…']`, `[url:value = '…']`, PDQ as `file:hashes.'PDQ'`; types with no STIX object,
vPDQ, MinHash, raw text and url_md5, as `[x-basira-signal:<type> = '…']`) and, under `extensions`, the item
exactly (signal type, signal, labels, opinion, source, external id). A withdrawn item is a `revoked` indicator.

Deterministic: an indicator's id comes from its signal type and signal, its `created`/`modified` from the
item's `added_at`, the bundle's id from its indicators; two exports of the same bank are byte-identical. The
ids are UUIDs with version-4 bits whose other 122 bits are SHA-256 of the item: STIX 2.1 wants UUIDv4 for SDO
ids (`--strict` rejects a uuid5, check 103), and a v4-shaped name-based id keeps them stable.

Read: Basira's extension when present (lossless); otherwise every `file:hashes.*` and `url:value` comparison of
an indicator's pattern, compound MISP patterns included (`[file:name = 'x' AND file:hashes.MD5 = '…']`: the
file name becomes the `file_name` label), and the file and URL objects an `observed-data` refers to. MISP
machine-tag labels (`misp:type="md5"`) stay apart by their full key (`misp:type`, `misp:category`, ...).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from basira.core.i18n import N_
from basira.signals.base import SignalError
from basira.signals.exchange import (
    BankEntry,
    BankFormat,
    ExchangeError,
    ReadReport,
    WriteReport,
    _parse_time,
    register_format,
)

_FIXED = "2026-11-01T00:00:00.000Z"  # created/modified of the identity and the extension definition
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # an item with no added_at (never from the store)


def stable_uuid(*parts: str) -> str:
    """A UUID with version-4 and variant bits whose other bits are SHA-256 of the parts."""
    b = bytearray(hashlib.sha256("\x00".join(("basira-stix", *parts)).encode()).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(b)))


IDENTITY_ID = "identity--" + stable_uuid("identity")
EXTENSION_ID = "extension-definition--" + stable_uuid("extension-definition", "bank-item", "1")
SCHEMA_URL = "https://github.com/basira-project/basira/blob/main/docs/hash-matching.md#stix-extension"

_HASH_NAMES = {"md5": "MD5", "sha256": "SHA-256", "sha512": "SHA-512", "pdq": "PDQ"}
_HASH_TYPES = {"MD5": "md5", "SHA-256": "sha256", "SHA256": "sha256", "SHA-512": "sha512", "SHA512": "sha512",
               "PDQ": "pdq"}
_OPINION_TYPES = {"positive": "malicious-activity", "negative": "benign", "disputed": "unknown"}


def _ts(d: datetime | None) -> str:
    return (d or _EPOCH).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern_for(e: BankEntry) -> str:
    if e.signal_type in _HASH_NAMES:
        return f"[file:hashes.{_quote(_HASH_NAMES[e.signal_type])} = {_quote(e.signal)}]"
    if e.signal_type == "url":
        return f"[url:value = {_quote(e.signal)}]"
    return f"[x-basira-signal:{e.signal_type} = {_quote(e.signal)}]"


def _preamble() -> list[dict[str, Any]]:
    identity = {"type": "identity", "spec_version": "2.1", "id": IDENTITY_ID, "created": _FIXED,
                "modified": _FIXED, "name": "Basira", "identity_class": "system",
                "description": "Basira hash banks (exported bank items)."}
    ext = {"type": "extension-definition", "spec_version": "2.1", "id": EXTENSION_ID,
           "created_by_ref": IDENTITY_ID, "created": _FIXED, "modified": _FIXED, "name": "Basira bank item",
           "description": "The bank item an indicator stands for: signal_type, signal (exactly as stored), "
                          "labels, opinion, source, external_id.",
           "schema": SCHEMA_URL, "version": "1.0.0", "extension_types": ["property-extension"]}
    return [identity, ext]


def indicator_for(e: BankEntry) -> dict[str, Any]:
    at = _ts(e.added_at)
    short = e.signal if len(e.signal) <= 40 else e.signal[:37] + "..."
    item: dict[str, Any] = {"extension_type": "property-extension", "signal_type": e.signal_type,
                            "signal": e.signal, "opinion": e.opinion}
    if e.labels:
        item["labels"] = e.labels
    if e.source:
        item["source"] = e.source
    if e.external_id:
        item["external_id"] = e.external_id
    ind: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--" + stable_uuid("indicator", e.signal_type, e.signal),
        "created_by_ref": IDENTITY_ID, "created": at, "modified": at,
        "name": f"{e.signal_type} {short}",
        "description": f"Basira bank item: {e.signal_type} signal"
                       + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(e.labels.items()) if isinstance(v, str))})"
                          if any(isinstance(v, str) for v in e.labels.values()) else ""),
        "indicator_types": [_OPINION_TYPES.get(e.opinion, "unknown")],
        "pattern": pattern_for(e), "pattern_type": "stix", "pattern_version": "2.1", "valid_from": at,
    }
    # `key:value`; a key that is itself namespaced (MISP's `misp:type`) as a machine tag, `misp:type="md5"`.
    labels = [f'{k}="{v}"' if ":" in k else f"{k}:{v}" for k, v in sorted(e.labels.items()) if isinstance(v, str) and v]
    if labels:
        ind["labels"] = labels
    if e.deleted:
        ind["revoked"] = True
    ind["extensions"] = {EXTENSION_ID: item}
    return ind


# A comparison in a STIX pattern: object:path = 'value' (path may quote a key: hashes.'SHA-256').
_COMPARISON = re.compile(
    r"(?P<obj>[a-z0-9-]+):(?P<path>[A-Za-z0-9_.\-']+?)\s*=\s*'(?P<value>(?:[^'\\]|\\.)*)'"
)


def _unquote(v: str) -> str:
    return re.sub(r"\\(.)", r"\1", v)


def parse_label(label: str) -> tuple[str, str] | None:
    """`misp:type="md5"` -> ("misp:type", "md5"); `entity:IS` -> ("entity", "IS"); a bare word -> None."""
    s = str(label)
    if "=" in s and ":" in s.split("=", 1)[0]:
        k, _, v = s.partition("=")
        return k.strip(), v.strip().strip('"')
    k, sep, v = s.partition(":")
    return (k.strip(), v.strip()) if sep and k.strip() else None


def _labels_of(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lab in obj.get("labels") or []:
        kv = parse_label(lab)
        if kv:
            out[kv[0]] = kv[1]
    return out


def _hash_entries(hashes: dict[str, Any], labels: dict[str, Any], where: str, report: ReadReport | None,
                  **kw: Any) -> list[BankEntry]:
    out = []
    for alg, value in (hashes or {}).items():
        st = _HASH_TYPES.get(str(alg).strip("'").upper())
        if st is None:
            if report is not None:
                report.skip(where, f"hash algorithm {alg!r} is no Basira signal type")
            continue
        try:
            out.append(BankEntry.make(st, str(value), labels=dict(labels), **kw))
        except SignalError as exc:
            raise ExchangeError(f"{where}: {exc}") from None
    return out


@register_format
class StixFormat(BankFormat):
    name = "stix"
    extensions = (".stix", ".stix.json")
    line_oriented = False

    def read(self, text: str, *, source: str | None = None, report: ReadReport | None = None) -> Iterator[BankEntry]:
        try:
            bundle = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExchangeError.of(N_("not a STIX 2.1 bundle: line %(line)s: %(error)s"), line=exc.lineno, error=exc.msg) from None
        if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
            t = bundle.get("type") if isinstance(bundle, dict) else type(bundle).__name__
            raise ExchangeError.of(N_("not a STIX 2.1 bundle (type %(type)s)"), type=repr(t))
        objects = [o for o in bundle.get("objects") or [] if isinstance(o, dict)]
        by_id = {o.get("id"): o for o in objects}
        for obj in objects:
            kind = obj.get("type")
            if kind == "indicator":
                yield from self._indicator(obj, source, report)
            elif kind == "observed-data":
                yield from self._observed(obj, by_id, source, report)

    def _indicator(self, obj: dict[str, Any], source: str | None, report: ReadReport | None) -> Iterator[BankEntry]:
        oid = str(obj.get("id"))
        added = _parse_time(obj.get("valid_from") or obj.get("created"))
        mine = (obj.get("extensions") or {}).get(EXTENSION_ID)
        if isinstance(mine, dict) and mine.get("signal_type") and mine.get("signal") is not None:
            try:
                yield BankEntry.make(mine["signal_type"], str(mine["signal"]), labels=dict(mine.get("labels") or {}),
                                     source=mine.get("source") or source, added_at=added,
                                     opinion=mine.get("opinion") or "positive",
                                     external_id=mine.get("external_id"), deleted=bool(obj.get("revoked")))
            except SignalError as exc:
                if report is not None:
                    report.skip(oid, str(exc))
            return
        labels = _labels_of(obj)
        comps = [(m.group("obj"), m.group("path"), _unquote(m.group("value")))
                 for m in _COMPARISON.finditer(str(obj.get("pattern", "")))]
        names = [v for o, p, v in comps if o == "file" and p == "name"]
        if names:
            labels["file_name"] = names[0]
        found: list[BankEntry] = []
        kw = {"source": source, "added_at": added, "external_id": oid, "deleted": bool(obj.get("revoked"))}
        for o, p, v in comps:
            if o == "file" and p.startswith("hashes."):
                found += _hash_entries({p[len("hashes."):]: v}, labels, oid, report, **kw)
            elif o == "url" and p == "value":
                try:
                    found.append(BankEntry.make("url", v, labels=dict(labels), **kw))
                except SignalError as exc:
                    raise ExchangeError(f"{oid}: {exc}") from None
        if not found and report is not None:
            report.skip(oid, "pattern has no file hash or URL")
        yield from found

    def _observed(self, obj: dict[str, Any], by_id: dict[Any, dict[str, Any]], source: str | None,
                  report: ReadReport | None) -> Iterator[BankEntry]:
        oid = str(obj.get("id"))
        labels = _labels_of(obj)
        scos = [by_id[r] for r in obj.get("object_refs") or [] if r in by_id]
        scos += [o for o in (obj.get("objects") or {}).values() if isinstance(o, dict)]  # STIX 2.0 style
        kw = {"source": source, "added_at": _parse_time(obj.get("first_observed") or obj.get("created")),
              "external_id": oid}
        found: list[BankEntry] = []
        for sco in scos:
            if sco.get("type") == "file":
                lab = dict(labels, **({"file_name": sco["name"]} if sco.get("name") else {}))
                found += _hash_entries(sco.get("hashes") or {}, lab, oid, report, **kw)
            elif sco.get("type") == "url" and sco.get("value"):
                try:
                    found.append(BankEntry.make("url", str(sco["value"]), labels=dict(labels), **kw))
                except SignalError as exc:
                    raise ExchangeError(f"{oid}: {exc}") from None
        if not found and report is not None:
            report.skip(oid, "observed-data with no file hash or URL")
        yield from found

    def write(self, entries: Iterable[BankEntry], report: WriteReport | None = None) -> str:
        inds: dict[str, dict[str, Any]] = {}
        for e in entries:
            ind = indicator_for(e)
            inds[ind["id"]] = ind  # the same signal twice is one indicator
        objects = [*_preamble(), *inds.values()]  # in the bank's order (the store's: item id)
        if report is not None:
            report.written += len(inds)
            report.withdrawn += sum(1 for i in inds.values() if i.get("revoked"))
        bundle = {"type": "bundle", "id": "bundle--" + stable_uuid("bundle", *sorted(inds)), "objects": objects}
        return json.dumps(bundle, ensure_ascii=False, indent=1) + "\n"
