"""Evaluations on Ray: a local instance by default, a cluster given an address.

Each evaluation is a Ray task asking for ``cpus_per_eval`` CPUs and
``gpus_per_eval`` GPUs (fractions allowed); torch in the worker uses that many
threads, and the GPU when it has one. A worker process that dies is retried
``max_retries`` times by Ray; after that the evaluation is recorded as
``failed`` with the reason. An evaluation running longer than ``time_limit``
seconds is cancelled and recorded as ``timeout``. The clock starts when the task is
submitted: a worker's start, and its first evaluation's imports and data, count too
(the driver submits no more than the workers can run, so on a cluster of its own no
task waits in a queue).

A local instance listens on loopback only. Before Ray starts, ``LOCAL_ENV``
goes into the environment (every process Ray starts inherits it, workers
included): the node takes 127.0.0.1 as its address, so its gRPC servers
(GCS, raylet, workers, agents), the agents' HTTP ports and the autoscaler's
and dashboard's metrics servers bind 127.0.0.1; the per-node metrics exporter
is off; no usage statistics are sent. No dashboard is started. The executor
shuts the instance down when the search ends (``shutdown``), so Ray's agents
do not outlive the driver; after a SIGKILL of the driver, its dashboard and
runtime-env agents linger about 60 s (loopback ports open), then exit.

Nothing waits forever: an address is probed (TCP, ``PROBE_S``) and joined
within ``JOIN_S``, and an evaluation that no node could hold (more CPUs or GPUs
than any node has) is refused before anything is submitted: ``ResourceError``,
one line, instead of "1 in flight" for ever.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import socket
import sys
import threading
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
PROBE_S = 5.0  # how long to try opening a TCP connection to a cluster's address
JOIN_S = 25.0  # how long ray.init may take to join a reachable cluster


class ResourceError(ValueError):
    """The cluster can't be reached, or no node has what one evaluation asks for."""


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
                _join(ray, address)
            else:
                _check_this_machine(cpus_per_eval)
                # A private local instance: no dashboard, the node on loopback. "local": a
                # new one even when another run's instance (or a `ray start`) is up, which
                # ray.init() would join instead ("Found multiple active Ray instances").
                ray.init(
                    address="local",
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
        try:
            _check_nodes(ray.nodes(), cpus_per_eval, gpus_per_eval)
        except ResourceError:
            if self._owns_ray:
                ray.shutdown()
            raise
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


def _join(ray, address: str) -> None:
    """``ray.init(address=...)``, or ``ResourceError`` within ``PROBE_S + JOIN_S`` seconds."""
    found = re.fullmatch(r"(?:[a-z]+://)?(\[[^\]]+\]|[^:/\[\]]+):(\d+)/?", address.strip())
    if found:
        host, port = found.group(1).strip("[]"), int(found.group(2))
        try:
            socket.create_connection((host, port), timeout=PROBE_S).close()
        except (OSError, ValueError) as error:
            why = getattr(error, "strerror", None) or str(error) or type(error).__name__
            raise ResourceError(
                f"cannot reach the Ray cluster at {address} ({why}); start it "
                f"(`ray start --head`) or give another --address / RAY_ADDRESS"
            ) from None
    elif address.strip() != "auto":
        raise ResourceError(f"Ray address {address!r}: give host:port, ray://host:port or auto")
    outcome: dict[str, BaseException] = {}

    def init() -> None:
        try:
            ray.init(address=address, log_to_driver=False)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    joining = threading.Thread(target=init, name="ray-join", daemon=True)
    joining.start()
    joining.join(JOIN_S)
    if joining.is_alive():
        raise ResourceError(f"the Ray cluster at {address} did not answer within {JOIN_S:g} s")
    if "error" in outcome:
        error = outcome["error"]
        line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ResourceError(f"cannot join the Ray cluster at {address}: {line}") from None


def _check_this_machine(cpus_per_eval: float) -> None:
    """A local instance can't give one evaluation more CPUs than this machine has."""
    cpus = os.cpu_count() or 1
    if cpus_per_eval > cpus:
        raise ResourceError(
            f"--cpus-per-eval {cpus_per_eval:g}: this machine has {cpus} CPUs; ask for "
            f"at most {cpus}, or give the --address of a cluster with bigger nodes"
        )


def _check_nodes(nodes: list[dict], cpus: float, gpus: float) -> None:
    """Some live node must hold one evaluation's CPUs and GPUs, or it would wait for ever."""
    alive = [node.get("Resources", {}) for node in nodes if node.get("Alive", True)]
    for kind, wanted in (("CPU", cpus), ("GPU", gpus)):
        most = max((resources.get(kind, 0.0) for resources in alive), default=0.0)
        if wanted > 0 and most < wanted:
            have = f"the largest node has {most:g}" if most else f"no node has a {kind}"
            raise ResourceError(
                f"each evaluation asks for {wanted:g} {kind}(s) but {have}; "
                f"ask for less (--{kind.lower()}s-per-eval) or add a node that has them"
            )


def _warn_unless_loopback(node_ip: str) -> None:
    """Say so when the local node did not get a loopback address (Ray imported too early)."""
    address = ipaddress.ip_address(node_ip)
    mapped = getattr(address, "ipv4_mapped", None)  # an IPv6 form of an IPv4 address
    if not (address.is_loopback or (mapped is not None and mapped in LOOPBACK)):
        warnings.warn(
            f"the local Ray node listens on {node_ip}, not only on loopback: Ray was imported "
            f"before archsearch could set {', '.join(LOCAL_ENV)}; set them before Python starts",
            RuntimeWarning,
            stacklevel=3,
        )


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[-1] if text else ''}"[:500]
