"""graph --format dot|mermaid|json, --output files and pictures, and the notebook display."""

import inspect
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
from helpers import run

from autodiff_cli import parse
from autodiff_cli.engine import Value, topological_order
from autodiff_cli.export import dot_lines, json_lines, mermaid_lines

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")

NEURON = ["tanh(w*x+b)", "x=2", "w=-3", "b=1"]
HOSTILE = ['a"b', "c\\d", "{e}", "f|g", "<h>", "i j", "#k;", "l&m", "[n]", "θ\nπ", 'o\\"', "-->", "p]q", "((r))"]


def hostile_graph():
    """A graph whose variables carry every character the formats treat specially."""
    leaves = [Value(i + 1.0, name=name) for i, name in enumerate(HOSTILE)]
    out = leaves[0]
    for leaf in leaves[1:]:
        out = (out * leaf).tanh() + leaf
    out.backward()
    return out


# -- DOT ----------------------------------------------------------------------------


def test_dot_has_micrographs_look():
    text = run("graph", *NEURON, "--format", "dot").stdout
    lines = text.splitlines()
    assert lines[0] == "digraph autodiff {" and lines[-1] == "}"
    assert "  graph [rankdir=LR];" in lines
    assert '  n0 [label="{ w | data -3.0000 | grad 3.6317e-04 }"];' in lines
    assert '  n2op [label="*", shape=ellipse, margin=0.02, height=0.3];' in lines
    assert "  n2op -> n2;" in lines  # the operation makes its value
    assert '  n0 -> n2op [label="x"];' in lines and '  n1 -> n2op [label="y"];' in lines  # inputs in order
    assert '  n5 [label="{ #3 | data -0.9999 | grad 1.0000 }"];' in lines


def test_dot_without_bindings_is_structure():
    text = run("graph", "tanh(w*x+b)", "--format", "dot").stdout
    assert '  n0 [label="{ w }"];' in text.splitlines()
    assert "data" not in text


@needs_dot
@pytest.mark.parametrize("which", ["neuron", "shared", "constants", "hostile"])
def test_dot_is_accepted_by_graphviz(which):
    if which == "hostile":
        lines = list(dot_lines(hostile_graph()))
    else:
        text, *bindings = {
            "neuron": NEURON,
            "shared": ["x*x + x*(x+1) - x/2", "x=3"],
            "constants": ["2^x + pi*e - max(x, 1, 2)", "x=0.5"],
        }[which]
        lines = run("graph", text, *bindings, "--format", "dot").stdout.splitlines()
    done = subprocess.run(["dot", "-Tsvg"], input="\n".join(lines), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "<svg" in done.stdout and done.stderr == ""
    if which == "hostile":  # every name reaches the picture intact
        for name in HOSTILE:
            shown = name.replace("\n", "\\n").split("\\n")[0]
            escaped = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            assert escaped in done.stdout or shown in done.stdout, name


def test_dot_escapes_record_syntax():
    lines = list(dot_lines(hostile_graph()))
    labels = [line for line in lines if '[label="{' in line]
    for line in labels:
        body = line.split('[label="', 1)[1].rsplit('"', 1)[0]
        unescaped = re.sub(r"\\.", "", body)
        # outside escapes, only the record's own braces and separators remain
        assert '"' not in unescaped and "\\" not in unescaped
        assert unescaped.count("{") == 1 and unescaped.count("}") == 1
        assert "<" not in unescaped and ">" not in unescaped


def test_writers_are_generators():
    y = hostile_graph()
    for writer in (dot_lines, mermaid_lines, json_lines):
        lines = writer(y)
        assert inspect.isgenerator(lines)
        assert all("\n" not in line for line in lines)


# -- Mermaid --------------------------------------------------------------------------

NODE = re.compile(r'^  (n\d+)\["([^"]*)"\]$')
OP = re.compile(r'^  (n\d+op)\(\("([^"]*)"\)\)$')
EDGE = re.compile(r"^  (n\d+(?:op)?) --> (n\d+(?:op)?)$|^  (n\d+(?:op)?) -->\|[xy]\| (n\d+op)$")


def check_mermaid(lines):
    """Mermaid flowchart rules: a header, quoted labels without raw quotes, edges between declared ids."""
    assert lines[0] == "flowchart LR"
    declared = set()
    for line in lines[1:]:
        node = NODE.match(line) or OP.match(line)
        if node:
            ident, label = node.groups()
            assert ident not in declared
            declared.add(ident)
            assert "<" not in label.replace("<br/>", "") and ">" not in label.replace("<br/>", "")
            assert not re.search(r"#(?!quot;|35;|amp;|lt;|gt;)", label), label  # only entities use #
            continue
        edge = EDGE.match(line)
        assert edge, f"not a node or an edge: {line!r}"
        ends = [g for g in edge.groups() if g]
        assert all(end in declared for end in ends), line  # declared before use
    return declared


def test_mermaid_follows_the_grammar():
    lines = run("graph", *NEURON, "--format", "mermaid").stdout.splitlines()
    declared = check_mermaid(lines)
    assert len(declared) == 6 + 3  # a box per value, a circle per operation
    assert '  n0["w<br/>data -3.0000<br/>grad 3.6317e-04"]' in lines
    assert '  n2op(("*"))' in lines and "  n0 -->|x| n2op" in lines and "  n2op --> n2" in lines
    assert '  n2["#35;1<br/>data -6.0000<br/>grad 1.8158e-04"]' in lines


def test_mermaid_escapes_hostile_names():
    check_mermaid(list(mermaid_lines(hostile_graph())))


# -- JSON -----------------------------------------------------------------------------


def test_json_graph_document():
    doc = json.loads(run("graph", "x*x + y", "x=3", "y=-1", "--format", "json").stdout)
    assert doc["expression"] == "x*x + y"
    assert [n["label"] for n in doc["nodes"]] == ["x", "#1", "y", "#2"]
    assert doc["root"] == 3
    x, sq, y, total = doc["nodes"]
    assert x == {"id": 0, "label": "x", "op": "var", "name": "x", "data": 3.0, "grad": 6.0, "parents": []}
    assert sq["parents"] == [0, 0] and sq["op"] == "mul" and sq["data"] == 9.0
    assert total["grad"] == 1.0 and y["grad"] == 1.0
    assert doc["edges"] == [
        {"from": 0, "to": 1, "arg": 0}, {"from": 0, "to": 1, "arg": 1},
        {"from": 1, "to": 3, "arg": 0}, {"from": 2, "to": 3, "arg": 1},
    ]


def test_json_without_values_and_hostile_names():
    doc = json.loads(run("graph", "2*x", "--format", "json").stdout)
    assert [(n["data"], n["grad"]) for n in doc["nodes"]] == [(None, None)] * 3
    doc = json.loads("\n".join(json_lines(hostile_graph())))
    assert [n["name"] for n in doc["nodes"] if n["op"] == "var"] == HOSTILE
    assert len(doc["edges"]) == sum(len(n["parents"]) for n in doc["nodes"])


def test_json_of_a_leaf():
    doc = json.loads("\n".join(json_lines(Value(1.0, name="x"))))
    assert doc["edges"] == [] and doc["root"] == 0 and len(doc["nodes"]) == 1


# -- unnamed variables ----------------------------------------------------------------


def unnamed_graph():
    """The library's Value(2.0) without a name, a constant 3 and a named y: 2*3 + y."""
    a, y = Value(2.0), Value(-1.0, name="y")
    out = a * Value.constant(3.0) + y
    out.backward()
    return out


def test_unnamed_variables_are_variables_in_the_tree():
    from rich.console import Console

    from autodiff_cli.render import graph_tree

    console = Console(width=80, color_system="truecolor", force_terminal=True)
    with console.capture() as captured:
        console.print(graph_tree(unnamed_graph(), with_values=True))
    text = captured.get()
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert plain.splitlines() == ["add  = 5  grad 1", "├── mul  = 6  grad 1", "│   ├── var#1  = 2  grad 3",
                                  "│   └── 3", "└── y  = -1  grad 1"]
    style = {name: re.search(r"\x1b\[([0-9;]*)m" + re.escape(name), text).group(1) for name in ("var#1", "3", "y")}
    assert style["var#1"] == style["y"] != style["3"]  # drawn as the variable y is, not as the constant


def test_unnamed_variables_are_variables_in_dot_mermaid_and_json():
    out = unnamed_graph()
    dot = list(dot_lines(out))
    assert '  n0 [label="{ var#1 | data 2.0000 | grad 3.0000 }"];' in dot  # solid, with a gradient
    assert '  n1 [label="{ 3 | data 3.0000 }", style=dashed, color="#888888"];' in dot  # the constant
    assert '  n0["var#35;1<br/>data 2.0000<br/>grad 3.0000"]' in list(mermaid_lines(out))
    nodes = json.loads("\n".join(json_lines(out)))["nodes"]
    assert nodes[0] == {"id": 0, "label": "var#1", "op": "var", "name": None, "data": 2.0, "grad": 3.0, "parents": []}
    assert [n["label"] for n in nodes] == ["var#1", "3", "#1", "y", "#2"]


# -- files and pictures --------------------------------------------------------------


@pytest.mark.parametrize(("suffix", "fmt"), [(".dot", "dot"), (".gv", "dot"), (".mmd", "mermaid"), (".json", "json")])
def test_output_file_by_extension(tmp_path, suffix, fmt):
    target = tmp_path / f"graph{suffix}"
    result = run("graph", *NEURON, "--output", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text(encoding="utf-8") == run("graph", *NEURON, "--format", fmt).stdout
    assert os.listdir(tmp_path) == [target.name]  # no temporary file left behind


def test_output_tree_text(tmp_path):
    target = tmp_path / "graph.txt"
    assert run("graph", *NEURON, "-o", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8") == run("graph", *NEURON).stdout


@needs_dot
@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_pictures_are_drawn_by_graphviz(tmp_path, suffix, magic):
    target = tmp_path / f"neuron{suffix}"
    result = run("graph", *NEURON, "--output", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes().startswith(magic)
    assert os.listdir(tmp_path) == [target.name]


def test_missing_graphviz_says_how_to_install_it(tmp_path):
    target = tmp_path / "neuron.svg"
    result = run("graph", *NEURON, "--output", str(target), env={"PATH": str(tmp_path / "nowhere")})
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: writing neuron.svg needs Graphviz's dot program")
    for line in ("sudo apt-get install graphviz", "brew install graphviz", "conda install -c conda-forge graphviz",
                 "winget install graphviz", "--format dot"):
        assert line in result.stderr
    assert os.listdir(tmp_path) == []  # nothing half-written


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for dot")
def test_a_failing_dot_leaves_nothing(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text("#!/bin/sh\nwhile read -r line; do :; done\necho 'Error: something broke' >&2\nexit 3\n")
    fake.chmod(0o755)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = run("graph", *NEURON, "--output", str(out_dir / "g.png"), env={"PATH": str(bin_dir)})
    assert result.exit_code == 1
    assert "Graphviz's dot failed (exit 3): Error: something broke" in result.stderr
    assert os.listdir(out_dir) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "mermaid", "--output", "g.svg"], "a .svg picture is drawn from DOT, not --format mermaid"),
        (["--output", "g.docx"], "g.docx: unknown extension"),
        (["--format", "gif"], "Invalid value for '--format'"),
    ],
)
def test_output_usage_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)  # the relative names land here, if anywhere
    result = run("graph", *NEURON, *args)
    assert result.exit_code == 2 and message in result.stderr
    assert not os.path.exists("g.svg") and not os.path.exists("g.docx")


def test_unwritable_output_is_an_error(tmp_path):
    result = run("graph", *NEURON, "--output", str(tmp_path / "missing" / "g.dot"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot write") and "Traceback" not in result.stderr


def test_format_given_with_an_unknown_extension_writes_that_format(tmp_path):
    target = tmp_path / "graph.txt2"
    assert run("graph", *NEURON, "--format", "json", "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["root"] == 5


# -- notebooks ------------------------------------------------------------------------


@needs_dot
def test_notebook_shows_the_svg():
    import autodiff_cli.render  # noqa: F401  (the drawing side attaches the notebook views to Value)

    y = parse("tanh(w*x+b)")
    y.gradient({"x": 2, "w": -3, "b": 1})
    svg = y.root._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert y.root._repr_html_() is None  # the picture is shown, not the text


def test_notebook_falls_back_to_text_without_graphviz(monkeypatch):
    import autodiff_cli.render  # noqa: F401  (the drawing side attaches the notebook views to Value)

    monkeypatch.setenv("PATH", "")
    x = Value(2.0, name="<b>x</b>")
    y = (x * x).tanh()
    y.backward()
    assert y._repr_svg_() is None
    page = y._repr_html_()
    assert page.startswith("<pre>tanh") and "&lt;b&gt;x&lt;/b&gt;" in page and "<b>" not in page


def test_notebooks_get_the_views_from_import_autodiff_cli():
    # IPython running: `import autodiff_cli` attaches the drawing side, so a Value shows as its graph
    code = ("import sys, types; sys.modules['IPython'] = types.ModuleType('IPython'); import autodiff_cli; "
            "assert callable(autodiff_cli.Value._repr_html_)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_engine_does_not_import_the_renderer():
    code = "import sys, autodiff_cli.engine; assert not {'autodiff_cli.render', 'rich'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_deep_graph_is_written_without_recursion():
    y = Value(0.5, name="x")
    for _ in range(5000):
        y = (y * 0.5).tanh()
    order = topological_order(y)
    # five fixed lines; a line per value; per operation its node, its output edge and an edge per input
    expected = 5 + len(order) + sum(2 + len(n.parents) for n in order if n.parents)
    assert len(list(dot_lines(y))) == expected
    assert len(json.loads("\n".join(json_lines(y)))["nodes"]) == len(order)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_written_files_get_the_usual_permissions(tmp_path):
    target = tmp_path / "graph.dot"
    assert run("graph", "x", "x=1", "-o", str(target)).exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for dot")
def test_a_dot_that_stops_reading_is_reported(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 1\n")  # reads nothing
    fake.chmod(0o755)
    big = "+".join(f"x*{i}" for i in range(3000))  # far more DOT than a pipe holds
    target = tmp_path / "g.svg"
    env = {"PATH": str(bin_dir), "AUTODIFF_MAX_PICTURE": "100000"}  # a picture over the limit, for this test
    result = run("graph", big, "x=1", "--output", str(target), env=env)
    assert result.exit_code == 1
    assert "Graphviz's dot failed (exit 1): Error: syntax error in line 1" in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["bin"]


# -- symbolic links, streams and stdout ------------------------------------------------


def autodiff(*args, **kwargs):
    """The real program in its own process (for /dev/stdout and signals, which CliRunner cannot show)."""
    return subprocess.Popen([sys.executable, "-m", "autodiff_cli", *args], **kwargs)


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_output_writes_through_a_symbolic_link(tmp_path):
    target = tmp_path / "target.dot"
    target.write_text("old\n")
    link = tmp_path / "link.dot"
    link.symlink_to("target.dot")
    assert run("graph", *NEURON, "--output", str(link)).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == "target.dot"  # the link stays a link
    assert target.read_text(encoding="utf-8") == run("graph", *NEURON, "--format", "dot").stdout
    assert sorted(os.listdir(tmp_path)) == ["link.dot", "target.dot"]  # no temporary file left


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_output_through_a_dangling_link_creates_its_target(tmp_path):
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "sub" / "new.json")
    assert run("graph", *NEURON, "-o", str(link)).exit_code == 0
    assert link.is_symlink() and json.loads((tmp_path / "sub" / "new.json").read_text())["root"] == 5
    assert os.listdir(tmp_path / "sub") == ["new.json"]


@needs_dot
@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_a_picture_writes_through_a_symbolic_link(tmp_path):
    target = tmp_path / "real.svg"
    target.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    assert run("graph", *NEURON, "--output", str(link)).exit_code == 0
    assert link.is_symlink() and target.read_bytes().startswith(b"<?xml")
    assert sorted(os.listdir(tmp_path)) == ["link.svg", "real.svg"]


@pytest.mark.parametrize("fmt", ["tree", "dot", "mermaid", "json"])
def test_output_dash_is_stdout(tmp_path, monkeypatch, fmt):
    monkeypatch.chdir(tmp_path)
    result = run("graph", *NEURON, "--format", fmt, "--output", "-")
    assert result.exit_code == 0 and result.stdout == run("graph", *NEURON, "--format", fmt).stdout
    assert os.listdir(tmp_path) == []  # no file named -


def test_output_dash_without_format_is_the_tree():
    assert run("graph", *NEURON, "-o", "-").stdout == run("graph", *NEURON).stdout


@needs_dot
@pytest.mark.parametrize(("fmt", "magic"), [("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_a_picture_to_stdout(fmt, magic):
    for extra in ([], ["--output", "-"]):
        result = run("graph", *NEURON, "--format", fmt, *extra)
        assert result.exit_code == 0 and result.stdout_bytes.startswith(magic)


def test_a_picture_to_stdout_without_graphviz_says_how_to_install_it(tmp_path):
    result = run("graph", *NEURON, "--format", "svg", env={"PATH": str(tmp_path / "nowhere")})
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: writing the SVG picture to stdout needs Graphviz's dot program")
    assert "sudo apt-get install graphviz" in result.stderr


def test_a_binary_picture_is_not_sent_to_a_terminal(monkeypatch):
    monkeypatch.setattr("autodiff_cli.cli.views.is_terminal", lambda: True)
    result = run("graph", *NEURON, "--format", "png")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: a png picture is binary: write it to a file (--output graph.png)")


@pytest.mark.skipif(not os.path.exists("/proc/self/fd/1"), reason="no /proc/self/fd")
def test_output_to_a_descriptor_writes_to_the_pipe_or_appends_to_the_file(tmp_path):
    # a link of our own to /proc/self/fd/1 stands in for /dev/stdout (which is one): replacing
    # the system's /dev/stdout is exactly the bug, and a test run before the fix must not do it
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    expected = run("graph", *NEURON, "--format", "dot").stdout.encode()
    proc = autodiff("graph", *NEURON, "--format", "dot", "--output", str(stdout), stdout=subprocess.PIPE)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out == expected
    log = tmp_path / "log.txt"
    log.write_text("kept\n")
    with open(log, "ab") as shell_redirect:  # autodiff ... --output /dev/stdout >> log.txt
        proc = autodiff("graph", *NEURON, "--output", str(stdout), stdout=shell_redirect)
        assert proc.wait(timeout=60) == 0
    tree = run("graph", *NEURON).stdout  # no extension: the tree, as on stdout
    assert log.read_text(encoding="utf-8") == "kept\n" + tree
    assert stdout.is_symlink() and sorted(os.listdir(tmp_path)) == ["log.txt", "stdout"]


@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="no /dev/stdout")
def test_dev_stdout_is_a_stream():
    from autodiff_cli.export import is_stream

    assert is_stream("/dev/stdout") and is_stream("/dev/fd/1")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_output_to_a_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "graph.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")), daemon=True)
    reader.start()
    result = run("graph", *NEURON, "--format", "mermaid", "--output", str(fifo))
    reader.join(timeout=60)
    assert result.exit_code == 0, result.stderr
    assert received == [run("graph", *NEURON, "--format", "mermaid").stdout]
    assert os.listdir(tmp_path) == ["graph.fifo"]


def test_output_to_a_folder_is_an_error(tmp_path):
    result = run("graph", *NEURON, "--format", "dot", "--output", str(tmp_path))
    assert result.exit_code == 2 and result.stderr.startswith("Error: Invalid value for '--output'")


# -- signals ------------------------------------------------------------------------------


def slow_dot(tmp_path):
    """A dot that never finishes, writing its pid first: (its folder, the pid file, an empty output folder)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pid_file = tmp_path / "dot.pid"
    fake = bin_dir / "dot"
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 300\n")
    fake.chmod(0o755)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    return bin_dir, pid_file, out_dir


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals; a shell script stands in for dot")
@pytest.mark.parametrize(("sig", "code", "message"), [
    (signal.SIGTERM, 143, "Error: terminated"), (signal.SIGINT, 130, "Error: interrupted"),
])
def test_a_signal_during_a_slow_dot_leaves_nothing_and_stops_dot(tmp_path, sig, code, message):
    bin_dir, pid_file, out_dir = slow_dot(tmp_path)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = autodiff("graph", *NEURON, "--output", str(out_dir / "big.svg"), env=env,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(3000):  # until dot runs (its pid written) and the temporary file exists
        if pid_file.exists() and pid_file.read_text().strip() and os.listdir(out_dir):
            break
        time.sleep(0.01)
    assert os.listdir(out_dir)[0].startswith(".big.svg.")  # the temporary file, while dot runs
    dot_pid = int(pid_file.read_text())
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert err.decode().strip() == message and out == b""
    assert os.listdir(out_dir) == []  # the temporary file is gone
    try:
        os.kill(dot_pid, 0)
        alive = open(f"/proc/{dot_pid}/status").read()[:300]
    except ProcessLookupError:
        alive = None
    assert alive is None, alive


def test_a_dot_slower_than_the_drawing_limit_is_stopped_and_leaves_nothing(tmp_path):
    # found by review: a star of 66 products (198 nodes, under the picture limit) kept dot busy for minutes
    bin_dir, pid_file, out_dir = slow_dot(tmp_path)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "AUTODIFF_MAX_DRAWING": "1"}
    result = run("graph", *NEURON, "--output", str(out_dir / "g.svg"), env=env)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Graphviz's dot took more than 1 second to draw the picture; "
                                    "the limit is 1 second (set AUTODIFF_MAX_DRAWING to raise it)")
    assert os.listdir(out_dir) == []
    dot_pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # stopped, and reaped
        os.kill(dot_pid, 0)
