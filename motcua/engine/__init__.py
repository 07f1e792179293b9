"""The queue engine: plain functions over a SQLAlchemy session; no Flask here.

Every function that changes state takes the write session it runs in and records the changes
listeners must see (motcua.engine.changes); the caller commits.
"""
