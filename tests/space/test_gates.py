from archsearch import zoo
from archsearch.cell import parse_cell
from archsearch.space import ablations, find_gates, forget_bias, remove_gate


def names(cell):
    return [g.name for g in find_gates(cell)]


def test_lstm_has_three_gates_and_only_f_is_forget_like():
    gates = find_gates(zoo.get("lstm"))
    assert [g.name for g in gates] == ["i", "f", "o"]
    assert [g.forget_like for g in gates] == [False, True, False]


def test_gru_gates_are_r_and_z_and_z_is_forget_like():
    # n = tanh(...) is not a gate; 1 - z multiplies n but is not itself a sigmoid.
    gates = {g.name: g for g in find_gates(zoo.get("gru"))}
    assert set(gates) == {"r", "z"}
    assert gates["z"].forget_like and not gates["r"].forget_like


def test_a_cell_without_gates_has_none():
    assert names(zoo.get("tanh")) == []
    cell = parse_cell("cell c(x; h):\n    s = sigmoid(linear(x, h))\n    h = s + h\n")
    assert names(cell) == []  # a sigmoid that is added, not multiplied, is no gate


def test_inline_sigmoid_operand_is_a_gate():
    cell = parse_cell("cell c(x; h):\n    h = sigmoid(linear(x, h)) * tanh(linear(x))\n")
    assert names(cell) == ["h#1"]


def test_removing_lstm_gates_gives_the_papers_ablations():
    lstm = zoo.get("lstm")
    gates = {g.name: g for g in find_gates(lstm)}
    for gate, ablated in (("f", "lstm_f"), ("i", "lstm_i"), ("o", "lstm_o")):
        assert remove_gate(lstm, gates[gate]).canonical_hash() == zoo.get(ablated).canonical_hash()
    assert forget_bias(lstm, gates["f"]).canonical_hash() == zoo.get("lstm_b").canonical_hash()


def test_ablations_lists_each_gate_and_the_forget_bias_variant():
    variants = ablations(zoo.get("lstm"))
    assert list(variants) == ["no i", "no f", "f bias 1", "no o"]
    assert len(variants["no f"].linears()) == 3


def test_a_removal_that_leaves_no_valid_cell_is_left_out():
    # The gate holds the only read of x: without it the cell would not read its input.
    cell = parse_cell("cell c(x; h):\n    g = sigmoid(linear(x))\n    h = g * tanh(linear(h))\n")
    assert names(cell) == ["g"]
    assert ablations(cell) == {}
