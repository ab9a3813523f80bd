"""A page's columns sent to PostgreSQL as array literals.

psycopg2 sends a Python list as ``ARRAY[v1, v2, ...]``: every value a constant of
the statement that PostgreSQL parses and plans one by one. An ingest page's INSERT
has some thirty columns of a hundred values; as ``ARRAY[...]`` its text is parsed
in 3.8 ms, as one literal per column (``'{...}'::type[]``, read by the array type's
input function) in 1.4 ms, the same rows stored.
"""

from odoo.tools import SQL


def array(values, pg_type):
    """``values`` as one ``'{...}'::pg_type[]`` literal; None is NULL."""
    return SQL("%s::%s[]", literal(values), SQL(pg_type))


def literal(values):
    """The text of a PostgreSQL array of ``values``, each quoted (the element type's
    input function reads it, as it would a string literal)."""
    return "{" + ",".join("NULL" if value is None else _quoted(value) for value in values) + "}"


def _quoted(value):
    if isinstance(value, bytes | bytearray | memoryview):
        raise TypeError("binary values have no place in a text array literal")
    text = str(value)
    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
