"""An order's intake channel outside the known ones is a refusal of Basira's own (ComplianceError, kind
'invalid' → 422), not a bare ValueError the web layer would have to guess about — and nothing is stored."""

import pytest
import sqlalchemy as sa
from compliance_support import Clock

from basira.compliance.repository import ComplianceError
from basira.compliance.service import ComplianceService
from basira.core.errors import http_status
from basira.review.service import ReviewSettings
from basira.store.compliance_models import RemovalOrder

ORDER = {"authority": "Garda", "order_ref": "IE-9", "reasons": "Attack video.", "targets": ["demo:p7-0"]}


def test_an_unknown_source_is_refused_as_invalid_and_stores_nothing(store):
    svc = ComplianceService(store, ReviewSettings(), clock=Clock())
    with pytest.raises(ComplianceError) as caught:
        svc.receive(ORDER, "carrier-pigeon", None)
    assert caught.value.kind == "invalid" and http_status(caught.value) == 422
    assert not isinstance(caught.value, ValueError)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(RemovalOrder)).scalar_one() == 0
    assert svc.receive(ORDER, "api", None) > 0  # a known channel still works
