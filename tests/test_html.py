"""explain --html: the page's data against hand derivations, its safety, its size and its layout (no browser).

The browser drives the same pages in test_html_browser.py; nothing here needs one.
"""

import base64
import hashlib
import itertools
import json
import math
import os
import re
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from autodiff_cli import html_explain
from autodiff_cli.cli import cli
from autodiff_cli.engine import Value
from autodiff_cli.explain import explain
from autodiff_cli.parser import parse

DATA = re.compile(r'<script type="application/json" id="explanation">(.*?)</script>', re.S)
HOSTILE = """</script><img src=x onerror="window.__pwned=1">'"&amp;<!--"""


def page_of(text, layout="auto", file_name="", **bindings):
    expr = parse(text)
    expr.gradient(bindings)
    return html_explain.page(expr.root, text, list(expr.variables.values()), file_name=file_name, layout=layout)


def data_of(page):
    (found,) = DATA.findall(page)
    return json.loads(found)


def run(*args):
    return CliRunner().invoke(cli, list(args))


def x_times_x_plus_x(layout="auto"):
    return data_of(page_of("x*x + x", layout, x=3))


# -- what the page says, against the chain rule by hand ---------------------------------------


def test_x_times_x_plus_x_by_hand():
    """f = x*x + x at 3: f = 12; the output's edges send 1 to x*x and 1 to x; x*x sends 1 * 3 twice; 7 in all."""
    data = x_times_x_plus_x()
    labels = [n["label"] for n in data["nodes"]]
    assert labels == ["x", "#1", "#2"]
    assert [n["value"] for n in data["nodes"]] == ["3", "9", "12"]
    edges = [(labels[e["from"]], labels[e["to"]], e["local"], e["upstream"], e["product"], e["sum"], e["part"],
              e["parts"]) for e in data["backward"]]
    assert edges == [
        ("#2", "#1", "1", "1", "1", "1", 1, 1),
        ("#2", "x", "1", "1", "1", "1", 1, 3),
        ("#1", "x", "3", "1", "3", "4", 2, 3),
        ("#1", "x", "3", "1", "3", "7", 3, 3),
    ]
    assert data["gradient"] == [["x", "7.0"]]
    assert data["nodes"][0]["grad"] == "7" and data["nodes"][2]["grad"] == "1"
    assert data["backward"][2]["rule"] == "∂(x * x)/∂x (as x) = x"


def test_the_rules_are_the_ones_explain_prints():
    """Each edge's rule is the text the op table gives, as the text explain prints it (one source)."""
    expr = parse("tanh(w*x+b)")
    expr.gradient({"x": 2, "w": -3, "b": 1})
    page = html_explain.page(expr.root, expr.text)
    rules = [e["rule"] for e in data_of(page)["backward"]]
    assert rules == [e.rule for e in explain(expr.root).backward]
    assert [r.split(" = ")[0] for r in rules] == ["∂tanh(#2)/∂#2", "∂(#1 + b)/∂#1", "∂(#1 + b)/∂b", "∂(w * x)/∂w",
                                                  "∂(w * x)/∂x"]
    # the rules' values by hand: tanh' = 1 - tanh^2 at -5; + sends 1 to both; * sends the other factor
    locals_ = [float(e["local"]) for e in data_of(page)["backward"]]
    assert locals_ == pytest.approx([1 - math.tanh(-5) ** 2, 1, 1, 2, -3], rel=1e-5)


def test_the_neuron_gradient_and_its_central_difference():
    """tanh(w*x + b) at x=2, w=-3, b=1: d/dw = x (1 - tanh(-5)^2), d/dx = w (1 - tanh(-5)^2), d/db = 1 - tanh(-5)^2."""
    data = data_of(page_of("tanh(w*x+b)", x=2, w=-3, b=1))
    s = 1 - math.tanh(-5) ** 2
    expected = {"w": 2 * s, "x": -3 * s, "b": s}
    by_label = {n["label"]: n for n in data["nodes"]}
    for name, derivative in expected.items():
        node = by_label[name]
        assert float(node["gradFull"]) == pytest.approx(derivative, rel=1e-12)
        check = node["check"]
        assert float(check["numeric"]) == pytest.approx(derivative, rel=1e-5)
        assert check["ok"] is True
    assert float(data["value"]) == pytest.approx(math.tanh(-5), rel=1e-15)


def test_a_check_that_fails_says_so():
    """abs(x) at 0: the difference (|h| - |-h|) / 2h is 0; the verdict is "agree" exactly when the backward
    pass's derivative (the op table's choice at the kink) is 0 too."""
    data = data_of(page_of("abs(x)", x=0))
    (x,) = [n for n in data["nodes"] if n["label"] == "x"]
    assert float(x["check"]["numeric"]) == 0.0
    assert x["check"]["ok"] is (float(x["gradFull"]) == 0.0)


def test_the_graph_is_restored_after_the_check():
    x = Value(3.0, name="x")
    y = x * x + x
    y.backward()
    html_explain.page(y, "x*x + x")
    assert (x.data, y.data, x.grad) == (3.0, 12.0, 7.0)


def test_constants_have_no_gradient_and_a_constant_expression_has_no_edges():
    data = data_of(page_of("2*x + 1", x=5))
    by_label = {n["label"]: n for n in data["nodes"]}
    assert "grad" not in by_label["2"] and by_label["2"]["constant"] is True
    assert by_label["x"]["grad"] == "2"
    data = data_of(page_of("2 + 3"))
    assert data["backward"] == [] and all("grad" not in n for n in data["nodes"])
    data = data_of(page_of("x", x=4))
    assert data["backward"] == [] and data["nodes"][0]["grad"] == "1"


# -- one file, no network, nothing from the user as markup -------------------------------------


def test_one_file_with_nothing_to_fetch():
    page = page_of("tanh(w*x+b)", x=2, w=-3, b=1)
    assert page.startswith("<!DOCTYPE html>")
    for reference in ("http:", "https:", "//", "src=", "href=", "@import", "url(http", "<link"):
        outside_scripts = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)
        assert reference not in outside_scripts.replace("file://", ""), reference
    # the script draws with document.createElementNS's namespace only: the one URL-like string it has
    script = re.findall(r"<script>(.*?)</script>", page, re.S)[0]
    assert re.findall(r"https?://[^\"']+", script) == ["http://www.w3.org/2000/svg"]
    assert "fetch(" not in script and "XMLHttpRequest" not in script and "import(" not in script
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script


def test_the_policy_allows_exactly_the_pages_own_script_and_style():
    page = page_of("x*x", x=3)
    (policy,) = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    (script,) = re.findall(r"<script>(.*?)</script>", page, re.S)
    (style,) = re.findall(r"<style>(.*?)</style>", page, re.S)

    def digest(text):
        return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert policy.startswith("default-src 'none';")
    assert f"script-src '{digest(script)}'" in policy and f"style-src '{digest(style)}'" in policy


def test_hostile_text_cannot_end_the_script_or_become_markup():
    x = Value(3.0, name=HOSTILE)
    y = x * x + x
    y.backward()
    page = html_explain.page(y, HOSTILE, file_name=HOSTILE)
    assert page.count("</script>") == 2  # the data's and the script's own
    assert "<img" not in page and "<!--" not in page
    head = page.split("<style>")[0]
    assert "<title>autodiff explain &lt;/script&gt;&lt;img src=x onerror=&quot;" in head
    data = data_of(page)
    assert data["expression"] == HOSTILE and data["file"] == HOSTILE and data["nodes"][0]["label"] == HOSTILE
    assert data["title"] == "autodiff explain " + HOSTILE


def test_the_embedded_json_escapes_what_html_would_read():
    text = html_explain.embed_json({"a": "</script><!-- & \u2028 >"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028 >"}


def test_a_50_node_graph_is_well_under_200_kb():
    text = " + ".join(f"tanh(w{i}*x + b{i})" for i in range(8))
    expr = parse(text)
    assert 45 <= len(expr.order) <= 55
    bindings = {name: 0.1 * k for k, name in enumerate(expr.variables)}
    expr.gradient(bindings)
    for layout in ("builtin", "auto"):
        size = len(html_explain.page(expr.root, text, layout=layout).encode())
        assert size < 100_000, size


# -- layout -----------------------------------------------------------------------------------


def overlapping(boxes):
    found = []
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        if a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]:
            found.append((i, j))
    return found


def few_hundred_nodes():
    return " + ".join(f"tanh(w{i}*x{i % 7} + b{i}) * sin(x{(i + 3) % 7})" for i in range(40))


@pytest.mark.parametrize("layout", ["builtin", "graphviz"])
def test_no_two_nodes_overlap_in_a_few_hundred(layout):
    if layout == "graphviz" and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    text = few_hundred_nodes()
    expr = parse(text)
    assert len(expr.order) >= 250
    expr.gradient({name: 0.5 for name in expr.variables})
    data = data_of(html_explain.page(expr.root, text, layout=layout))
    drawing = data["drawing"]
    assert drawing["layout"] == ("Graphviz's dot" if layout == "graphviz" else "the built-in layered layout")
    boxes = drawing["boxes"]
    assert len(boxes) == len(expr.order)
    assert overlapping(boxes) == []
    for x, y, w, h in boxes:
        assert 0 <= x and x + w <= drawing["width"] + 0.5 and 0 <= y and y + h <= drawing["height"] + 0.5
    assert len(drawing["edges"]) == sum(len(n["inputs"]) for n in data["nodes"])


@pytest.mark.parametrize("layout", ["builtin", "graphviz"])
def test_inputs_at_the_bottom_output_on_top(layout):
    if layout == "graphviz" and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    data = data_of(page_of("tanh(w*x+b)", layout, x=2, w=-3, b=1))
    boxes = data["drawing"]["boxes"]
    for i, node in enumerate(data["nodes"]):
        for p in node["inputs"]:
            assert boxes[p][1] > boxes[i][1], (node["label"], data["nodes"][p]["label"])  # y grows downwards


def test_without_dot_the_built_in_layout_draws(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    data = x_times_x_plus_x("auto")
    assert data["drawing"]["layout"] == "the built-in layered layout"
    assert data["note"] == ""


def test_beyond_the_drawing_limit_the_page_says_so():
    text = " + ".join(f"x{i}*x{i}" for i in range(html_explain.DRAWING_LIMIT // 3 + 10))
    expr = parse(text)
    assert len(expr.order) > html_explain.DRAWING_LIMIT
    expr.gradient({name: 1.0 for name in expr.variables})
    data = data_of(html_explain.page(expr.root, text))
    assert data["drawing"] is None
    assert f"{len(expr.order):,} nodes, more than the {html_explain.DRAWING_LIMIT}" in data["note"]
    assert len(data["backward"]) == len(explain(expr.root).backward)


# -- the command ------------------------------------------------------------------------------


def test_explain_html_writes_the_page(tmp_path):
    target = tmp_path / "backprop.html"
    result = run("explain", "x*x + x", "x=3", "--html", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    data = data_of(target.read_text(encoding="utf-8"))
    assert data["expression"] == "x*x + x" and data["file"] == "backprop.html"
    assert data["backward"][-1]["sum"] == "7"


def test_dash_o_with_html_is_the_same(tmp_path):
    target = tmp_path / "b.HTM"
    assert run("explain", "x*x + x", "--x", "3", "-o", str(target)).exit_code == 0
    assert data_of(target.read_text(encoding="utf-8"))["value"] == "12.0"


def test_html_to_stdout():
    result = run("explain", "x*x + x", "x=3", "--html", "-")
    assert result.exit_code == 0
    assert data_of(result.stdout)["gradient"] == [["x", "7.0"]]


def test_a_hostile_file_name_is_data(tmp_path):
    name = """<img src=x onerror="window.__pwned=1">'".html"""
    result = run("explain", "x*x", "x=3", "--html", str(tmp_path / name))
    assert result.exit_code == 0, result.output
    page = (tmp_path / name).read_text(encoding="utf-8")
    assert "<img" not in page and data_of(page)["file"] == name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "steps.txt"], "explain writes a web page (.html)"),
        (["--html", "a.html", "-o", "b.html"], "--html and --output both name the page"),
        (["--html", "a.html", "--json"], "--json prints the steps as JSON and --html writes them as a page"),
        (["--html", " "], "needs a file name"),
    ],
)
def test_usage_mistakes(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("explain", "x*x", "x=3", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_math_and_parse_errors_write_nothing(tmp_path):
    target = tmp_path / "p.html"
    result = run("explain", "log(x)", "x=-1", "--html", str(target))
    assert result.exit_code == 1 and result.stderr.startswith("Error:")
    result = run("explain", "x*", "x=1", "--html", str(target))
    assert result.exit_code == 2 and result.stderr.startswith("Error:")
    assert not target.exists()


def test_an_unwritable_place_is_an_error(tmp_path):
    result = run("explain", "x*x", "x=3", "--html", str(tmp_path / "missing" / "p.html"))
    assert result.exit_code == 1 and result.stderr.startswith("Error: cannot write")


def test_explain_help_names_the_page():
    assert "--html FILE" in run("explain", "--help").output


# -- shipped --------------------------------------------------------------------------------


def test_the_wheel_carries_the_pages_script_and_style(tmp_path):
    builder = pytest.importorskip("hatchling.builders.wheel")
    wheel = next(builder.WheelBuilder(str(Path(__file__).parent.parent)).build(
        directory=str(tmp_path), versions=["standard"]))
    names = zipfile.ZipFile(wheel).namelist()
    assert "autodiff_cli/assets/explain.js" in names and "autodiff_cli/assets/explain.css" in names
    assert "autodiff_cli/html_explain.py" in names


def test_the_docs_screenshot_is_a_small_png():
    path = Path(__file__).parent.parent / "docs" / "explain-html.png"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert 600 <= width <= 2000 and 300 <= height <= 2000
    assert 10_000 < len(data) < 250_000


@pytest.mark.parametrize(("script", "what"), [("echo broken >&2; exit 3", "fails"), ("exec sleep 30", "is too slow")])
def test_when_dot_fails_or_is_too_slow_the_built_in_layout_draws(script, what, tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")  # the fake dot first; sleep still found
    monkeypatch.setenv("AUTODIFF_MAX_DRAWING", "1")
    data = x_times_x_plus_x("graphviz")
    assert data["drawing"]["layout"] == "the built-in layered layout", what
    assert data["note"] == "Graphviz's dot could not lay this graph out; the built-in layout drew it."
    assert overlapping(data["drawing"]["boxes"]) == []


def test_a_file_name_that_is_not_utf_8_is_shown_with_a_replacement_character(tmp_path):
    """Linux file names are bytes: Python hands an undecodable one over as a lone surrogate, which UTF-8 cannot
    write; the page shows U+FFFD there, and the file is written under its own name."""
    name = "a\udcff.html"  # the byte 0xff, as Python decodes it from argv
    result = run("explain", "x*x", "x=3", "--html", str(tmp_path / name))
    assert result.exit_code == 0, result.output
    (written,) = tmp_path.iterdir()
    page = written.read_text(encoding="utf-8")
    assert data_of(page)["file"] == "a\ufffd.html"


def test_lone_surrogates_from_a_program_are_replaced_too():
    x = Value(2.0, name="\ud800x")
    page = html_explain.page(x * x, "\ud800")
    assert data_of(page)["nodes"][0]["label"].endswith("x") and "\ud800" not in page
    page.encode("utf-8")
