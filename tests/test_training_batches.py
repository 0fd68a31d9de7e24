"""Mini-batches on tensors: every row once per epoch in a seeded order, the default batch size, and the
tensor trainer's updates replayed step by step on the scalar network (autodiff_cli.nn, optim, losses:
the reference) from the same weights and the same batches."""

import json
import math
import random

import pytest
from helpers import run

from autodiff_cli import losses as scalar_losses
from autodiff_cli import nn as scalar_nn
from autodiff_cli import optim as scalar_optim
from autodiff_cli.data import prepare, read_table
from autodiff_cli.tensor import available
from autodiff_cli.training import DEFAULT_BATCH, FULL_BATCH_ROWS, Batches, Settings, Trainer


def blobs(n=30, classes=("a", "b"), seed=0):
    rng = random.Random(seed)
    lines = ["x1,x2,label"]
    for i in range(n):
        k = i % len(classes)
        angle = 2 * math.pi * k / len(classes)
        lines.append(f"{3 * math.cos(angle) + rng.gauss(0, 1)!r},{3 * math.sin(angle) + rng.gauss(0, 1)!r},"
                     f"{classes[k]}")
    return "\n".join(lines) + "\n"


def wave(n=30):
    rng = random.Random(4)
    lines = ["a,b,y"]
    for _ in range(n):
        a, b = rng.uniform(-2, 2), rng.uniform(0, 3)
        lines.append(f"{a!r},{b!r},{math.sin(a) + b!r}")
    return "\n".join(lines) + "\n"


def dataset(text, target):
    return prepare(read_table(text, "t.csv"), target)


# -- batches -----------------------------------------------------------------------------------


def test_every_row_is_in_exactly_one_batch_per_epoch_and_the_batch_holds_its_rows():
    from autodiff_cli.tensor.backends import backend

    X = [[float(i), float(10 * i)] for i in range(23)]
    y = [[float(i % 3)] for i in range(23)]
    rows = [i for i in range(23) if i != 5]  # a held-out row is never in a batch
    batches = Batches(X, y, rows, 6, random.Random(0), backend())
    orders = []
    for _ in range(3):
        seen, sizes = [], []
        for picked, xb, yb in batches.epoch():
            assert xb.tolist() == [X[i] for i in picked] and yb.tolist() == [y[i] for i in picked]
            assert not xb.requires_grad and not yb.requires_grad
            seen += picked
            sizes.append(len(picked))
        assert sorted(seen) == rows and sizes == [6, 6, 6, 4]
        orders.append(seen)
    assert len({tuple(o) for o in orders}) == 3  # shuffled anew every epoch
    assert all(o != rows for o in orders)


def test_the_order_of_the_batches_follows_the_seed():
    from autodiff_cli.tensor.backends import backend

    X, y = [[float(i)] for i in range(40)], [[0.0] for _ in range(40)]

    def orders(seed):
        batches = Batches(X, y, range(40), 8, random.Random(seed), backend())
        return [[i for picked, _, _ in batches.epoch() for i in picked] for _ in range(2)]

    first, again, other = orders(1), orders(1), orders(2)
    assert first == again  # two generators of one seed: the same batches
    assert first != other
    # the order is random.Random(seed).shuffle of the rows, epoch after epoch: what a reader can reproduce
    rng, expected = random.Random(1), []
    for _ in range(2):
        order = list(range(40))
        rng.shuffle(order)
        expected.append(order)
    assert orders(1) == expected


def test_a_full_batch_is_the_rows_in_the_files_order_every_epoch():
    from autodiff_cli.tensor.backends import backend

    X, y = [[float(i)] for i in range(10)], [[1.0] for _ in range(10)]
    batches = Batches(X, y, range(10), 10, random.Random(0), backend())
    for _ in range(2):
        (picked, xb, _), = list(batches.epoch())
        assert picked == list(range(10)) and xb.tolist() == X


def test_the_default_batch_is_the_whole_set_when_small_and_64_rows_when_large():
    assert (FULL_BATCH_ROWS, DEFAULT_BATCH) == (1000, 64)
    settings = Settings()
    assert settings.batch_for(100) == 100 and settings.batch_for(1000) == 1000
    assert settings.batch_for(1001) == 64
    assert Settings(batch_size=32).batch_for(1001) == 32 and Settings(batch_size=500).batch_for(100) == 100


def test_the_summary_and_the_model_file_name_the_batches(tmp_path):
    (tmp_path / "b.csv").write_text(blobs(30))
    result = run("train", tmp_path / "b.csv", "-t", "label", "--epochs", "2", "--batch-size", "8", "-q",
                 "--save", tmp_path / "m.json")
    assert "2 epochs, batches of 8, seed 0; 30 training rows" in result.stdout
    assert json.loads((tmp_path / "m.json").read_text())["training"]["batch_size"] == 8
    result = run("train", tmp_path / "b.csv", "-t", "label", "--epochs", "2", "--batch-size", "64", "-q",
                 "--save", tmp_path / "m.json")
    assert "2 epochs, full batch, seed 0" in result.stdout
    assert json.loads((tmp_path / "m.json").read_text())["training"]["batch_size"] == 30


# -- the tensor trainer against the scalar network ------------------------------------------------


def copy_weights(scalar_model, tensor_layers):
    for layer, linear in zip(scalar_model.layers, tensor_layers, strict=True):
        for neuron, row, bias in zip(layer, linear.weight.tolist(), linear.bias.tolist(), strict=True):
            for w, value in zip(neuron.w, row, strict=True):
                w.data = value
            neuron.b.data = bias


def scalar_loss(task, outputs, targets, classes):
    if task == "regression":
        return scalar_losses.mse([o[0] for o in outputs], targets)
    if classes == 2:
        return scalar_losses.bce_with_logits([o[0] for o in outputs], targets)
    return scalar_losses.cross_entropy(outputs, [int(t) for t in targets])


CASES = [
    ("two classes, adam, batches of 7", blobs(30), "label", Settings(hidden=[4], epochs=2, batch_size=7, seed=2)),
    ("three classes, sgd + momentum, batches of 8",
     blobs(30, ("p", "q", "r")), "label",
     Settings(hidden=[5, 3], activation="relu", epochs=2, optimizer="sgd", lr=0.05, momentum=0.9, batch_size=8)),
    ("regression, adam + weight decay, full batch",
     wave(), "y", Settings(hidden=[3], activation="sigmoid", epochs=3, weight_decay=0.01)),
]


@pytest.mark.parametrize("backend", available())
@pytest.mark.parametrize(("what", "text", "target", "settings"), CASES, ids=[c[0] for c in CASES])
def test_the_tensor_trainer_makes_the_updates_the_scalar_network_makes(what, text, target, settings, backend):
    from autodiff_cli.trained import linear_layers

    settings.backend = backend
    data = dataset(text, target)
    trainer = Trainer(data, settings)
    layers = linear_layers(trainer.model)
    reference = scalar_nn.MLP(trainer.sizes[0], trainer.sizes[1:], activation=settings.activation,
                              output_activation="linear", seed=0)
    copy_weights(reference, layers)
    seen = []
    epoch = trainer.batches.epoch
    trainer.batches.epoch = lambda: ((rows, x, y) for rows, x, y in epoch() if seen.append(list(rows)) or True)
    history = list(trainer.run())
    params = reference.parameters()
    if settings.optimizer == "adam":
        opt = scalar_optim.Adam(params, settings.learning_rate, weight_decay=settings.weight_decay)
    else:
        opt = scalar_optim.SGD(params, settings.learning_rate, momentum=settings.momentum,
                               weight_decay=settings.weight_decay)
    per_epoch = len(seen) // settings.epochs
    for k in range(settings.epochs):
        total = 0.0
        for rows in seen[k * per_epoch : (k + 1) * per_epoch]:
            outputs = [reference(trainer.data.X[i]) for i in rows]
            loss = scalar_loss(data.task, outputs, [trainer.data.y[i] for i in rows], len(data.labels))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.data * len(rows)
        assert history[k].loss == pytest.approx(total / len(trainer.train_rows), rel=1e-9)
    for layer, linear in zip(reference.layers, layers, strict=True):
        ours = [w for row in linear.weight.tolist() for w in row]
        assert ours == pytest.approx([w.data for n in layer for w in n.w], rel=1e-9, abs=1e-12)
        assert linear.bias.tolist() == pytest.approx([n.b.data for n in layer], rel=1e-9, abs=1e-12)


def test_the_same_seed_gives_the_same_model_on_each_backend_and_close_ones_across(tmp_path):
    (tmp_path / "b.csv").write_text(blobs(50))
    docs = {}
    for backend in available():
        for k in (1, 2):
            path = tmp_path / f"{backend}{k}.json"
            run("train", tmp_path / "b.csv", "-t", "label", "--epochs", "5", "--batch-size", "16", "--seed", "7",
                "--backend", backend, "-q", "--save", path)
            docs[backend, k] = json.loads(path.read_text())
        assert docs[backend, 1] == docs[backend, 2]
        assert docs[backend, 1]["training"]["backend"] == backend
    if len(available()) == 2:
        for a, b in zip(docs["python", 1]["layers"], docs["numpy", 1]["layers"], strict=True):
            ours, theirs = [w for row in a["weights"] for w in row], [w for row in b["weights"] for w in row]
            assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)
