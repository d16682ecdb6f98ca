"""Live hash exchanges, through python-threatexchange (its clients speak the protocols; nothing re-implemented):

- `tat`: Tech Against Terrorism's hash list v2, via threatexchange's `TATHashListAPI` (its TCAP token login,
  its paging, its `after=<updated_on>,<id>` checkpoint). threatexchange's `TATSignalExchangeAPI` on top of it
  keeps only PDQ and video MD5 and drops ideology, file type and TAT's id, so its records are mapped here
  instead (every algorithm Basira has, labels and ids kept, `deleted` honoured).
- `threatexchange:<privacy group id>`: Meta ThreatExchange, via threatexchange's
  `FBThreatExchangeSignalExchangeAPI` (`/threat_updates` since the checkpoint's update time; a checkpoint older
  than the 85 days ThreatExchange keeps deletions for is refetched from the start) and its indicator-type
  mapping to signal types. `should_delete` withdraws the item. Opinions written back with `react`: seen
  (SAW_THIS_TOO), true positive (HELPFUL) and false positive (DISAGREE_WITH_TAGS), the reactions threatexchange
  itself reads as those opinions, on every descriptor the item came with.

Each page is one batch: the store saves its entries and its checkpoint in one transaction, so an interrupted sync
resumes from the last page saved. Credentials come from Settings (BASIRA_TAT_*, BASIRA_TE_*).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from basira.core.i18n import N_
from basira.signals.base import SignalError
from basira.signals.exchange import BankEntry, ExchangeError, ReadReport, known_type
from basira.signals.partners.tat import entry_from_tat

REACTIONS = {"seen": "SAW_THIS_TOO", "true_positive": "HELPFUL", "false_positive": "DISAGREE_WITH_TAGS"}
_CATEGORY = {"POSITIVE_CLASS": "positive", "NEGATIVE_CLASS": "negative", "INVESTIGATION_SEED": "disputed"}


@dataclass
class Batch:
    """One page of an exchange: its entries, the checkpoint after it, what was skipped."""

    entries: list[BankEntry]
    checkpoint: dict[str, Any]
    skipped: list[str] = field(default_factory=list)


def is_live(source: str) -> bool:
    return source == "tat" or source.startswith(("tat:", "threatexchange:"))


def open_source(source: str, settings: Any) -> TatSource | ThreatExchangeSource:
    """The live exchange a `basira banks sync` source names, with credentials from Settings."""
    if source == "tat" or source.startswith("tat:"):
        if not (settings.tat_username and settings.tat_password):
            raise ExchangeError.of(N_("tat: set BASIRA_TAT_USERNAME and BASIRA_TAT_PASSWORD (a TCAP hash-list account)"))
        return TatSource(settings.tat_username, settings.tat_password, base_url=settings.tat_url)
    if source.startswith("threatexchange:"):
        pg = source.partition(":")[2]
        if not pg.isdigit():
            raise ExchangeError.of(N_("%(source)s: expected threatexchange:<privacy group id>"), source=source)
        if not settings.te_token:
            raise ExchangeError.of(N_("threatexchange: set BASIRA_TE_TOKEN (a ThreatExchange app token, '<app id>|<secret>')"))
        return ThreatExchangeSource(int(pg), settings.te_token, base_url=settings.te_url)
    raise ExchangeError.of(N_("%(source)s: not a live exchange (tat, threatexchange:<privacy group id>)"), source=source)


def _http_error(name: str, exc: Exception) -> ExchangeError:
    import requests

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return ExchangeError(f"{name}: HTTP {exc.response.status_code} from {exc.response.url.split('?')[0]}")
    return ExchangeError(f"{name}: {type(exc).__name__}: {exc}")


class TatSource:
    name = "tat"

    def __init__(self, username: str, password: str, *, base_url: str | None = None) -> None:
        from threatexchange.exchanges.clients.techagainstterrorism.api import TATHashListAPI

        self.client = TATHashListAPI(username, password)
        if base_url:  # the client builds every URL from BASE_URL (a class default)
            self.client.BASE_URL = base_url.rstrip("/") + "/"  # type: ignore[misc]

    def fetch(self, checkpoint: dict[str, Any] | None) -> Iterator[Batch]:
        import requests

        after = str((checkpoint or {}).get("after") or "")
        pages = self.client.fetch_hashes_iter(after)
        n = 0
        while True:
            try:
                page = next(pages)
            except StopIteration:
                return
            except (requests.RequestException, KeyError, TypeError, ValueError) as exc:
                raise _http_error("tat", exc) from None
            n += 1
            report = ReadReport()
            entries = []
            for i, rec in enumerate(page.results):
                e = entry_from_tat(dataclasses.asdict(rec), source="tat", where=f"page {n} results[{i}]",
                                   report=report)
                if e is not None:
                    entries.append(e)
            after = page.checkpoint or after
            yield Batch(entries, {"after": after, "count": page.count}, report.skipped)

    def react(self, item_labels: dict[str, Any], reaction: str) -> list[Any]:
        raise ExchangeError.of(N_("tat: the TAT hash list API takes no opinions back (it is read-only)"))


def _te_signal_types() -> list[Any]:
    from threatexchange.extensions.vpdq.vpdq import VPDQSignal
    from threatexchange.signal_type import md5, raw_text, sha256, url, url_md5
    from threatexchange.signal_type.pdq.signal import PdqSignal

    return [PdqSignal, md5.VideoMD5Signal, sha256.VideoSHA256Signal, raw_text.RawTextSignal, url.URLSignal,
            url_md5.UrlMD5Signal, VPDQSignal]


def _indicator_types(st: Any) -> set[str]:
    t = getattr(st, "INDICATOR_TYPE", ())
    return {t} if isinstance(t, str) else set(t)


class ThreatExchangeSource:
    def __init__(self, privacy_group: int, token: str, *, base_url: str | None = None) -> None:
        from threatexchange.exchanges.clients.fb_threatexchange.api import (
            ThreatExchangeAPI,
            is_valid_app_token,
        )
        from threatexchange.exchanges.impl.fb_threatexchange_api import (
            FBThreatExchangeCollabConfig,
            FBThreatExchangeSignalExchangeAPI,
        )

        if not is_valid_app_token(token):
            raise ExchangeError.of(N_("threatexchange: BASIRA_TE_TOKEN is not an app token ('<app id>|<secret>')"))
        self.name = f"threatexchange:{privacy_group}"
        self.privacy_group = privacy_group
        self.client = ThreatExchangeAPI(token, endpoint_override=base_url.rstrip("/") if base_url else None)
        self.collab = FBThreatExchangeCollabConfig(name=self.name, privacy_group=privacy_group)
        self.api = FBThreatExchangeSignalExchangeAPI(self.client, self.collab)
        self.types = _te_signal_types()

    def fetch(self, checkpoint: dict[str, Any] | None) -> Iterator[Batch]:
        import requests
        from threatexchange.exchanges.impl.fb_threatexchange_api import FBThreatExchangeCheckpoint

        cp = None
        if checkpoint and checkpoint.get("update_time") is not None:
            cp = FBThreatExchangeCheckpoint(int(checkpoint["update_time"]), int(checkpoint.get("last_fetch_time", 0)))
            if cp.is_stale():  # deletions older than ThreatExchange keeps are lost: start again
                cp = None
        deltas = self.api.fetch_iter(self.types, cp)
        while True:
            try:
                delta = next(deltas)
            except StopIteration:
                return
            except AssertionError:
                # threatexchange 1.2.17 asserts a page is not empty ("empty update?"); the Graph API answers
                # an empty page when nothing changed: up to date.
                return
            except (requests.RequestException, KeyError, TypeError, ValueError) as exc:
                raise _http_error("threatexchange", exc) from None
            yield self._batch(delta)

    def _batch(self, delta: Any) -> Batch:
        report = ReadReport()
        entries: list[BankEntry] = []
        live = self.api.naive_convert_to_signal_type(self.types, self.collab, delta.updates)
        for te_type, signals in live.items():
            st = known_type(te_type.get_name())
            for signal, record in signals.items():
                agg = record.get_as_aggregate_opinion()
                descriptors = sorted({o.descriptor_id for o in record.opinions
                                      if o.descriptor_id is not None and o.descriptor_id >= 0})
                labels: dict[str, Any] = {"te_category": agg.category.name, "te_privacy_group": self.privacy_group,
                                          "te_descriptors": descriptors}
                if agg.tags:
                    labels["tags"] = " ".join(sorted(agg.tags))
                try:
                    entries.append(BankEntry.make(st or "", signal, labels=labels, source=self.name,
                                                  opinion=_CATEGORY.get(agg.category.name, "disputed")))
                except SignalError as exc:  # BankEntry.make: not a valid hash of that type
                    report.skip(f"{te_type.get_name()} {signal[:40]!r}", str(exc))
        for (type_str, indicator), record in delta.updates.items():
            if record is not None:
                continue
            # A tombstone: withdraw what it stood for under every signal type its indicator type maps to.
            for te_type in self.types:
                if type_str in _indicator_types(te_type):
                    try:
                        value = te_type.normalize_fb_threatexchange_indicator(type_str, indicator, None)
                        entries.append(BankEntry.make(known_type(te_type.get_name()) or "", value,
                                                      source=self.name, deleted=True))
                    except (SignalError, ValueError):  # ValueError: python-threatexchange's normalize
                        continue
        cp = delta.checkpoint
        return Batch(entries, {"update_time": cp.update_time, "last_fetch_time": cp.last_fetch_time},
                     report.skipped)

    def react(self, item_labels: dict[str, Any], reaction: str) -> list[Any]:
        """Write an opinion back on every descriptor the item came with; the exchange's answers."""
        import requests

        if reaction not in REACTIONS:
            raise ExchangeError.of(N_("reaction must be one of %(known)s, not %(value)s"), known=sorted(REACTIONS),
                                    value=repr(reaction))
        descriptors = item_labels.get("te_descriptors") or []
        if not descriptors:
            raise ExchangeError.of(N_("%(source)s: the item has no ThreatExchange descriptor to react to"), source=self.name)
        out = []
        for d in descriptors:
            try:
                _, err, body = self.client.react_to_threat_descriptor(  # type: ignore[no-untyped-call]
                    int(d), REACTIONS[reaction])
            except requests.RequestException as exc:
                raise _http_error("threatexchange", exc) from None
            if err is not None or not (isinstance(body, dict) and body.get("success")):
                raise ExchangeError(f"{self.name}: descriptor {d}: reaction refused: {body}")
            out.append(body)
        return out
