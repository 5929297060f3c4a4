"""Evaluations on Ray: a local instance by default, a cluster given an address.

Each evaluation is a Ray task asking for ``cpus_per_eval`` CPUs and
``gpus_per_eval`` GPUs (fractions allowed); torch in the worker uses that many
threads, and the GPU when it has one. A worker process that dies is retried
``max_retries`` times by Ray; after that the evaluation is recorded as
``failed`` with the reason. An evaluation running longer than ``time_limit``
seconds is cancelled and recorded as ``timeout``.

A local instance listens on loopback only. Before Ray starts, ``LOCAL_ENV``
goes into the environment (every process Ray starts inherits it, workers
included): the node takes 127.0.0.1 as its address, so its gRPC servers
(GCS, raylet, workers, agents), the agents' HTTP ports and the autoscaler's
and dashboard's metrics servers bind 127.0.0.1; the per-node metrics exporter
is off; no usage statistics are sent. No dashboard is started. The executor
shuts the instance down when the search ends (``shutdown``), so Ray's agents
do not outlive the driver; after a SIGKILL of the driver, its dashboard and
runtime-env agents linger about 60 s (loopback ports open), then exit.
"""

from __future__ import annotations

import ipaddress
import math
import os
import sys
import time
import warnings
from collections.abc import Callable

from archsearch.execute import (
    EvalOptions,
    Executor,
    Finished,
    evaluate_proposal,
    failure,
    to_finished,
)
from archsearch.search.base import Proposal

# Read when Ray is imported and when its processes start, so set before either; a value the
# user set wins. (Ray 2.60: RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 is its loopback-only mode,
# which ray.init(_node_ip_address="127.0.0.1") alone does not give on Linux: Ray replaces
# a loopback node address by the host's.)
LOCAL_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # the node's address is 127.0.0.1
    "RAY_enable_metrics_collection": "0",  # no per-node Prometheus exporter
    "RAY_USAGE_STATS_ENABLED": "0",  # no usage report sent out
}
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


class RayExecutor(Executor):
    def __init__(
        self,
        options: EvalOptions,
        *,
        address: str | None = None,
        workers: int | None = None,
        cpus_per_eval: float = 1.0,
        gpus_per_eval: float = 0.0,
        max_retries: int = 2,
        time_limit: float | None = None,
        evaluate: Callable[[dict, EvalOptions], dict] = evaluate_proposal,
    ) -> None:
        """``evaluate`` is the function each Ray task runs (fault drills swap in their own)."""
        super().__init__(options)
        address = address or os.environ.get("RAY_ADDRESS")
        imported = sys.modules.get("ray")
        if not address and not (imported and imported.is_initialized()):
            for key, value in LOCAL_ENV.items():  # a local instance is about to start
                os.environ.setdefault(key, value)
        import ray

        self._owns_ray = not ray.is_initialized()  # then shutdown() stops what it started
        if self._owns_ray:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                # A private local instance: no dashboard, the node on loopback.
                ray.init(
                    num_cpus=None
                    if workers is None
                    else max(1, math.ceil(workers * cpus_per_eval)),
                    include_dashboard=False,
                    _node_ip_address="127.0.0.1",
                    log_to_driver=False,
                    configure_logging=False,
                )
                _warn_unless_loopback(ray.util.get_node_ip_address())
        self._ray = ray
        self._remote = ray.remote(evaluate).options(
            num_cpus=cpus_per_eval, num_gpus=gpus_per_eval, max_retries=max_retries
        )
        self.capacity = workers or self._cluster_capacity(cpus_per_eval, gpus_per_eval)
        self.time_limit = time_limit
        self._refs: dict = {}  # ObjectRef -> (proposal, submitted at)

    def _cluster_capacity(self, cpus: float, gpus: float) -> int:
        resources = self._ray.cluster_resources()
        slots = [resources.get("CPU", 1) / cpus] if cpus > 0 else []
        if gpus > 0:
            slots.append(resources.get("GPU", 0) / gpus)
        return max(1, int(min(slots) if slots else 1))

    def submit(self, proposal: Proposal) -> None:
        ref = self._remote.remote(proposal.to_dict(), self.options)
        self._refs[ref] = (proposal, time.monotonic())

    @property
    def in_flight(self) -> int:
        return len(self._refs)

    def wait(self, timeout: float) -> list[Finished]:
        if not self._refs:
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        done = []
        for ref in ready:
            proposal, _ = self._refs.pop(ref)
            try:
                done.append(to_finished(proposal, self._ray.get(ref)))
            except self._ray.exceptions.RayError as error:
                done.append(failure(proposal, "failed", _reason(error)))
        done.extend(self._expire())
        return done

    def _expire(self) -> list[Finished]:
        """Cancel evaluations past the time limit and report them as ``timeout``."""
        if self.time_limit is None:
            return []
        now, expired = time.monotonic(), []
        for ref, (proposal, submitted) in list(self._refs.items()):
            if now - submitted > self.time_limit:
                self._ray.cancel(ref, force=True)
                del self._refs[ref]
                reason = f"exceeded the time limit of {self.time_limit:g} s"
                expired.append(failure(proposal, "timeout", reason))
        return expired

    def shutdown(self) -> None:
        for ref in list(self._refs):
            self._ray.cancel(ref, force=True)
        self._refs.clear()
        if self._owns_ray:  # a local instance stops; a cluster only loses this driver
            self._ray.shutdown()
            self._owns_ray = False


def _warn_unless_loopback(node_ip: str) -> None:
    """Say so when the local node did not get a loopback address (Ray imported too early)."""
    address = ipaddress.ip_address(node_ip)
    if not (address.is_loopback or getattr(address, "ipv4_mapped", None) in LOOPBACK):
        warnings.warn(
            f"the local Ray node listens on {node_ip}, not only on loopback: Ray was imported "
            f"before archsearch could set {', '.join(LOCAL_ENV)}; set them before Python starts",
            RuntimeWarning,
            stacklevel=3,
        )


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[-1] if text else ''}"[:500]
