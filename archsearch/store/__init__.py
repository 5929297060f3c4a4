"""The results database: write a search's evaluations durably, resume it, read it as pandas.

SQLite by default (``DEFAULT_URL``), PostgreSQL on a cluster; see ``store.py``.
"""

from archsearch.store.engine import DEFAULT_URL
from archsearch.store.errors import RunLockedError, StoreError
from archsearch.store.finished import StoredEvaluation
from archsearch.store.frame import best_trials, load_results
from archsearch.store.lock import LEASE_S
from archsearch.store.run import RunHandle
from archsearch.store.schema import SCHEMA_VERSION, STATUSES
from archsearch.store.store import Store
from archsearch.store.trial import TRIAL_FIELDS

__all__ = [
    "DEFAULT_URL",
    "LEASE_S",
    "SCHEMA_VERSION",
    "STATUSES",
    "TRIAL_FIELDS",
    "StoredEvaluation",
    "RunHandle",
    "RunLockedError",
    "Store",
    "StoreError",
    "best_trials",
    "load_results",
]
