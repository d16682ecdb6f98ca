"""Category codes, case reasons and evidence explanations in the reader's language (basira.web.labels): the stored
English is read as its parts and said again; what is not a known shape is shown as written."""

from datetime import UTC, datetime

from basira.core.i18n import speaking
from basira.web.labels import case_reason, category, evidence_why, policy_title


def _detector_reason(tmp_path) -> str:
    """The reason the detector's front door stores (basira.cases.detector), from a real store."""
    from basira.cases.detector import record_detections
    from basira.ingest.records import AccountRecord, PostRecord
    from basira.ingest.repository import upsert_accounts, upsert_posts
    from basira.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'l.db'}")
    with store.transaction() as tx:
        upsert_accounts(tx, [AccountRecord("x", "a")])
    with store.transaction() as tx:
        upsert_posts(tx, [PostRecord("x", "p", "a", "synthetic", created_at=datetime.now(UTC))])
    pid = store.post_ids("x", ["p"])["p"]
    with store.transaction() as tx:
        record_detections(tx, [{"post_id": pid, "model_version": "m1", "score": 0.9731, "flagged": True,
                                "categories": ["recruitment", "propaganda_brand"], "evidence": {}}])
    with store.read() as conn:
        import sqlalchemy as sa

        from basira.store.models import Case
        reason = conn.execute(sa.select(Case.reason)).scalar_one()
    store.close()
    return reason


def test_a_stored_detector_reason_in_arabic_russian_and_english(tmp_path):
    reason = _detector_reason(tmp_path)
    assert reason == "detector flagged the post (score 0.973; recruitment, propaganda_brand)"  # stored as is
    with speaking("ar"):
        ar = case_reason(reason)
        assert ar.startswith("علّم الكاشف المنشور (الدرجة ") and ar.endswith("؛ تجنيد، علامة دعائية)"), ar
        assert "detector" not in ar and "recruitment" not in ar and "propaganda_brand" not in ar
        assert category("propaganda_brand") == "علامة دعائية" and category("a_new_code") == "a_new_code"
    with speaking("ru"):
        assert case_reason(reason).startswith("детектор отметил пост (оценка 0,973; вербовка, ")
    with speaking("en"):
        assert case_reason(reason) == "detector flagged the post (score 0.973; recruitment, propaganda brand)"


def test_joined_reasons_hash_matches_orders_and_free_text():
    stored = ("detector flagged the post (score 0.500; pledge); hash match: bank 'known' item 3 (pdq, distance 4) "
              "and 2 more; removal order TCO-1 (Politie); a reviewer's own words")
    with speaking("ar"):
        said = case_reason(stored)
    assert said == ("علّم الكاشف المنشور (الدرجة 0.500؛ مبايعة)؛ تطابق بصمة: البنك 'known'، العنصر 3 (PDQ، المسافة 4) "
                    "واثنان آخران؛ أمر الإزالة TCO-1 (Politie)؛ a reviewer's own words"), said
    with speaking("ar"):
        assert case_reason("coordinated sharing: 3 accounts shared 12 items in lockstep").startswith("مشاركة منسّقة")
        assert case_reason("") == "" and case_reason(None) == ""


def test_evidence_explanations_as_the_detector_writes_them():
    from basira.detect.lexicon import SUPPORT_CATEGORIES

    with speaking("ar"):
        assert evidence_why("model: «brothers» weighs towards propaganda") == "النموذج: «brothers» يرجّح الدعاية"
        for cat in SUPPORT_CATEGORIES:  # every category the detector names has a label
            said = evidence_why(f"{cat} indicator: «make hijra»")
            assert cat not in said and "«make hijra»" in said, said
        assert evidence_why("call to join (synthetic)") == "call to join (synthetic)"
        assert policy_title("Recruitment for a designated terrorist organisation") == "التجنيد لصالح منظمة إرهابية مصنّفة"
        assert policy_title("A deployment's own title") == "A deployment's own title"
