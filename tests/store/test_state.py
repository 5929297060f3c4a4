"""The searcher's state in parts: a commit writes what changed; a schema-1 store upgrades."""

from __future__ import annotations

from sqlalchemy import func, inspect, select, text, update

from archsearch.store import SCHEMA_VERSION, Store
from archsearch.store import schema as db
from archsearch.store.summary import run_summaries
from tests.store.conftest import trial


def test_a_part_saved_again_replaces_the_old_one_and_the_others_stay(store: Store):
    store.put_cell("c", "text")
    with store.open_run("r", {}) as run:
        run.record("e1", cell="c", task="ptb", trials=[trial(0)], state={"a": 1, "b": [1, 2]})
        run.record("e2", cell="c", task="ptb", trials=[trial(0)], state={"b": [3], "c": {"x": 1}})
        run.record("e3", cell="c", task="ptb", trials=[trial(0)])  # no state: nothing changes
    with store.open_run("r", {}) as run:
        assert run.state == {"a": 1, "b": [3], "c": {"x": 1}}
        assert list(run.state) == ["a", "b", "c"]  # the order parts were first saved in
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.run_state)).scalar() == 3


def test_runs_keep_their_own_parts(store: Store):
    store.put_cell("c", "text")
    with store.open_run("one", {}) as one, store.open_run("two", {}) as two:
        one.record("e1", cell="c", task="ptb", trials=[trial(0)], state={"a": 1})
        two.record("e1", cell="c", task="ptb", trials=[trial(0)], state={"a": 2})
        assert (one.state, two.state) == ({"a": 1}, {"a": 2})


def as_schema_1(store: Store, run: str, state: dict) -> None:
    """Make ``store`` what archsearch wrote under schema 1: no run_state, no index, the
    whole state of ``run`` in runs.state."""
    with store.engine.begin() as conn:
        conn.execute(text("DROP INDEX evaluations_cell_task"))
        conn.execute(text("DROP TABLE run_state"))
        conn.execute(update(db.meta).values(value="1"))
        conn.execute(update(db.runs).where(db.runs.c.name == run).values(state=state))


def test_a_schema_1_store_is_read_as_it_is_and_upgraded_by_a_writer(store: Store, url: str):
    store.put_cell("c", "text")
    store.open_run("old", {}).close()
    legacy = {"counter": 4, "cells": {"c": {"best": {}}}, "queue": []}
    as_schema_1(store, "old", legacy)

    reader = Store(url, create=False)
    assert reader.schema == 1 and not inspect(reader.engine).has_table("run_state")
    [summary] = run_summaries(reader)
    assert summary.saved == legacy
    reader.close()

    writer = Store(url)
    assert writer.schema == SCHEMA_VERSION
    with writer.open_run("old", {}) as run:
        assert run.state == legacy
        run.record("e1", cell="c", task="ptb", trials=[trial(0)], state={"counter": 5, "x": 1})
    with writer.open_run("old", {}) as run:
        assert run.state == {**legacy, "counter": 5, "x": 1}
    names = {index["name"] for index in inspect(writer.engine).get_indexes("evaluations")}
    assert "evaluations_cell_task" in names
    writer.close()


def test_a_new_store_has_the_index_reuse_looks_up(store: Store):
    names = {index["name"] for index in inspect(store.engine).get_indexes("evaluations")}
    assert "evaluations_cell_task" in names
