import optuna
import pytest

from archsearch.direction import MAXIMIZE, MINIMIZE
from archsearch.hparams import (
    SPACES,
    Choice,
    HyperparameterError,
    LogUniform,
    Space,
    get_space,
    make_study,
)
from archsearch.registry import UnknownNameError


def test_jozefowicz_space_is_the_papers_grid():
    space = get_space("jozefowicz")
    assert space.optimizer == "sgd"
    assert space.params["init_scale"].values == (0.3, 0.7, 1.0, 1.4, 2.0, 2.8)
    assert space.params["lr"].values == (0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)
    assert space.params["layers"].values == (1, 2, 3, 4)
    assert space.params["max_grad_norm"].values == (1.0, 2.5, 5.0, 10.0, 20.0)


def test_adam_space_is_log_uniform_in_lr():
    space = get_space("adam")
    assert space.optimizer == "adam"
    assert isinstance(space.params["lr"], LogUniform)


def test_unknown_space_lists_the_names():
    with pytest.raises(UnknownNameError, match="jozefowicz, adam"):
        get_space("nope")


def test_fixed_values_from_text_are_converted_and_checked():
    space = SPACES.get("jozefowicz")
    assert space.check_fixed({"lr": "0.5", "layers": "1"}) == {"lr": 0.5, "layers": 1}
    with pytest.raises(HyperparameterError, match=r"lr=0\.4 is not in the space"):
        space.check_fixed({"lr": "0.4"})
    with pytest.raises(HyperparameterError, match="unknown hyperparameter 'momentum'"):
        space.check_fixed({"momentum": "0.9"})
    with pytest.raises(HyperparameterError, match="outside the space"):
        get_space("adam").check_fixed({"lr": "1"})
    with pytest.raises(HyperparameterError, match="not a number"):
        get_space("adam").check_fixed({"lr": "fast"})


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_sampling_is_seeded_and_respects_fixed_values(sampler):
    space = get_space("jozefowicz")

    def draw(seed):
        study = make_study(direction=MAXIMIZE, sampler=sampler, pruner=None, seed=seed)
        settings = []
        for _ in range(5):
            trial = study.ask()
            settings.append(space.suggest(trial, {"layers": "2"}))
            study.tell(trial, 0.5)
        return settings

    first, again, other = draw(3), draw(3), draw(4)
    assert first == again
    assert first != other
    assert all(s["layers"] == 2 for s in first)
    assert all(s["lr"] in space.params["lr"].values for s in first)


def test_a_user_space_works_with_the_sampler():
    space = Space(name="mine", optimizer="adam", params={"lr": Choice((0.01,))})
    study = make_study(direction=MINIMIZE, sampler="random", pruner="median", seed=0)
    params = space.suggest(study.ask())
    assert params["lr"] == 0.01 and params["layers"] == 1  # unsampled ones take the defaults
    assert isinstance(study.pruner, optuna.pruners.MedianPruner)


def test_a_widened_space_holds_a_fixed_value_outside_it_and_refuses_unknown_names():
    from archsearch.hparams import HyperparameterError, get_space

    adam = get_space("adam")
    with pytest.raises(HyperparameterError):
        adam.check_fixed({"max_grad_norm": 0.25})
    wide = adam.widened({"max_grad_norm": 0.25, "lr": 3e-3})
    assert wide.check_fixed({"max_grad_norm": 0.25}) == {"max_grad_norm": 0.25}
    assert wide.params["lr"] == adam.params["lr"]  # a value the space holds changes nothing
    with pytest.raises(HyperparameterError):
        adam.widened({"momentum": 0.9})


def test_assignments_are_name_value_pairs_typed_where_they_read_as_numbers():
    from archsearch.assignments import parse_assignments, typed

    assert typed(parse_assignments(["lr=0.5", "layers=1", "x=none", "y=abc"], "--set")) == {
        "lr": 0.5, "layers": 1, "x": None, "y": "abc"
    }  # fmt: skip
    with pytest.raises(ValueError, match="--knob 'depth' is not of the form name=value"):
        parse_assignments(["depth"], "--knob")
