"""What a caller sees when the store can't be used; the integrity check; JSON, never pickle."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text, update

from archsearch.store import SCHEMA_VERSION, Store, StoreError
from archsearch.store.schema import meta
from tests.store.conftest import trial


@pytest.mark.parametrize(
    "url, message",
    [
        ("results.db", "malformed store URL 'results.db'; give one like sqlite:///"),
        ("sqlite:/results.db", "malformed store URL"),
        ("nosuchdb://host/x", "unknown database 'nosuchdb'"),
        ("postgresql+psycopg2://u:secret@127.0.0.1:1/x", "postgres|cannot open"),
    ],
)
def test_a_bad_url_says_what_to_do_in_one_line(url: str, message: str):
    with pytest.raises(StoreError, match=message) as error:
        Store(url)
    assert "\n" not in str(error.value) and "secret" not in str(error.value)


def test_a_store_from_a_newer_archsearch_is_refused(store: Store, url: str):
    with store.engine.begin() as conn:
        conn.execute(update(meta).values(value=str(SCHEMA_VERSION + 1)))
    with pytest.raises(StoreError, match=rf"newer archsearch \(schema {SCHEMA_VERSION + 1} > "):
        Store(url)


def test_reopening_a_store_keeps_its_contents(store: Store, url: str):
    store.put_cell("h", "text")
    again = Store(url)
    assert again.cell("h")["text"] == "text"
    again.close()


def write_with_foreign_keys_off(store: Store, statements: list[str]) -> None:
    """Write as the sqlite3 shell would, with foreign keys off. PostgreSQL can't turn them off
    without superuser rights, so there they are dropped (each test starts from new tables)."""
    if store.engine.dialect.name == "sqlite":
        raw = store.engine.raw_connection()  # outside a transaction, where the PRAGMA works
        raw.execute("PRAGMA foreign_keys=OFF")
        for statement in statements:
            raw.execute(statement)
        raw.execute("PRAGMA foreign_keys=ON")
        raw.close()
        return
    with store.engine.begin() as conn:
        for table in ("trials", "evaluations"):
            for key in inspect(conn).get_foreign_keys(table):
                conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{key["name"]}"'))
        for statement in statements:
            conn.execute(text(statement))


def test_the_integrity_check_finds_rows_the_constraints_should_have_kept_out(store: Store):
    store.put_cell("h", "text")
    with store.open_run("r", {}) as run:
        run.record("e0", cell="h", task="ptb", trials=[trial(0)])
    assert store.check_integrity() == [] and store.check_integrity("r") == []
    write_with_foreign_keys_off(
        store,
        [
            "INSERT INTO trials (evaluation_id, trial, params, status, metrics) "
            "VALUES (99, 0, '{}', 'ok', '{}')",
            "INSERT INTO evaluations (run_id, key, cell, task, meta, committed_at) "
            "VALUES (1, 'e1', 'ghost', 'ptb', '{}', '2024-01-01 00:00:00')",
            "UPDATE trials SET status = 'weird' WHERE evaluation_id = 1",
        ],
    )
    problems = store.check_integrity()
    assert problems == [
        "1 trial rows of evaluation id 99, which does not exist",
        "evaluation 'e1' of run 'r' has no trials",
        "evaluation 'e1' of run 'r' is of cell 'ghost', not in the store",
        "trial 0 of evaluation 'e0' of run 'r': status 'weird'",
    ]
    with pytest.raises(StoreError, match="no run 'x'"):
        store.check_integrity("x")


JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=st.dictionaries(st.text(min_size=1, max_size=10), JSON_VALUES, max_size=5))
def test_params_round_trip_as_json_text(store: Store, params: dict):
    store.put_cell("h", "text")
    with store.open_run("r", {}) as run:
        key = f"e{len(run.finished())}"
        run.record(key, cell="h", task="ptb", trials=[trial(0, params=params)], meta=params)
        got = run.finished()[-1]
    assert got.trials[0]["params"] == params and got.meta == params
    stored = got.trials[0]["params"]  # ints stay ints, floats floats, bools bools
    assert {k: type(v) for k, v in stored.items()} == {k: type(v) for k, v in params.items()}
    with store.engine.connect() as conn:
        raw = conn.execute(text("SELECT params FROM trials ORDER BY evaluation_id DESC")).first()[0]
    assert isinstance(raw, str) and json.loads(raw) == params  # plain JSON text: no pickle
