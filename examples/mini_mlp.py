"""The mini MLP of the original design document, on autodiff_cli.nn.

The training loop is the design's, unchanged: it walks model.layers, each layer's
neurons and each neuron's .w and .b, zeroes the grads by hand and updates .data
by hand.  Only the classes come from the library, with a seed so that a run
can be repeated exactly.

    python examples/mini_mlp.py
"""

from autodiff_cli.nn import MLP

model = MLP(3, [4, 4, 1], seed=0)  # tanh neurons, as in the design
xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5]]
ys = [1.0, -1.0]

for step in range(50):
    ypred = [model(x)[0] for x in xs]
    loss = sum((yp - yt)**2 for yp, yt in zip(ypred, ys))
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
    if step % 10 == 0 or step == 49:
        print(f"step {step:2d}  loss {loss.data:.6f}")

print("predictions:", [round(model(x)[0].data, 4) for x in xs], "targets:", ys)
