"""Read a store as one long table: a row per trial, ready for ``groupby`` (after Optuna's
``trials_dataframe``). Reading is free: it never writes, and never creates a store.

    df = load_results(run="lstm-vs-gru")
    ok = df[df.status == "ok"]
    ok.groupby(["cell_name", "task"]).metric_valid.min()   # PTB: perplexity, lower is better
    best_trials(df)                                        # the best trial per (cell, task)
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from archsearch.records import TRIAL_FIELDS
from archsearch.store.schema import cells, evaluations, runs, trials
from archsearch.store.store import Store

# The trial record's own fields, less the two dicts (spread into columns below).
_FROM_TRIALS = [name for name in TRIAL_FIELDS if name not in ("params", "metrics")]
COLUMNS = [
    "run",
    "key",
    "cell",  # the cell's hash
    "cell_name",
    "task",
    *_FROM_TRIALS,
    "parent",  # hash of the cell it was mutated from
    "repeat",  # which repeat of its evaluation (0 without repeats): same settings, other seeds
    "rung",  # its training length (archsearch.rungs; 0: the cheapest, or the only one)
    "purpose",  # reference, candidate, reeval, promotion or confirm
    "higher_is_better",  # the task's direction (task registry); <NA> for an unknown task
]
# Then params_<name> for each hyperparameter, metrics_<name> for each extra metric.

_INTS = ["trial", "steps", "n_params", "seed", "repeat", "rung"]  # nullable integers stay integers
_FLOATS = ["metric_valid", "metric_test", "seconds"]
_TIMES = ["started_at", "finished_at"]


def load_results(url: str | None = None, run: str | None = None) -> pd.DataFrame:
    """Every trial in the store at ``url`` (default store if None), or in run ``run`` only."""
    store = Store(url, create=False)
    query = (
        select(
            runs.c.name.label("run"),
            evaluations.c.key,
            evaluations.c.cell,
            cells.c.name.label("cell_name"),
            evaluations.c.task,
            *(trials.c[name] for name in _FROM_TRIALS),
            cells.c.parent,
            trials.c.params,
            trials.c.metrics,
            evaluations.c.meta,
        )
        .select_from(
            trials.join(evaluations).join(runs).outerjoin(cells, cells.c.hash == evaluations.c.cell)
        )
        .order_by(evaluations.c.id, trials.c.trial)
    )
    try:
        with store.engine.connect() as conn:
            if run is not None:
                query = query.where(evaluations.c.run_id == store.run_id(conn, run))
            rows = [row._asdict() for row in conn.execute(query)]
    finally:
        store.close()
    records = []
    for row in rows:
        params, metrics = row.pop("params"), row.pop("metrics")
        meta = row.pop("meta")
        row["repeat"] = meta.get("repeat", 0)
        row["rung"] = meta.get("rung", 0)
        row["purpose"] = meta.get("purpose", "")
        row.update({f"params_{name}": value for name, value in params.items()})
        row.update({f"metrics_{name}": value for name, value in metrics.items()})
        records.append(row)
    maximize = _maximize({row["task"] for row in records})
    for row in records:
        row["higher_is_better"] = maximize.get(row["task"])
    frame = pd.DataFrame.from_records(records, columns=_column_order(records))
    return _typed(frame)


def best_trials(frame: pd.DataFrame) -> pd.DataFrame:
    """The best finished trial of each (cell, task): by validation metric, in its direction
    (the frame's ``higher_is_better``, or the task registry's for a frame without it)."""
    ok = frame[(frame["status"] == "ok") & frame["metric_valid"].notna()]
    if "higher_is_better" not in ok.columns:
        ok = ok.assign(higher_is_better=ok["task"].map(_maximize(set(ok["task"]))))
    if ok.empty:
        return ok
    # Sort so that the best comes first in each group whatever the direction.
    sign = ok["higher_is_better"].map({True: -1.0, False: 1.0}).astype("float64").fillna(1.0)
    order = (ok["metric_valid"] * sign).sort_values(kind="stable").index
    return ok.loc[order].drop_duplicates(["cell", "task"]).sort_index()


def reference_hash(frame: pd.DataFrame, reference: str) -> str:
    """The hash of the reference: a zoo name, a cell name in the frame, or a hash."""
    from archsearch import zoo

    if reference in zoo.names():
        return zoo.get(reference).canonical_hash()
    named = frame.loc[frame["cell_name"] == reference, "cell"].unique()
    if len(named) == 1:
        return str(named[0])
    if reference in set(frame["cell"]):
        return reference
    raise ValueError(f"reference {reference!r} is neither a zoo cell nor a cell in the results")


def _maximize(names) -> dict[str, bool]:
    """Whether each task's metric is maximised, from the task registry; unknown tasks left out."""
    from tasks import TASKS, direction

    return {name: direction(name).maximize for name in names if name in TASKS}


def _column_order(records: list[dict]) -> list[str]:
    extra = {name for record in records for name in record} - set(COLUMNS)
    return (
        COLUMNS
        + sorted(n for n in extra if n.startswith("params_"))
        + sorted(n for n in extra if n.startswith("metrics_"))
    )


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for name in _INTS:
        frame[name] = frame[name].astype("Int64")
    for name in _FLOATS:
        frame[name] = frame[name].astype("float64")
    frame["higher_is_better"] = frame["higher_is_better"].astype("boolean")
    for name in _TIMES:
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame
