"""Quoting for the few SQL statements Python assembles (identifiers and literals only)."""

from __future__ import annotations


def ident(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def literal_list(values) -> str:
    """``('a', 'b')``: a list for ``IN``; never empty (an empty list is not valid SQL)."""
    items = [literal(v) for v in values] or ["NULL"]
    return "(" + ", ".join(items) + ")"


def array_literal(values) -> str:
    """``['a', 'b']::VARCHAR[]``: a DuckDB list of strings."""
    return "[" + ", ".join(literal(v) for v in values) + "]::VARCHAR[]"
