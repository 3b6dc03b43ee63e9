"""The one error of the lab's KQL: what went wrong and where in the query text."""

from __future__ import annotations

from kit.errors import LabError

__all__ = ["KqlError"]


class KqlError(LabError):
    """A query the lab's KQL cannot run: ``code``, ``message`` and the 1-based ``line`` and ``column``.

    ``code`` is one of ``ParserFailure``, ``UnsupportedOperator``, ``UnknownTable``, ``UnknownColumn``,
    ``UnknownFunction`` or ``InvalidArgument``; enough for Resource Graph and Log Analytics to build
    their real error bodies.
    """

    def __init__(self, code: str, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"{code} at line {line}, column {column}: {message}")
        self.code = code
        self.message = message
        self.line = line
        self.column = column
