"""What goes wrong with an extension package, said in both languages.

``PackageError`` is a ``MetadataError``: the API already answers one with a 400
listing every problem under its path, and the command line prints one line per
problem, so callers of this package need no handler of their own.
"""

from __future__ import annotations

from collections.abc import Iterable

from propolis.metadata.errors import NO_TEXT, MetadataError, Problem, Text


class PackageError(MetadataError):
    """A package that cannot be read, trusted, installed, upgraded, merged or
    uninstalled; ``problems`` lists every reason found at once, each with a
    stable ``code``."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        super().__init__(problems)

    @property
    def codes(self) -> list[str]:
        """The codes of the problems, in order (what tests and pages branch on)."""
        return [p.code for p in self.problems]


def package_problem(
    code: str,
    source: str,
    message: Text,
    fix: Text = NO_TEXT,
    path: str = "",
) -> Problem:
    """One problem of a package: ``source`` names the package (or its file),
    ``path`` the place inside it (``requires.extensions.crm``, a merge path …)."""
    return Problem(
        source=source,
        path=path,
        message=message.en,
        fix=fix.en,
        message_zh=message.zh,
        fix_zh=fix.zh,
        code=code,
    )


def fail(
    code: str, source: str, message: Text, fix: Text = NO_TEXT, path: str = ""
) -> PackageError:
    """A ``PackageError`` of one problem, to ``raise``."""
    return PackageError([package_problem(code, source, message, fix, path)])
