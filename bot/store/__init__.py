"""Persistence: typed SQLAlchemy models (`models`), engines and migrations (`db`), the
repositories handlers use instead of SQL (`repo`), the agenda table's queries (`agenda`),
command-line entry points (`admin`) and test helpers (`testing`, `fixtures`).
"""
