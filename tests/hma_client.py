"""A small client for HMA's REST API, written from HMA's published API (facebook/ThreatExchange,
hasher-matcher-actioner/src/OpenMediaMatch/blueprints/{curation,hashing,matching}.py and schemas/*.py at commit
baefb4ed67b6cdc1d4c82dbaef858d50866ac424) and from the calls ROOST Coop makes (roostorg/coop,
server/services/hmaService/index.ts at commit 1c1f54da95c738ed6293997c73ab83541ba9a373). It knows nothing of
Basira: the tests point it at Basira and check that every answer has HMA's shape.

The shape models below restate HMA's response schemas (field names and types) with extra fields forbidden, so
an answer with a field HMA does not send, or without one it does, fails.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool, StrictInt, StrictStr


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BankConfig(_Strict):  # schemas/curation.py BankConfig; what /c/banks and /c/bank/<name> return
    name: StrictStr
    matching_enabled_ratio: float


class AddContentResponse(_Strict):  # curation._bank_add_signals; Coop's BankContentResponse
    id: StrictInt
    signals: dict[str, StrictStr]


class BankedContentMetadata(_Strict):  # schemas/curation.py, dumped whole (absent fields null)
    content_id: StrictStr | None
    content_uri: StrictStr | None
    json_: dict[str, Any] | None = Field(alias="json")
    collab: dict[str, list[str]] | None


class BankContentResponse(_Strict):  # schemas/curation.py BankContentResponse (signals, metadata, note dropped
    id: StrictInt                    # when None: curation.bank_get_content)
    disable_until_ts: StrictInt
    original_media_uri: StrictStr | None
    bank: BankConfig
    signals: dict[str, StrictStr] | None = None
    metadata: BankedContentMetadata | None = None
    note: StrictStr | None = None


class BankContentConfig(_Strict):  # what PUT /c/bank/<name>/content/<id> returns: the stored record (jsonify)
    id: StrictInt
    disable_until_ts: StrictInt
    collab_metadata: dict[str, list[str]]
    original_media_uri: StrictStr | None
    bank: BankConfig
    user_metadata: dict[str, Any] | None
    note: StrictStr | None


class MatchWithDistance(_Strict):  # schemas/matching.py MatchWithDistance; Coop's BankMatch
    bank_content_id: StrictInt
    distance: StrictStr


class BankMatches(RootModel[dict[str, list[MatchWithDistance]]]):  # matching.lookup(): bank -> matches
    pass


class LookupByType(RootModel[dict[str, dict[str, list[MatchWithDistance]]]]):  # lookup by URL / upload
    pass


class RawLookupResponse(_Strict):
    matches: list[StrictInt | MatchWithDistance]


class IndexStatus(_Strict):  # matching.index_status() per signal type
    present: StrictBool
    built_to: StrictInt
    size: StrictInt


class SignalTypeConfig(_Strict):
    name: StrictStr
    enabled_ratio: float


class ContentTypeConfig(_Strict):
    name: StrictStr
    enabled: StrictBool


class ErrorResponse(_Strict):  # utils/flask_utils.api_error_handler
    message: StrictStr


class HmaClient:
    """HMA's API over any httpx-like client (`get`/`post`/`put`/`delete` returning responses)."""

    def __init__(self, http: Any) -> None:
        self.http = http

    # curation
    def banks(self) -> list[BankConfig]:
        return [BankConfig.model_validate(b) for b in self._ok(self.http.get("/c/banks"))]

    def create_bank(self, name: str, enabled_ratio: float = 1.0) -> BankConfig:
        # Coop sends the ratio as a string (`enabled_ratio.toString()`); HMA's pydantic model coerces it.
        return BankConfig.model_validate(self._ok(self.http.post(
            "/c/banks", json={"name": name, "enabled_ratio": str(enabled_ratio)}), 201))

    def bank(self, name: str) -> BankConfig:
        return BankConfig.model_validate(self._ok(self.http.get(f"/c/bank/{name}")))

    def update_bank(self, bank: str, **changes: Any) -> BankConfig:
        return BankConfig.model_validate(self._ok(self.http.put(f"/c/bank/{bank}", json=changes)))

    def delete_bank(self, name: str) -> dict[str, Any]:
        return self._ok(self.http.delete(f"/c/bank/{name}"))

    def add_content_by_url(self, bank: str, url: str, **params: str) -> AddContentResponse:
        q = urlencode({"url": url, **params})  # Coop: POST /c/bank/<name>/content?url=..., no body
        return AddContentResponse.model_validate(self._ok(self.http.post(f"/c/bank/{bank}/content?{q}")))

    def add_content_file(self, bank: str, content_type: str, data: bytes, **form: str) -> AddContentResponse:
        r = self.http.post(f"/c/bank/{bank}/content", files={content_type: ("upload", data)}, data=form)
        return AddContentResponse.model_validate(self._ok(r))

    def add_signals(self, bank: str, signals: dict[str, str]) -> AddContentResponse:
        return AddContentResponse.model_validate(self._ok(self.http.post(f"/c/bank/{bank}/signal", json=signals)))

    def content(self, bank: str, content_id: int, **params: str) -> BankContentResponse:
        r = self.http.get(f"/c/bank/{bank}/content/{content_id}", params=params)
        return BankContentResponse.model_validate(self._ok(r))

    def update_content(self, bank: str, content_id: int, **changes: Any) -> BankContentConfig:
        r = self.http.put(f"/c/bank/{bank}/content/{content_id}", json=changes)
        return BankContentConfig.model_validate(self._ok(r))

    def signal_types(self) -> list[SignalTypeConfig]:
        return [SignalTypeConfig.model_validate(x) for x in self._ok(self.http.get("/c/signal_type"))]

    def content_types(self) -> list[ContentTypeConfig]:
        return [ContentTypeConfig.model_validate(x) for x in self._ok(self.http.get("/c/content_type"))]

    def exchanges(self) -> list[str]:
        out = self._ok(self.http.get("/c/exchanges"))
        assert isinstance(out, list) and all(isinstance(x, str) for x in out)
        return out

    # hashing
    def hash_url(self, url: str, **params: str) -> dict[str, str]:
        out = self._ok(self.http.get(f"/h/hash?{urlencode({'url': url, **params})}"))  # Coop's call
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in out.items())
        return out

    def hash_file(self, content_type: str, data: bytes) -> dict[str, str]:
        return self._ok(self.http.post("/h/hash", files={content_type: ("upload", data)}))

    # matching
    def lookup_url(self, url: str, **params: str) -> dict[str, dict[str, list[MatchWithDistance]]]:
        return LookupByType.model_validate(self._ok(self.http.get("/m/lookup", params={"url": url, **params}))).root

    def lookup_signal(self, signal_type: str, signal: str, **params: str) -> dict[str, list[MatchWithDistance]]:
        r = self.http.get("/m/lookup", params={"signal_type": signal_type, "signal": signal, **params})
        return BankMatches.model_validate(self._ok(r)).root

    def lookup_file(self, content_type: str, data: bytes) -> dict[str, dict[str, list[MatchWithDistance]]]:
        r = self.http.post("/m/lookup", files={content_type: ("upload", data)})
        return LookupByType.model_validate(self._ok(r)).root

    def raw_lookup(self, signal_type: str, signal: str, **params: str) -> RawLookupResponse:
        r = self.http.get("/m/raw_lookup", params={"signal_type": signal_type, "signal": signal, **params})
        return RawLookupResponse.model_validate(self._ok(r))

    def compare(self, pairs: dict[str, list[str]]) -> dict[str, list[Any]]:
        return self._ok(self.http.post("/m/compare", json=pairs))

    def index_status(self, **params: str) -> dict[str, IndexStatus]:
        out = self._ok(self.http.get("/m/index/status", params=params))
        return {k: IndexStatus.model_validate(v) for k, v in out.items()}

    def error(self, response: Any, status: int) -> str:
        assert response.status_code == status, (response.status_code, response.text)
        return ErrorResponse.model_validate(response.json()).message

    @staticmethod
    def _ok(response: Any, status: int = 200) -> Any:
        assert response.status_code == status, (response.status_code, response.text)
        return response.json()
