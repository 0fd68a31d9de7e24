"""nn: the structure the design document's loop relies on, seeding, activations and gradients."""

import math
import random

import pytest

from autodiff_cli.engine import Value
from autodiff_cli.nn import MLP, Layer, Module, Neuron
from autodiff_cli.training import forward_floats


def test_mlp_shape_as_in_the_design_document():
    model = MLP(3, [4, 4, 1], seed=0)
    assert [len(layer) for layer in model.layers] == [4, 4, 1]
    assert model.sizes == [3, 4, 4, 1]
    assert len(model.parameters()) == (3 + 1) * 4 + (4 + 1) * 4 + (4 + 1) * 1
    for layer in model.layers:
        for n in layer:  # a layer iterates over its neurons
            assert isinstance(n, Neuron)
            assert all(isinstance(w, Value) for w in n.w) and isinstance(n.b, Value)
            assert n.activation == "tanh"
    assert model.layers[1][2] is model.layers[1].neurons[2]
    out = model([2.0, 3.0, -1.0])
    assert isinstance(out, list) and len(out) == 1  # always a list, even for one output
    assert isinstance(Layer(2, 1, seed=0)([1.0, 2.0]), list)


def test_initial_weights_are_uniform_in_minus_one_one_with_zero_bias_and_floats():
    model = MLP(5, [8, 3], seed=1)
    for layer in model.layers:
        for n in layer:
            assert all(-1.0 <= w.data <= 1.0 and isinstance(w.data, float) for w in n.w)
            assert n.b.data == 0.0 and isinstance(n.b.data, float)


def test_the_same_seed_gives_the_same_model_and_another_seed_another():
    a = [p.data for p in MLP(2, [16, 16, 1], seed=7).parameters()]
    b = [p.data for p in MLP(2, [16, 16, 1], seed=7).parameters()]
    c = [p.data for p in MLP(2, [16, 16, 1], seed=8).parameters()]
    assert a == b and a != c
    # the seed is the model's own: the global random module is neither used nor disturbed
    random.seed(3)
    before = random.random()
    random.seed(3)
    MLP(2, [4, 1], seed=0)
    assert random.random() == before
    # a shared generator continues where it left off
    rng = random.Random(5)
    first = [p.data for p in MLP(2, [3], seed=rng).parameters()]
    second = [p.data for p in MLP(2, [3], seed=rng).parameters()]
    assert first != second


@pytest.mark.parametrize(
    ("activation", "f"),
    [
        ("tanh", math.tanh),
        ("relu", lambda z: max(z, 0.0)),
        ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
        ("linear", lambda z: z),
    ],
)
def test_a_neuron_computes_activation_of_w_dot_x_plus_b(activation, f):
    n = Neuron(3, activation, seed=0)
    n.b.data = 0.25
    x = [0.5, -1.5, 2.0]
    z = 0.25 + sum(w.data * xi for w, xi in zip(n.w, x, strict=True))
    assert n(x).data == pytest.approx(f(z), rel=1e-15, abs=1e-300)
    assert n(x).op == ("add" if activation == "linear" else activation)


def test_output_activation_and_hidden_activation():
    model = MLP(2, [3, 3, 2], activation="relu", output_activation="linear", seed=0)
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]


def test_mlp_gradient_against_central_differences():
    model = MLP(3, [4, 3, 2], activation="tanh", output_activation="sigmoid", seed=2)
    x = [0.3, -0.7, 1.1]
    out = model(x)
    (out[0] * 2.0 + out[1]).backward()
    params = model.parameters()
    h = 1e-6
    for p in params:
        keep = p.data
        p.data = keep + h
        up = forward_floats(model, x)
        p.data = keep - h
        down = forward_floats(model, x)
        p.data = keep
        numeric = ((up[0] * 2 + up[1]) - (down[0] * 2 + down[1])) / (2 * h)
        assert p.grad == pytest.approx(numeric, rel=1e-5, abs=1e-9)


def test_forward_on_floats_is_the_value_forward_to_the_last_bit():
    model = MLP(4, [16, 8, 3], activation="relu", output_activation="linear", seed=4)
    rng = random.Random(0)
    for _ in range(20):
        x = [rng.uniform(-3, 3) for _ in range(4)]
        assert forward_floats(model, x) == [v.data for v in model(x)]


def test_zero_grad_and_module_base():
    model = MLP(2, [2, 1], seed=0)
    model([1.0, 2.0])[0].backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 and isinstance(p.grad, float) for p in model.parameters())
    assert Module().parameters() == []


def test_bad_shapes_and_names_are_refused():
    with pytest.raises(ValueError, match="unknown activation"):
        Neuron(2, "softmax")
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        Neuron(2, seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least one layer"):
        MLP(2, [])
    with pytest.raises(ValueError, match="at least one neuron"):
        Layer(2, 0)


def test_repr_names_the_structure():
    assert repr(MLP(2, [3, 1], output_activation="linear", seed=0)) == (
        "MLP(Layer(2, 3, activation='tanh'), Layer(3, 1, activation='linear'))"
    )


def test_the_library_side_needs_neither_click_lark_nor_rich(tmp_path):
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    code = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"click", "lark", "rich"}:
                    raise ImportError(name)

        sys.meta_path.insert(0, Block())
        from autodiff_cli import data, losses, modelfile, nn, optim, training
        print("ok")
        """
    )
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "ok", result.stderr
