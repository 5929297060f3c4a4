from archsearch import zoo
from archsearch.search import Outcome, make_searcher


def test_fixed_search_proposes_each_cell_on_each_task_once_then_ends():
    text = "cell mine(x; h):\n    h = relu(linear(x, h))\n"
    searcher = make_searcher(
        "fixed",
        tasks=["arith", "xml"],
        cells=["lstm", "gru", text],
        trials=1,
    )
    asked = []
    while (proposal := searcher.ask()) is not None:
        asked.append(proposal)
        searcher.tell(proposal, Outcome(0.5, 1))
    pairs = {(p.cell_hash, p.task) for p in asked}
    assert len(asked) == len(pairs) == 6
    assert asked[0].cell_hash == zoo.get("gru").canonical_hash()  # the reference first
    assert searcher.ask() is None
