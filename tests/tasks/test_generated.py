"""Family tests of the generated tasks: arith answers are right, xml parses."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

import tasks
from tasks.arith import ALPHABET, solve


def test_arith_targets_are_the_results():
    task = tasks.get("arith", preset="quick", n_train=10_000, n_valid=10, n_test=10, seed=5)
    texts = [t.decode() for t in task.texts["train"]]
    assert len(texts) == 10_000
    for text in texts:
        question, answer = text.split("=")
        assert "=" + answer == "=" + solve(question)
        assert any(c.isalpha() for c in text) or len(question) <= 20
    lengths = [len(t) for t in texts]
    assert max(lengths) <= task.config.seq_len + 1


def test_arith_solver_is_a_real_parser():
    assert solve("1a2+-3b4") == "-22."
    assert solve("-7--80") == "73."
    assert solve("99-100") == "-1."


def test_arith_digits_follow_the_knobs():
    task = tasks.get("arith", preset="smoke", min_digits=4, max_digits=5, seq_len=40)
    for text in task.texts["test"]:
        question = "".join(c for c in text.decode().split("=")[0] if c in "0123456789+-")
        numbers = question.replace("--", " ").replace("+-", " ").replace("+", " ")
        numbers = numbers.replace("-", " ").split()
        assert all(4 <= len(n) <= 5 for n in numbers[-2:])


def test_arith_mask_covers_the_answer():
    task = tasks.get("arith", preset="smoke")
    batch = next(task.eval_batches("valid"))
    for b in range(batch.inputs.shape[1]):
        chars = "".join(ALPHABET[i] for i in batch.targets[:, b][batch.mask[:, b]].tolist())
        inputs = "".join(ALPHABET[i] for i in batch.inputs[:, b].tolist())
        assert chars == solve(inputs.split("=")[0]) and chars.endswith(".")


def test_xml_documents_parse_and_closing_tags_are_scored():
    task = tasks.get("xml", preset="quick", n_train=10_000, n_valid=10, n_test=10, seed=2)
    depths = []
    for text in task.texts["train"]:
        root = ET.fromstring(text)
        depths.append(1 + max((len(list(e.iter())) for e in root), default=0))
        assert len(text) <= task.config.seq_len + 1
    assert np.mean(depths) > 2
    batch = next(task.eval_batches("valid"))
    from tasks.xml import ALPHABET as XML

    for b in range(batch.inputs.shape[1]):
        text = "".join(XML[i] for i in batch.inputs[:, b].tolist()) + XML[batch.targets[-1, b]]
        scored = "".join(XML[i] for i in batch.targets[:, b][batch.mask[:, b]].tolist())
        closing = "".join(part.split(">")[0] + ">" for part in text.split("</")[1:])
        assert scored == closing
