"""Hand-written seeds for the fuzz corpora: every README expression, every op, and inputs that have bitten parsers.

    python fuzz/seeds.py        # adds them to fuzz/corpus/parser and fuzz/corpus/batch

Files are named by the SHA-1 of their content, as libFuzzer names them, so adding
the seeds twice changes nothing; `fuzz/run.py` minimises the corpus afterwards.
"""

from __future__ import annotations

import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from autodiff_cli import ops  # noqa: E402

README = [
    "tanh(w*x+b)", "sqrt(x^2+y^2)", "x*y + sin(x)", "x^3*sin(x)", "tanh(x)", "x^2*y^3", "x^2*y + sin(y)",
    "r*cos(t)", "r*sin(t)", "relu(x)", "x*x + x", "a*exp(-k*t)", "log(x)", "tanh(w*x + $b)", "sinn(x)",
]

HOSTILE = [
    "", " ", "x", "2", "-2*tanh(x)", "-x^2", "2^-1", "2^3^2", "x**y**z", "--x", "+-+-x", "-(a*b)", "(-a)*b",
    "-0.0", "0*-1", "1e308*10", "10^400", "9^9^9", "exp(exp(exp(10)))", "4.9e-324", "2.2250738585072014e-308",
    "1" * 400, "1" * 4301, "." + "0" * 300 + "1", "1e-400", "1e99999", "0x10", "1_000", "١٢", ".5", "5.", "1.5E+10",
    "(" * 200 + "x" + ")" * 200, "(" * 50, ")" * 3, "-" * 300 + "x", "x" + "^x" * 100, "+".join(["x"] * 300),
    "θ*λ + learning_rate", "ﬁ(x)", "x\x00y", "x\ny", "x\r\n+y", "x\t*\ty", "\ufeffx", "x\u00a0+ y", "𝑥 + 1",
    "pi*e", "e^pi", "pi(x)", "e(1)", "sin", "sin x", "sin()", "sin(x, y)", "max(x)", "max(x, y, z, w)",
    "min(1, 2, 3)", "log(x, 2)", "log(x, 2, 3)", "log(8, 2)", "pow(x, 2)", "mul(a, b)", "add(x)", "x/0",
    "0/0", "0^0", "0^-1", "(-8)^(1/3)", "sqrt(-1)", "log(0)", "asin(2)", "tan(pi/2)", "x$", "x = 1", "x,y",
    "f(g(h(x)))", "x^^2", "x**-y", "x * * y", "1e", "1e+", "e1", "_x + __", "x.y", "3x", "x3", "(x)(y)",
]


def parser_seeds() -> list[bytes]:
    texts = README + HOSTILE
    for op in ops.functions():
        args = ", ".join(["x", "y"][: max(op.arity, 1)]) if op.arity else "x"
        texts.append(f"{op.name}({args})")
        texts.append(f"{op.name}(0.5) + {op.name}(-0.5)" if op.arity == 1 else f"{op.name}(x, 0)")
    for name in ops.OPS:  # the infix ones by name too
        texts.append(f"{name}(x, y)")
    seeds = [t.encode("utf-8", "surrogatepass") for t in texts]
    seeds += [b"\xff\xfe", b"x + \xc3", b"\xed\xa0\x80", b"sin(\x80x)", b"\xef\xbb\xbfx*2"]
    return seeds


def _batch(flags: int, body: bytes) -> bytes:
    return bytes([flags]) + body


def batch_seeds() -> list[bytes]:
    jsonl = [
        b'{"x": 1, "y": 2}\n{"x": 0.5, "y": -1}\n',
        b'{"x": 1, "y": 2}\n\n  \n{"x": 3}\n[1]\n"s"\nnull\ntrue\n5\n{"x": "a", "y": 1}\n{"x": true, "y": 1}\n',
        b'\xef\xbb\xbf{"x": 1, "y": 2}\r\n{"x": 2, "y": 3}\r\n',
        b'{"x": 1e308, "y": 10}\n{"x": 0, "y": -1}\n{"x": -1, "y": 0.5}\n{"x": 1' + b"0" * 400 + b', "y": 1}\n',
        b'{"x": NaN, "y": Infinity}\n{"x": -0.0, "y": 4.9e-324}\n',
        b'{"x": 1, "y": 2, "x": 3}\n{"x": 1, "y": 2, "z": 9}\n{"x": 1,}\n{"x"\n',
        b'{"x": \xff, "y": 1}\n{"x": "\xc3\xa9", "y": 1}\n{"x": "\\ud800", "y": 1}\n',
        b"[" * 5000 + b"\n",
        b'{"x": 1, "y": 2}',
        b'{"x": 1, "y": 2}\x00\n\x0c\n{"x": 1, "y": 2}\x85\n',
    ]
    csvs = [
        b"x,y\n1,2\n0.5,-1\n",
        b"x,y\r\n1,2\r\n\r\n3,4\r\n",
        b"x,y\r1,2\r3,4\r",
        b"\xef\xbb\xbfx,y\n1,2\n",
        b'"x","y"\n"1","2"\n"1\n",2\n"a""b",3\n',
        b'x,y\n1\n1,2,3\n,\n, \n1,\n,2\n',
        b"x,y\nnan,1\ninf,2\n1e400,3\n1_000,2\n\xd9\xa1,2\n0x10,1\n-0.0,4.9e-324\n",
        b'x,y\n"unterminated,2\n',
        b"\n\n x , y \n1,2\n",
        b"x,x\n1,2\n",
        b"a,b\n1,2\n",
        b"x,y,error,value\n1,2,3,4\n",
        b"x,y\n\xff,1\n1,\xff\n",
        b"\xff,y\n1,2\n",
        b"",
        b"x,y\n1,2\x00\n",
    ]
    seeds = []
    for flags in range(0, 128, 1):
        pick = jsonl if not flags & 1 else csvs
        seeds.append(_batch(flags, pick[flags % len(pick)]))
    seeds += [_batch(1 | (f << 1), body) for body in csvs for f in (0, 5)]
    seeds += [_batch(f << 1, body) for body in jsonl for f in (0, 5)]
    return seeds


# The tensor language: the expressions, every tensor function, every piece of syntax, and
# inputs that test the edges (bindings on the lines after the expression)
TENSOR = [
    "sum((A@x - b)^2)\n[[1,2],[3,4],[5,6]]\n[1,-1]\n[0,1,2]", "logsumexp(W@x + c) - (W@x + c)[2]\n[[1,0],[0,1],[1,1]]"
    "\n[0.5,-1]\n[0,0,0]", "softmax(z)\n[1,2,3]", "0.5*x@A@x\n[1,2]\n[[2,1],[1,3]]", "sum(tanh(W@x))",
    "sum(W@x + b)", "sum(tanh(W@x + b))", "x.T", "A.T @ A", "(A + A.T)[0, :]", "A[:, 0:2]", "A[1:, ::2]", "x[-1]",
    "A[0][1]", "[1, 2, 3]", "[[1, 2], [3, 4]]", "[x, 2*x]", "[x[0], x[1]]", "[]", "[[]]", "[[1,2],[3]]",
    "sum(A, axis=0)", "sum(A, axis=-1, keepdims=1)", "mean(A, axis=[0, 1])", "max(A, axis=0)", "min(A)",
    "max(x, 0)", "prod(x)", "dot(x, x)", "outer(x, x)", "norm(A)", "norm(A, axis=1)", "trace(A)", "softmax(A, axis=0)",
    "log_softmax(x)", "logsumexp(A, axis=1)", "reshape(A, 4)", "reshape(A, [1, -1])", "concat(x, x)",
    "stack(x, x, axis=1)", "where(x, x, 0)", "det(A)", "inv(A)", "logdet(A)", "T(A)", "sum(x, dim=0, keepdim=1)",
    "A @ y", "x + A", "sum(A, axis=2)", "x[5]", "A[0, 0, 0]", "x[::-1]", "x[::0]", "sum(x, 0)", "sum(x, axis=x)",
    "foo(x)", "sin(x, axis=0)", "x.y", "x @", "[1, 2", "x = [1]", "det(x)", "inv([[1, 2], [2, 4]])",
    "logdet(-A)", "x\n[1, NaN]", "x\n[1e999]", "x\n[true]", "x\n[[1], 2]", "x\n" + "[" * 40 + "]" * 40,
    "x\n1,2", "x\n{}", "x\n\"s\"", "x\npi/2", "x\n[" + "1," * 200 + "1]", "tanh(w*x+b)", "x^2", "2x + x²",
    "|x| + √x", "log(x, 2)", "-x.T^2", "1/2[0]", "(x)[0]", "sin(x)[0]", "[1, 2][1]", "[pi, e]",
]


def tensor_seeds() -> list[bytes]:
    return [t.encode("utf-8") for t in TENSOR]


def write(folder: str, seeds: list[bytes]) -> int:
    os.makedirs(folder, exist_ok=True)
    added = 0
    for data in seeds:
        path = os.path.join(folder, hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            added += 1
    return added


def main() -> None:
    for name, seeds in (("parser", parser_seeds()), ("batch", batch_seeds()), ("tensor", tensor_seeds())):
        added = write(os.path.join(HERE, "corpus", name), seeds)
        print(f"{name}: {added} new seeds ({len(seeds)} in all)")


if __name__ == "__main__":
    main()
