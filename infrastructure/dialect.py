"""The one place where the SQL sent to SQLite and to PostgreSQL differs.

Statements are composed with `psycopg.sql` — identifiers through `sql.Identifier`, constant
clauses through `sql.SQL`, values always as bound parameters — with `{p}` marking each
parameter. A `Statement` is rendered once for each database (`%s` for psycopg, `?` for
sqlite3), so executing one costs nothing more than executing its text. What else differs
(row locks, text collation, a list of values) is a `Differs` part or a helper here, so a
view's SQL is one text for both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from psycopg import sql


@dataclass(frozen=True)
class Differs:
    """A part of a statement written differently for each database."""

    postgres: sql.Composable
    sqlite: sql.Composable


Part = sql.Composable | str | Sequence[str] | Differs

MARK = Differs(sql.Placeholder(), sql.SQL("?"))
FOR_UPDATE = Differs(sql.SQL(" FOR UPDATE"), sql.SQL(""))  # SQLite writers take turns anyway


def _composed(part: Part, postgres: bool) -> sql.Composable:
    if isinstance(part, Differs):
        return part.postgres if postgres else part.sqlite
    if isinstance(part, sql.Composable):
        return part
    if isinstance(part, str):
        return sql.Identifier(part)
    return sql.SQL(", ").join(sql.Identifier(name) for name in part)


class Statement:
    """One SQL statement, rendered for PostgreSQL and for SQLite.

    `template` is a constant; `{p}` is a bound parameter, and every other `{name}` is filled
    from `parts`: a str is an identifier, a sequence of str a list of identifiers, a
    `sql.Composable` itself, a `Differs` the part for each database.
    """

    __slots__ = ("postgres", "sqlite")

    def __init__(self, template: str, **parts: Part) -> None:
        self.postgres = self._render(template, parts, postgres=True)
        self.sqlite = self._render(template, parts, postgres=False)

    @staticmethod
    def _render(template: str, parts: dict[str, Part], postgres: bool) -> str:
        filled = {name: _composed(part, postgres) for name, part in parts.items()}
        filled["p"] = _composed(MARK, postgres)
        return sql.SQL(template).format(**filled).as_string(None)

    @classmethod
    def each(cls, postgres: str, sqlite: str) -> Statement:
        """A statement written once for each database (catalog queries)."""
        return cls.built(
            lambda p: sql.SQL(postgres if isinstance(p, sql.Placeholder) else sqlite).format(p=p)
        )

    @classmethod
    def built(cls, build: Callable[[sql.Composable], sql.Composable]) -> Statement:
        """A statement composed by `build`, given the parameter mark of each database."""
        statement = cls.__new__(cls)
        statement.postgres = build(sql.Placeholder()).as_string(None)
        statement.sqlite = build(sql.SQL("?")).as_string(None)
        return statement


def marks(count: int) -> Differs:
    """`count` parameters separated by commas (an IN list, a VALUES row)."""
    return _marks(count)


@lru_cache(maxsize=64)
def _marks(count: int) -> Differs:
    return Differs(
        sql.SQL(", ").join([sql.Placeholder()] * count),
        sql.SQL(", ").join([sql.SQL("?")] * count),
    )


def clause(text: str) -> sql.SQL:
    """A constant clause of this code base (a condition, a type, an expression): never
    built from input."""
    return sql.SQL(text)


def joined(parts: Sequence[sql.Composable], separator: str = ", ") -> sql.Composed:
    return sql.SQL(separator).join(parts)


def column_defs(columns: Sequence[tuple[str, str]], postgres: bool) -> sql.Composed:
    """`name TYPE, ...` for CREATE TABLE; text compares byte by byte on both databases
    (instants as CST ISO text sort in time order whatever the database's collation)."""
    return joined(
        [
            sql.Composed([sql.Identifier(name), sql.SQL(" "), clause(_type(declared, postgres))])
            for name, declared in columns
        ]
    )


def _type(declared: str, postgres: bool) -> str:
    return declared.replace("TEXT", 'TEXT COLLATE "C"', 1) if postgres else declared
