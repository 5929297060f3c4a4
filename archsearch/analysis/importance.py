"""Hyperparameter importance per task, with Optuna's importance evaluators.

Greff et al. (2017) measured it with fANOVA, so that is the default here;
Optuna's evaluators disagree with each other and Optuna 5 made PED-ANOVA its
default, so every table says which evaluator produced it (``table.attrs``).
"""

from __future__ import annotations

import optuna
import pandas as pd
from optuna.distributions import FloatDistribution, IntDistribution

from archsearch.direction import Direction
from tasks import direction

EVALUATORS = {
    "fanova": lambda seed: optuna.importance.FanovaImportanceEvaluator(seed=seed),
    "ped-anova": lambda seed: optuna.importance.PedAnovaImportanceEvaluator(),
    "mdi": lambda seed: optuna.importance.MeanDecreaseImpurityImportanceEvaluator(seed=seed),
}
MIN_TRIALS = 4  # fewer finished trials say nothing about importance


def hyperparameter_importance(
    frame: pd.DataFrame, *, evaluator: str = "fanova", seed: int = 0
) -> pd.DataFrame:
    """Hyperparameters as rows, tasks as columns, importances summing to 1 per task.

    Uses every finished trial of every cell on a task: the question is how much
    each hyperparameter moves the validation metric across the search.
    """
    if evaluator not in EVALUATORS:
        raise ValueError(f"unknown evaluator {evaluator!r}; valid: {', '.join(EVALUATORS)}")
    ok = frame[(frame["status"] == "ok") & frame["metric_valid"].notna()]
    params = [c for c in frame.columns if c.startswith("params_")]
    columns = {}
    for task, group in ok.groupby("task"):
        study = _study(group, params, direction=direction(task))
        if study is None:
            continue
        importances = optuna.importance.get_param_importances(
            study, evaluator=EVALUATORS[evaluator](seed)
        )
        columns[task] = importances
    table = pd.DataFrame(columns).fillna(0.0)
    table.index.name = "hyperparameter"
    table.attrs["evaluator"] = f"optuna {evaluator} ({type(EVALUATORS[evaluator](seed)).__name__})"
    return table


def _study(group: pd.DataFrame, params: list[str], *, direction: Direction):
    varying = [p for p in params if group[p].nunique(dropna=True) > 1]
    rows = group.dropna(subset=varying)
    if len(rows) < MIN_TRIALS or not varying:
        return None
    distributions = {}
    for column in varying:
        values = rows[column].astype(float)
        name = column.removeprefix("params_")
        if (values == values.round()).all() and name == "layers":
            distributions[name] = IntDistribution(int(values.min()), int(values.max()))
        else:
            distributions[name] = FloatDistribution(float(values.min()), float(values.max()))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=direction.name)
    for _, row in rows.iterrows():
        values = {
            name: (
                int(row[f"params_{name}"])
                if isinstance(d, IntDistribution)
                else float(row[f"params_{name}"])
            )
            for name, d in distributions.items()
        }
        study.add_trial(
            optuna.trial.create_trial(
                params=values, distributions=distributions, value=float(row["metric_valid"])
            )
        )
    return study
