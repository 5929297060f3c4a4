import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archsearch import Resources, launch
from archsearch.driver import ConfigMismatch
from archsearch.store import Store, load_results
from scripts.fault_drills import tiny_spec


def here(url: str) -> Resources:
    return Resources(storage=url, in_process=True)


ROOT = Path(__file__).parents[2]
JOB = ROOT / "scripts" / "fault_drills.py"


def check_store(url: str, evaluations: int) -> None:
    store = Store(url)
    assert store.check_integrity() == []
    frame = load_results(url, run="job")
    assert frame["key"].nunique() == evaluations
    assert not frame.duplicated(["key", "trial"]).any()
    per_evaluation = frame.groupby("key").agg(cell=("cell", "first"), task=("task", "first"))
    # No architecture is evaluated twice on a task (this searcher re-evaluates nothing here).
    assert not per_evaluation.duplicated(["cell", "task"]).any()


def test_tiny_search_in_process_fills_the_store(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    result = launch(tiny_spec(8), here(url))
    searcher = result.searcher
    check_store(url, 8)
    frame = load_results(url)
    assert set(frame["task"]) == {"arith", "xml"}
    assert {"gru", "lstm"} <= set(frame["cell_name"])
    assert searcher.ranking(), "nothing was scored"
    assert {"params_lr", "params_layers"} <= set(frame.columns)


def test_the_same_command_resumes_and_a_changed_config_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    launch(tiny_spec(5), here(url))
    launch(tiny_spec(9), here(url))
    check_store(url, 9)
    with pytest.raises(ConfigMismatch, match="trials: 1 -> 2"):
        launch(tiny_spec(12).replace(trials=2), here(url))


def test_sigkill_midway_then_resume_loses_and_repeats_nothing(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def committed() -> int:
        try:
            return load_results(url, run="job")["key"].nunique()
        except Exception:  # no store or no run yet
            return 0

    for _ in range(2):  # each job is killed once it has committed something new
        start = committed()
        job = subprocess.Popen([sys.executable, str(JOB), "job", url, "40"], env=env)
        deadline = time.monotonic() + 240
        while committed() == start and job.poll() is None:
            assert time.monotonic() < deadline, "no evaluation committed within 240 s"
            time.sleep(0.2)
        assert job.poll() is None, "the job ended before it could be killed"
        job.send_signal(signal.SIGKILL)
        job.wait()
        assert Store(url).check_integrity() == []
    before = Store(url).open_run("job", tiny_spec(40).to_dict())
    done = before.count()
    before.close()
    assert done > 0
    subprocess.run([sys.executable, str(JOB), "job", url, "14"], env=env, check=True, timeout=300)
    check_store(url, max(14, done))


def test_two_node_local_ray_cluster(tmp_path):
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        url = f"sqlite:///{tmp_path}/s.db"
        started = []
        resources = Resources(storage=url, address=cluster.address)
        launch(tiny_spec(6), resources, on_event=lambda e: started.append(e.message))
        assert "2 at once" in started[0]  # one evaluation per node
        check_store(url, 6)
        assert load_results(url)["status"].eq("ok").all()
    finally:
        ray.shutdown()
        cluster.shutdown()
