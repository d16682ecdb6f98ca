"""Reading review groups (formed and split by basira.cases.groups): which group a case is in, and which cases the
queue hides behind their group's lead."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from basira.review.records import GroupMemberView, GroupView
from basira.store.group_models import ReviewGroup, ReviewGroupMember
from basira.store.models import Account, Case, Post

if TYPE_CHECKING:
    from basira.store.store import Store

__all__ = ["group_of_case", "member_hidden"]

G, GM = ReviewGroup.__table__, ReviewGroupMember.__table__
C, P, A = Case.__table__, Post.__table__, Account.__table__


def group_of_case(store: Store, case_id: int, limit: int = 200) -> GroupView | None:
    """The group a case belongs to (any status), with its members (lead first, then by case id)."""
    with store.read() as conn:
        gid = conn.execute(sa.select(GM.c.group_id).where(GM.c.case_id == case_id)).scalar()
        if gid is None:
            return None
        row = conn.execute(sa.select(G).where(G.c.id == gid)).first()
        if row is None:
            return None
        members = tuple(GroupMemberView.from_row(r._mapping) for r in conn.execute(
            sa.select(GM.c.case_id, GM.c.role, GM.c.via, C.c.status, P.c.external_id, P.c.account_id,
                      A.c.handle, sa.func.substr(P.c.text, 1, 160).label("snippet"))
            .join(C, C.c.id == GM.c.case_id).outerjoin(P, sa.and_(C.c.subject_kind == "post", P.c.id == C.c.subject_id))
            .outerjoin(A, A.c.id == P.c.account_id)
            .where(GM.c.group_id == gid).order_by(sa.case((GM.c.role == "lead", 0), else_=1), GM.c.case_id)
            .limit(limit)))
    return GroupView.from_row(row._mapping, members=members)


def member_hidden() -> sa.ColumnElement[bool]:
    """SQL condition: the case is a non-lead member of a group (shown in the queue through its lead), unless it
    was appealed on its own. The status test sits inside the EXISTS so that NOT of it is a plain anti-join on the
    members' primary key (an OR outside made PostgreSQL hash all 40,000 members for every queue page)."""
    return sa.exists(sa.select(GM.c.case_id).where(GM.c.case_id == C.c.id, GM.c.role == "member",
                                                   C.c.status != "appealed"))
