"""The mini MLP of ../shared/seed/mini_autograd-README.md, written as that README writes it.

The only change is the import line: `from engine import Value` becomes the package's.
"""

import random


def test_mini_mlp_loop_from_the_design_document_learns():
    random.seed(1)  # the README uses the global random module; fix it so the test is repeatable

    # --- from the README, unchanged but for the import ---
    from autodiff_cli.engine import Value

    class Neuron:
        def __init__(self, nin):
            self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(0)

        def __call__(self, x):
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            return act.tanh()

    class MLP:
        def __init__(self, nin, nouts):
            sz = [nin] + nouts
            self.layers = [
                [Neuron(sz[i]) for _ in range(sz[i+1])]
                for i in range(len(nouts))
            ]

        def __call__(self, x):
            for layer in self.layers:
                x = [n(x) for n in layer]
            return x

    model = MLP(3, [4, 4, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5]]
    ys = [1.0, -1.0]

    losses = []
    for _ in range(50):
        ypred = [model(x)[0] for x in xs]
        loss = sum((yp - yt)**2 for yp, yt in zip(ypred, ys))
        losses.append(loss.data)
        for p in model.layers:
            for n in p:
                for w in n.w:
                    w.grad = 0
                n.b.grad = 0
        loss.backward()
        for p in model.layers:
            for n in p:
                for w in n.w:
                    w.data -= 0.1 * w.grad
                n.b.data -= 0.1 * n.b.grad
    # --- end of the README's code ---

    assert losses[-1] < 0.05 * losses[0]
    falling = sum(b < a for a, b in zip(losses, losses[1:]))
    assert falling >= 45  # gradient descent with a small step: the loss falls almost every step
    ypred = [model(x)[0].data for x in xs]
    assert ypred[0] > 0.8 and ypred[1] < -0.8


def test_readme_gradients_equal_a_hand_derivation():
    """One neuron's gradient from the README's structure, against the chain rule by hand."""
    import math

    from autodiff_cli.engine import Value

    w = [Value(0.5), Value(-0.25)]
    b = Value(0.1)
    x = [2.0, 3.0]
    act = sum((wi * xi for wi, xi in zip(w, x)), b)
    out = act.tanh()
    loss = (out - 1.0) ** 2
    loss.backward()
    z = 0.5 * 2.0 - 0.25 * 3.0 + 0.1
    t = math.tanh(z)
    dloss_dz = 2 * (t - 1.0) * (1 - t * t)
    assert math.isclose(w[0].grad, dloss_dz * 2.0, rel_tol=1e-12)
    assert math.isclose(w[1].grad, dloss_dz * 3.0, rel_tol=1e-12)
    assert math.isclose(b.grad, dloss_dz, rel_tol=1e-12)


def test_the_design_documents_loop_runs_unchanged_on_the_library_mlp():
    """The same loop, with the classes imported from autodiff_cli.nn instead of written out."""
    from autodiff_cli.nn import MLP

    model = MLP(3, [4, 4, 1], seed=1)  # the design's network: tanh neurons, weights in [-1, 1], bias 0
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5]]
    ys = [1.0, -1.0]

    losses = []
    # --- from the README, unchanged ---
    for _ in range(50):
        ypred = [model(x)[0] for x in xs]
        loss = sum((yp - yt)**2 for yp, yt in zip(ypred, ys))
        losses.append(loss.data)
        for p in model.layers:
            for n in p:
                for w in n.w:
                    w.grad = 0
                n.b.grad = 0
        loss.backward()
        for p in model.layers:
            for n in p:
                for w in n.w:
                    w.data -= 0.1 * w.grad
                n.b.data -= 0.1 * n.b.grad
    # --- end of the README's code ---

    assert losses[-1] < 0.05 * losses[0]
    assert sum(b < a for a, b in zip(losses, losses[1:])) >= 45
    ypred = [model(x)[0].data for x in xs]
    assert ypred[0] > 0.8 and ypred[1] < -0.8
    # the loop's hand-written zeroing and updates reached every parameter the library knows of
    assert len(model.parameters()) == sum(len(n.w) + 1 for layer in model.layers for n in layer)


def test_the_library_mlp_is_the_design_documents_network_to_the_last_bit():
    """The README's classes given the library model's weights compute the same losses, step by step."""
    from autodiff_cli.engine import Value
    from autodiff_cli.nn import MLP

    class Neuron:  # as the README writes it, but for weights given rather than drawn
        def __init__(self, w):
            self.w = [Value(wi) for wi in w]
            self.b = Value(0)

        def __call__(self, x):
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            return act.tanh()

    library = MLP(3, [4, 4, 1], seed=5)
    readme_layers = [[Neuron([w.data for w in n.w]) for n in layer] for layer in library.layers]

    def readme_model(x):
        for layer in readme_layers:
            x = [n(x) for n in layer]
        return x

    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0]]
    ys = [1.0, -1.0, 1.0]
    for _ in range(10):
        losses = []
        for model, layers in ((library, library.layers), (readme_model, readme_layers)):
            loss = sum((model(x)[0] - y)**2 for x, y in zip(xs, ys))
            for p in layers:
                for n in p:
                    for w in n.w:
                        w.grad = 0
                    n.b.grad = 0
            loss.backward()
            for p in layers:
                for n in p:
                    for w in n.w:
                        w.data -= 0.05 * w.grad
                    n.b.data -= 0.05 * n.b.grad
            losses.append(loss.data)
        assert losses[0] == losses[1]
