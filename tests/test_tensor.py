"""The Tensor itself: construction, the graph, backward(), gradients accumulating, no_grad and in-place updates,
and the errors (types, messages: never a traceback from the internals, never NaN).  Every test runs on each
backend that can load here."""

import math
import subprocess
import sys

import pytest

import autodiff_cli
import autodiff_cli.tensor as T
from autodiff_cli.errors import MathError, UsageError
from autodiff_cli.tensor import Tensor, backends, no_grad


@pytest.fixture(params=backends.available(), autouse=True)
def backend(request):
    with T.use_backend(request.param) as b:
        yield b


# -- making tensors ----------------------------------------------------------------------------


def test_nested_lists_give_shape_and_values():
    x = Tensor([[1, 2, 3], [4, 5, 6]])
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert all(isinstance(v, float) for row in x.tolist() for v in row)
    s = Tensor(2.5)
    assert s.shape == () and s.size == 1 and s.item() == 2.5 and s.tolist() == 2.5
    assert Tensor([True, False]).tolist() == [1.0, 0.0]  # as PyTorch: bools are numbers
    assert Tensor([]).shape == (0,)
    assert Tensor([[], []]).shape == (2, 0) and Tensor([[], []]).tolist() == [[], []]


@pytest.mark.parametrize(("data", "message"), [
    ([[1, 2, 3], [4, 5]], "row [1] has 2 items, row [0] has 3"),
    ([[1, 2], [3]], "row [1] has 1 item, row [0] has 2"),
    ([[[1, 2], [3, 4]], [[5, 6], [7]]], "row [1, 1] has 1 item, row [0, 0] has 2"),
    ([[1, 2], 3], "element [1] is a number where element [0] is a list"),
    ([1, [2]], "element [1] is a list where element [0] is a number"),
    ([1.0, "2"], "element [1] is '2' (str): a tensor holds numbers"),
    ([1.0, float("nan")], "element [1] is nan: a tensor holds finite numbers"),
    ([[1.0, math.inf]], "element [0, 1] is inf: a tensor holds finite numbers"),
    ([10**400], "element [0] is too large for a double"),
    (None, "is None (NoneType): a tensor holds numbers"),
])
def test_bad_data_is_a_usage_error_saying_where(data, message):
    with pytest.raises(UsageError) as e:
        Tensor(data)
    assert message in str(e.value)


def test_constructors(backend):
    assert T.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert T.zeros((2, 3)).shape == (2, 3)
    assert T.ones(2).tolist() == [1.0, 1.0]
    assert T.full((2, 2), 0.5).tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert T.arange(4).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert T.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert T.arange(3, 0, -1).tolist() == [3.0, 2.0, 1.0]
    assert T.eye(3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert T.zeros(2).requires_grad and not T.zeros(2, requires_grad=False).requires_grad
    assert T.zeros(2, backend="python").backend is backends.get("python")
    assert T.ones(1).backend is backend
    with pytest.raises(UsageError, match="step cannot be 0"):
        T.arange(0, 1, 0)


def test_random_numbers_repeat_with_a_seed_and_agree_across_backends():
    import random

    r = random.Random(7)
    expected = [r.random() for _ in range(6)]
    for name in backends.available():
        assert T.rand(2, 3, seed=7, backend=name).tolist() == [expected[:3], expected[3:]]
    r = random.Random(1)
    normal = [r.gauss(0.0, 1.0) for _ in range(4)]
    assert T.randn(4, seed=1).tolist() == normal
    r = random.Random(2)
    assert T.uniform((3,), -2.0, 2.0, seed=2).tolist() == [-2.0 + 4.0 * r.random() for _ in range(3)]
    assert T.rand(3, seed=None).tolist() != T.rand(3, seed=None).tolist()  # unseeded: fresh numbers
    assert all(-2.0 <= v < 2.0 for v in T.uniform(1000, -2, 2, seed=3).tolist())


def test_a_tensor_from_a_tensor_copies_values_not_the_graph():
    x = Tensor([1.0, 2.0])
    y = x * 2
    z = Tensor(y)
    assert z.tolist() == [2.0, 4.0] and z.op == "var" and z.parents == ()
    for name in backends.available():
        assert Tensor(y, backend=name).backend is backends.get(name)


def test_repr():
    assert repr(Tensor([[1.0, 2.0], [3.0, 4.0]])) == "Tensor([[1.0, 2.0],\n        [3.0, 4.0]])"
    assert repr(Tensor([1, 2], requires_grad=False)) == "Tensor([1.0, 2.0], requires_grad=False)"
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert repr(x @ Tensor([1.0, 0.0])) == "Tensor([1.0, 3.0], op=matmul)"
    assert repr(Tensor(0.5)) == "Tensor(0.5)"
    big = repr(T.arange(2000))
    assert big == "Tensor([0.0, 1.0, 2.0, ..., 1997.0, 1998.0, 1999.0])"


def test_item_and_conversions():
    assert float(Tensor([[3.0]])) == 3.0
    with pytest.raises(UsageError, match=r"item\(\) needs a one-element tensor; this one has shape \(2,\)"):
        Tensor([1.0, 2.0]).item()
    assert len(Tensor([[1, 2], [3, 4], [5, 6]])) == 3
    assert [t.tolist() for t in Tensor([[1, 2], [3, 4]])] == [[1.0, 2.0], [3.0, 4.0]]


def test_numpy_gives_the_numpy_array_on_the_numpy_backend_only(backend):
    x = Tensor([[1.0, 2.0]])
    if backend.name == "numpy":
        import numpy as np

        assert np.array_equal(x.numpy(), np.array([[1.0, 2.0]]))
    else:
        with pytest.raises(UsageError, match="numpy backend"):
            x.numpy()


# -- the graph and backward() ------------------------------------------------------------------


def test_a_node_knows_its_op_and_parents_and_a_constant_result_builds_no_graph():
    x = Tensor([1.0, 2.0])
    c = Tensor([3.0, 4.0], requires_grad=False)
    y = x * c
    assert y.op == "mul" and y.parents == (x, c) and y.requires_grad
    assert (c * 2).op == "var" and (c * 2).parents == () and not (c * 2).requires_grad
    with no_grad():
        z = x * c
    assert z.parents == () and not z.requires_grad
    assert x.op == "var" and x.is_leaf and not y.is_leaf


def test_backward_of_the_api_example_by_hand():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    w = Tensor([0.5, -1.0], requires_grad=False)
    y = (x @ w + 1) ** 2 / 3 - x.T.sum(axis=0)
    # y_i = (x_i . w + 1)^2 / 3 - sum_j x_ij;  d sum(y) / d x_ij = 2 (x_i . w + 1) w_j / 3 - 1
    assert y.tolist() == pytest.approx([(-1.5 + 1) ** 2 / 3 - 3, (-2.5 + 1) ** 2 / 3 - 7])
    y.sum().backward()
    expected = [[2 * (r + 1) * wj / 3 - 1 for wj in (0.5, -1.0)] for r in (-1.5, -2.5)]
    assert [v for row in x.grad.tolist() for v in row] == pytest.approx([v for row in expected for v in row])
    assert w.grad is None and y.grad is None  # constants and inner nodes keep no gradient
    assert not x.grad.requires_grad and x.grad.shape == x.shape


def test_gradients_accumulate_and_reset():
    x = Tensor([1.0, -2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [2 * 1.0 + 3, 2 * -2.0 + 3]
    x.grad = None
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, -4.0]


def test_a_tensor_used_twice_gets_both_contributions():
    x = Tensor([3.0])
    y = x * x + x  # 2x + 1
    y.backward()
    assert x.grad.tolist() == [7.0]


def test_backward_on_a_non_scalar_names_the_shape():
    y = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]) * 2
    with pytest.raises(UsageError) as e:
        y.backward()
    assert str(e.value) == ("grad can be implicitly created only for a one-element tensor; this one has shape "
                            "(3, 2): call .sum() first or pass gradient=")


def test_backward_with_an_explicit_gradient_is_a_vector_jacobian_product():
    x = Tensor([1.0, 2.0, 3.0])
    (x * x).backward(gradient=Tensor([1.0, 0.5, -1.0]))
    assert x.grad.tolist() == [2.0, 2.0, -6.0]
    with pytest.raises(UsageError, match=r"gradient has shape \(2,\), but the tensor has shape \(3,\)"):
        (x * 2).backward(gradient=[1.0, 2.0])


def test_a_one_element_tensor_of_any_shape_can_seed_backward():
    x = Tensor([[2.0]])
    (x * x).backward()
    assert x.grad.tolist() == [[4.0]]


def test_backward_of_a_constant_is_a_usage_error():
    with pytest.raises(UsageError, match="does not require grad"):
        (Tensor([1.0], requires_grad=False) * 2).sum().backward()


def test_a_deep_graph_needs_no_recursion():
    x = Tensor([1.0])
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.tolist() == [1.0]


def test_a_failing_backward_changes_no_gradient():
    x = Tensor([0.0, 1.0])
    w = Tensor([2.0, 2.0])
    y = (x * w).sum() + T.sqrt(x).sum()  # sqrt has no derivative at 0
    with pytest.raises(MathError, match=r"element \[0\]"):
        y.backward()
    assert x.grad is None and w.grad is None


def test_pow_with_a_constant_exponent_never_computes_the_exponent_s_log():
    x = Tensor([-2.0, 3.0])
    (x**2).sum().backward()  # d/dy = out * log(x) has no value at -2: it must not be asked
    assert x.grad.tolist() == [-4.0, 6.0]
    y = Tensor([2.0, 2.0])
    with pytest.raises(MathError):
        (Tensor([-2.0, 3.0], requires_grad=False) ** y).sum().backward()


def test_requires_grad_is_settable_on_leaves_only():
    x = Tensor([1.0, 2.0])
    x.requires_grad = False
    assert not (x * 2).requires_grad
    x.requires_grad = True
    y = x * 2
    with pytest.raises(UsageError, match="leaves only"):
        y.requires_grad = False


def test_detach_and_data_share_values_without_the_graph():
    x = Tensor([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert d.tolist() == [3.0, 6.0] and d.parents == () and not d.requires_grad
    assert y.data.tolist() == [3.0, 6.0] and not y.data.requires_grad
    x.data = Tensor([5.0, 6.0])
    assert x.tolist() == [5.0, 6.0] and x.requires_grad
    x.data = [7.0, 8.0]
    assert x.tolist() == [7.0, 8.0]


# -- no_grad and in-place updates -----------------------------------------------------------


def test_an_optimizer_step_in_place_under_no_grad():
    w = Tensor([1.0, -1.0])
    (w * w).sum().backward()
    g = w.grad
    with no_grad():
        w -= 0.25 * w.grad
    assert w.tolist() == [0.5, -0.5] and w.requires_grad and w.is_leaf
    assert g is w.grad
    with no_grad():
        w += 1
        w *= 2
        w /= 4
    assert w.tolist() == [0.75, 0.25]
    w.data -= Tensor([0.25, 0.25])  # x.data is settable: the same update, without no_grad
    assert w.tolist() == [0.5, 0.0]


def test_in_place_outside_no_grad_is_an_error_on_a_tracked_tensor_and_fine_on_a_constant():
    w = Tensor([1.0])
    with pytest.raises(UsageError, match="inside `with no_grad"):
        w -= 1
    c = Tensor([1.0], requires_grad=False)
    c += 1
    assert c.tolist() == [2.0]
    y = w * 2
    with no_grad(), pytest.raises(UsageError, match="changes leaves only"):
        y += 1
    with no_grad(), pytest.raises(UsageError, match="shape"):
        c += Tensor([1.0, 2.0])


def test_no_grad_nests_and_works_as_a_decorator():
    x = Tensor([1.0])

    @no_grad()
    def f():
        return x * 2

    assert not f().requires_grad
    with no_grad():
        with no_grad():
            pass
        assert not T.is_grad_enabled()
    assert T.is_grad_enabled() and (x * 2).requires_grad


# -- mixing ---------------------------------------------------------------------------------


def test_numbers_mix_in_on_both_sides():
    x = Tensor([1.0, 2.0])
    assert (2 - x).tolist() == [1.0, 0.0]
    assert (1 / x).tolist() == [1.0, 0.5]
    assert (2**x).tolist() == [2.0, 4.0]
    assert (x**2).tolist() == [1.0, 4.0]
    assert (-x).tolist() == [-1.0, -2.0]
    assert (True + x).tolist() == [2.0, 3.0]
    assert abs(Tensor([-1.5, 2.0])).tolist() == [1.5, 2.0] and abs(Tensor([-1.0])).op == "abs"
    with pytest.raises(TypeError):
        x + "1"
    with pytest.raises(UsageError, match="finite"):
        x * math.inf


@pytest.mark.skipif("numpy" not in backends.available(), reason="needs NumPy")
def test_tensors_on_two_backends_in_one_operation_name_both():
    import numpy as np

    a, b = Tensor([1.0], backend="python"), Tensor([1.0], backend="numpy")
    with pytest.raises(UsageError, match="tensors on two backends in one operation: python and numpy"):
        a + b
    assert (np.float64(2.0) * Tensor([1.0, 2.0])).tolist() == [2.0, 4.0]


def test_math_errors_name_the_operation_and_the_element():
    x = Tensor([[1.0, 2.0], [3.0, -0.5]])
    with pytest.raises(MathError) as e:
        T.log(x)
    assert e.value.op == "log"
    assert str(e.value) == "element [1, 1]: log(-0.5) is undefined: log needs a positive number"
    with pytest.raises(MathError, match="overflow"):
        T.exp(Tensor([1000.0]))
    with pytest.raises(MathError, match="division by zero"):
        Tensor([1.0]) / Tensor([0.0])


# -- the package --------------------------------------------------------------------------------


def test_autodiff_cli_tensor_is_lazy():
    assert autodiff_cli.Tensor is Tensor
    code = "import sys, autodiff_cli; print(sorted(m for m in sys.modules if 'tensor' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    with pytest.raises(AttributeError):
        autodiff_cli.Tensr  # noqa: B018


def test_importing_the_tensor_package_parses_no_formula():
    code = ("import autodiff_cli.tensor as T, autodiff_cli.ops as ops\n"
            "print(sum('grad_trees' in vars(op) or 'forward_tree' in vars(op) for op in ops.OPS.values()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError):
        T.no_such_function  # noqa: B018
    with pytest.raises(AttributeError):
        Tensor([1.0]).no_such_method  # noqa: B018


def test_the_module_lists_the_table_s_functions_and_its_own():
    names = dir(T)
    assert {"tanh", "ln", "atan2", "softmax", "matmul", "Tensor", "no_grad"} <= set(names)
    assert T.tanh.__name__ == "tanh" and "hyperbolic tangent" in T.tanh.__doc__


def test_backward_twice_on_one_graph_adds_twice_and_grad_checks_its_shape():
    x = Tensor([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(UsageError, match=r"a gradient of shape \(3,\) for a tensor of shape \(2,\)"):
        x.grad = Tensor([1.0, 2.0, 3.0])


@pytest.mark.skipif("numpy" not in backends.available(), reason="needs NumPy")
def test_a_numpy_array_is_data_like_a_nested_list():
    import numpy as np

    assert Tensor(np.arange(6.0).reshape(2, 3)).tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert Tensor(np.float64(1.5)).shape == ()


def test_backward_after_an_in_place_change_of_a_used_leaf_is_an_error():
    w = Tensor([1.0, 2.0])
    loss = (w * w).sum()
    with no_grad():
        w -= 1.0  # the graph's mul would read the new w: a wrong gradient, so an error instead
    with pytest.raises(UsageError, match="changed in place after the graph was built"):
        loss.backward()
    assert w.grad is None
    (w * w).sum().backward()  # a new forward is fine
    assert w.grad.tolist() == [0.0, 2.0]
    y = w * 3
    z = y.sum()
    y.data = Tensor([0.0, 0.0])
    with pytest.raises(UsageError, match="changed in place"):
        z.backward()
