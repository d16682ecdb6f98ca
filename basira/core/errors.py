"""One error base for everything Basira refuses, with a `kind` the faces map to an exit code or an HTTP status.

Why one base: the web layer used to catch `ValueError`, which also swallowed the standard library's own bugs.
Faces catch `BasiraError` (or the precise subclass), or let the web app's one handler (basira/web/app.py) turn it into a
response. No subclass derives from `ValueError`: an `except ValueError` catches the standard library's parse errors
(int(), datetime.fromisoformat) and nothing Basira refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

__all__ = ["HTTP_STATUS", "BasiraError", "InputError", "http_detail", "http_status"]

# kind -> HTTP status: the one map the web app and the REST API use.
HTTP_STATUS: dict[str, int] = {
    "input": 422,  # bad input: a file, a line, a field
    "invalid": 422,  # a request the rules refuse as malformed
    "bad_request": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "upstream": 502,  # a partner service (e.g. the Transparency Database) failed or refused us
    "unavailable": 503,  # Basira's own database cannot be opened (basira.store.db.DatabaseOpenError)
}


class BasiraError(Exception):
    """Something Basira refuses, said so a user can act on it. `kind` is one of HTTP_STATUS's keys.

    The message is English (logs, the CLI, `str(exc)`). A face that speaks another language translates it from
    a template and its parameters (basira.web.errors.localise): `template` when the raiser gave one
    (`BasiraError.said(N_("no case %(case)s"), case=5)`), else the known English templates matched against
    the text. The `kind` never changes with the language: that is what machines read."""

    kind: str = "invalid"
    template: str | None = None  # the English message with %(name)s fields, for a face to translate
    params: dict[str, Any] = {}  # noqa: RUF012 - read-only class default; said() sets an instance's own

    @classmethod
    def of(cls, template: str, **params: Any) -> Self:
        """The error whose English message is `template` (gettext's %(name)s form, marked with N_) filled with
        `params`, said so a face can translate it: `raise SignalError.of(N_("no bank %(bank)s"), bank=name)`.
        For classes whose constructor takes only the message."""
        return cls(template % params).said(template, **params)

    def said(self, template: str, **params: Any) -> Self:
        """This error's message as a template and its fields (returns the error, to raise it)."""
        self.template, self.params = template, dict(params)
        return self

    def said_as(self, other: BasiraError) -> Self:
        """This error said as `other` was (its template and fields, if any): for code that refuses another
        layer's refusal under its own kind, so the reader still gets it in their language."""
        return self.said(other.template, **other.params) if other.template else self


def http_status(exc: BaseException) -> int:
    """The HTTP status for an error: its kind's, 400 for an unknown kind."""
    return HTTP_STATUS.get(getattr(exc, "kind", "invalid"), 400)


def http_detail(exc: BaseException) -> tuple[int, Any]:
    """(status, detail) for the web app's one handler: `{field, reason}` when the error names a field."""
    if hasattr(exc, "field") and hasattr(exc, "reason") and not isinstance(exc, InputError):
        return http_status(exc), {"field": exc.field, "reason": exc.reason}
    return http_status(exc), str(exc)


@dataclass
class InputError(BasiraError):
    """Bad input: `file:line: field: reason`. The CLI prints it and exits with code 2."""

    file: str
    line: int | None
    field: str | None
    reason: str
    kind = "input"  # not a dataclass field: a class default, like every subclass's

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f"field '{self.field}': " if self.field else ""
        return f"{where}: {what}{self.reason}"
