"""Every fault of the drills, injected once on a tiny search: nothing lost, nothing twice."""

import pytest

from scripts import fault_drills as drills


def assert_clean(drill):
    assert drill.lost == 0, drill
    assert drill.duplicated == 0, drill
    assert drill.finished, drill


def test_driver_sigkill_at_random_points_then_resume():
    assert_clean(drills.drill_sigkill(kills=2, evaluations=16, seed=1))


def test_driver_sigkill_inside_the_commit_and_before_it():
    assert_clean(drills.drill_kill_in_commit(evaluations=10))


def test_ctrl_c_finishes_in_flight_work_and_says_how_to_resume():
    assert_clean(drills.drill_ctrl_c(evaluations=30))


@pytest.mark.parametrize("always", [False, True])
def test_a_killed_ray_worker_is_retried_then_recorded_as_failed(always):
    drill, note = drills.drill_worker(always, evaluations=8)
    assert_clean(drill)
    if always:
        assert note.startswith("failed:") and "Worker" in note
    else:
        assert note.startswith("ok:")


def test_a_hanging_evaluation_is_ended_by_the_time_limit():
    drill, note = drills.drill_faulty("hang", evaluations=8)
    assert_clean(drill)
    assert note.startswith("timeout:") and "time limit" in note


def test_an_evaluation_out_of_memory_is_recorded_as_failed():
    drill, note = drills.drill_faulty("raise", evaluations=8)
    assert_clean(drill)
    assert note.startswith("failed:") and "MemoryError" in note


def test_a_node_leaving_the_cluster_mid_search():
    drill = drills.drill_node_leaves(evaluations=10)
    assert drill.injected == 1
    assert_clean(drill)
