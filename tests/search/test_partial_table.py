"""The partial-results table: what is known of cells without a score yet."""

from rich.console import Console

from archsearch.display import partial_table
from archsearch.naming import readable_name
from archsearch.search import Outcome
from archsearch.search.jozefowicz import JozefowiczSearch

TASKS = ["arith", "xml"]


def rendered(table) -> str:
    console = Console(width=120, record=True)
    console.print(table)
    return console.export_text()


def test_a_cell_whose_trials_all_failed_reads_failed_not_unknown():
    searcher = JozefowiczSearch(tasks=TASKS, trials=1, seed=0, threshold=0.0)
    outcomes = {}  # cell hash -> the metric each of its tasks gets
    candidates = []
    while len(candidates) < 2:
        proposal = searcher.ask()
        if proposal.cell_hash == searcher.reference:
            searcher.tell(proposal, Outcome(0.5, 1))
            continue
        if proposal.cell_hash not in outcomes:
            # the first candidate fails (a diverged run has no metric), the second scores
            outcomes[proposal.cell_hash] = None if not candidates else 0.55
            candidates.append(proposal.cell_hash)
        if proposal.task == "arith":
            searcher.tell(proposal, Outcome(outcomes[proposal.cell_hash], 1))
    text = rendered(partial_table(searcher))
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines()[4:] if line.strip()}
    failed, scored = (readable_name(searcher.cells, d) for d in candidates)
    assert rows[failed] == ["failed", "-"]  # trained on arith and failed; xml not known
    assert rows[scored] == ["1.100", "-"]
