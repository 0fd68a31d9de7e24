"""explain --html in a real browser: headless Chromium (Debian's package) driven by Playwright.

Skipped, saying why, where Playwright's Python package or a Chromium cannot be had; nothing
is downloaded.  The page is loaded from file://, every request it makes is recorded (and
anything but the page itself refused), and every console message and page error is kept:
each test ends by asserting there were none.

Screenshots are saved as artefacts in $AUTODIFF_ARTEFACTS (a temporary folder when unset);
AUTODIFF_DOCS_SCREENSHOT=1 also writes docs/explain-html.png, the picture docs/html.md shows.
"""

import os
import shutil
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from autodiff_cli import html_explain
from autodiff_cli.cli import cli
from autodiff_cli.engine import Value

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
HOSTILE = """</script><img src=x onerror="window.__pwned=1">'"&amp;<!--"""
VIEWPORT = {"width": 1280, "height": 800}


def chromium() -> str | None:
    for name in (os.environ.get("AUTODIFF_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def playwright():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright's Python package is not installed: pip install -e '.[test]'"
    )
    manager = sync_api.sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture
def browser(playwright, tmp_path_factory, request):
    """A fresh Chromium profile per test (its own --user-data-dir), light or dark as the test asks."""
    path = chromium()
    if path is None:
        pytest.skip("no Chromium on PATH: install Debian's chromium package (apt-get install chromium)")
    scheme = getattr(request, "param", "light")
    try:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")), executable_path=path, headless=True, args=FLAGS,
            viewport=VIEWPORT, color_scheme=scheme,
        )
    except Exception as error:  # no display libraries, a broken install, ...: say why
        pytest.skip(f"Chromium at {path} would not start: {str(error).splitlines()[0]}")
    yield context
    context.close()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory):
    folder = os.environ.get("AUTODIFF_ARTEFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("artefacts")


class Opened:
    """A page loaded from file://, with everything it asked for and everything it complained about."""

    def __init__(self, context, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.page = context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.route("**/*", lambda route: route.continue_() if route.request.url == self.url else route.abort())
        self.page.goto(self.url)

    def text(self, selector: str) -> str:
        return self.page.locator(selector).inner_text()

    @staticmethod
    def lines(node) -> list[str]:
        """The lines of a drawn node (an SVG group: no innerText)."""
        return node.evaluate("g => [...g.querySelectorAll('text')].map(t => t.textContent)")

    def clean(self) -> None:
        """Nothing left the page and nothing went wrong."""
        assert self.requests == [self.url]
        assert self.problems == []


def write_page(tmp_path, *args, name="page.html"):
    target = tmp_path / name
    result = CliRunner().invoke(cli, ["explain", *args, "--html", str(target)])
    assert result.exit_code == 0, result.output
    return target


def assert_screenshot(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (VIEWPORT["width"], VIEWPORT["height"])
    assert 8_000 < len(data) < 3_000_000, len(data)  # an empty white page is about 4 KB


@pytest.mark.parametrize("dot", ["as installed", "missing"])
def test_stepping_through_x_times_x_plus_x(browser, tmp_path, artefacts, dot, monkeypatch):
    """x*x + x at 3, read off the page: forward 3, 9, 12; backward 4 edges; x gathers 1, 3, 3 into 7.
    With Graphviz's layout where dot is installed, and with the built-in one where it is missing."""
    if dot == "missing":
        monkeypatch.setenv("PATH", str(tmp_path))
    opened = Opened(browser, write_page(tmp_path, "x*x + x", "x=3"))
    if dot == "missing":
        assert "built-in layered layout" in opened.text("footer")
        artefacts = artefacts / "built-in"
        artefacts.mkdir(exist_ok=True)
    page = opened.page
    assert opened.text("#position") == "Step 0 of 8"
    values = []
    for _ in range(3):
        page.click("#next")
        values.append(opened.text('#step-body [data-field="value"]'))
    assert values == ["3", "9", "12"]
    page.keyboard.press("ArrowRight")
    assert opened.text("#step-title") == "Backward pass starts at the output #2"
    assert opened.text('[data-field="seed"]') == "∂#2/∂#2 = 1"
    into_x = []
    for k in range(1, 5):
        page.keyboard.press("ArrowRight")
        title = opened.text("#step-title")
        assert title.startswith(f"Backward edge {k} of 4: ")
        assert page.locator(".edge.active").count() == 1
        if title.endswith("→ x"):
            into_x.append((opened.text('[data-field="local"]'), opened.text('[data-field="upstream"]'),
                           opened.text('[data-field="product"]'), opened.text('[data-field="sum"]'),
                           opened.text('[data-field="part"]')))
            assert opened.lines(page.locator(".node.receiving"))[0].startswith("x")
        if k == 3:
            page.screenshot(path=str(artefacts / "x-times-x-plus-x-edge-3.png"))
            if os.environ.get("AUTODIFF_DOCS_SCREENSHOT") == "1" and dot != "missing":
                shutil.copyfile(artefacts / "x-times-x-plus-x-edge-3.png", ROOT / "docs" / "explain-html.png")
    assert into_x == [
        ("1", "1", "1", "1", " (1 of 3)"),
        ("3", "1", "3", "4", " (2 of 3)"),
        ("3", "1", "3", "7", " (3 of 3)"),
    ]
    assert opened.text("#position") == "Step 8 of 8"
    assert page.locator("#next").is_disabled()
    x_box = opened.lines(page.locator(".node", has_text="var"))
    assert x_box == ["x  var", "value 3", "grad 7"]
    page.screenshot(path=str(artefacts / "x-times-x-plus-x-last.png"))
    for name in ("x-times-x-plus-x-edge-3.png", "x-times-x-plus-x-last.png"):
        assert_screenshot(artefacts / name)
    assert (artefacts / "x-times-x-plus-x-edge-3.png").read_bytes() != (artefacts / "x-times-x-plus-x-last.png"
                                                                         ).read_bytes()
    opened.clean()


def test_back_start_end_and_play(browser, tmp_path):
    opened = Opened(browser, write_page(tmp_path, "x*x + x", "x=3"))
    page = opened.page
    page.keyboard.press("End")
    assert opened.text("#position") == "Step 8 of 8"
    page.keyboard.press("ArrowLeft")
    assert opened.text("#step-title") == "Backward edge 3 of 4: #1 → x"
    assert opened.text('[data-field="sum"]') == "4"
    page.click("#first")
    assert opened.text("#position") == "Step 0 of 8"
    assert page.locator(".node.pending").count() == 3
    page.keyboard.press(" ")
    assert "pause" in opened.text("#play")
    for _ in range(100):  # the page's policy forbids the eval that wait_for_function needs
        if opened.text("#position") == "Step 2 of 8":
            break
        page.wait_for_timeout(100)
    assert opened.text("#position") == "Step 2 of 8"
    page.keyboard.press(" ")
    assert "play" in opened.text("#play")
    stopped = opened.text("#position")
    page.wait_for_timeout(1_500)
    assert opened.text("#position") == stopped
    opened.clean()


def test_the_inspector_of_a_leaf_and_of_an_operation(browser, tmp_path):
    opened = Opened(browser, write_page(tmp_path, "x*x + x", "x=3"))
    page = opened.page
    page.locator(".node", has_text="var").click()
    assert opened.text("#inspector-title") == "Node x"
    assert opened.text('#inspector [data-field="value"]') == "3.0"
    assert opened.text('#inspector [data-field="grad"]') == "7.0"
    assert opened.text('#inspector [data-field="inputs"]') == "none"
    assert page.locator('#inspector [data-field="consumers"] button').all_inner_texts() == ["#1", "#2"]
    assert [t.strip() for t in page.locator('#inspector [data-field="received"]').all_inner_texts()] == [
        "1 × 1 = 1 (1 of 3, sum 1)", "1 × 3 = 3 (2 of 3, sum 4)", "1 × 3 = 3 (3 of 3, sum 7)"]
    assert float(opened.text('#inspector [data-field="numeric"]')) == pytest.approx(7.0, rel=1e-6)
    assert opened.text('#inspector [data-field="verdict"]') == "agree"
    page.locator('#inspector [data-field="consumers"] button', has_text="#1").click()
    assert opened.text("#inspector-title") == "Node #1"
    assert opened.text('#inspector [data-field="formula"]') == "#1 = x * x"
    assert opened.text('#inspector [data-field="op"]') == "mul"
    assert page.locator('#inspector [data-field="rules"]').all_inner_texts() == [
        "∂(x * x)/∂x (as x) = x = 3", "∂(x * x)/∂x (as y) = x = 3"]
    opened.clean()


def test_keyboard_alone(browser, tmp_path):
    """Tab reaches the buttons and the nodes; Enter on a node opens its inspector; arrows step."""
    opened = Opened(browser, write_page(tmp_path, "tanh(w*x+b)", "x=2", "w=-3", "b=1"))
    page = opened.page
    focused = "document.activeElement.id || document.activeElement.getAttribute('aria-label')"
    reached = []
    for _ in range(12):  # six nodes, three buttons (back and start are off at the start), and what the browser adds
        page.keyboard.press("Tab")
        reached.append(page.evaluate(focused))
    assert set(reached) >= {"play", "next", "last", "w (a variable)", "x (a variable)",
                            "b (a variable)", "#1 = w * x", "#2 = #1 + b", "#3 = tanh(#2)"}
    while page.evaluate(focused) != "w (a variable)":
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    assert opened.text("#inspector-title") == "Node w"
    page.keyboard.press("ArrowRight")
    assert opened.text("#position").startswith("Step 1 of ")
    opened.clean()


@pytest.mark.parametrize("browser", ["dark"], indirect=True)
def test_dark_mode_follows_the_system(browser, tmp_path):
    opened = Opened(browser, write_page(tmp_path, "x*x + x", "x=3"))
    background = opened.page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(v) for v in background[4:-1].split(","))
    assert max(red, green, blue) < 60
    opened.clean()


def test_hostile_text_shows_as_text_and_runs_nothing(browser, tmp_path, artefacts):
    """</script>, <img onerror=...> and quotes in the expression (the title), a variable's name (the labels)
    and the file name reach the page as text."""
    x = Value(3.0, name=HOSTILE)
    y = x * x + x
    y.backward()
    target = tmp_path / """<img src=x onerror="window.__pwned=1">'".html"""
    html_explain.write(target, html_explain.page(y, HOSTILE, file_name=target.name))
    opened = Opened(browser, target)
    page = opened.page
    assert page.title() == "autodiff explain " + HOSTILE
    assert opened.text("h1") == "autodiff explain " + HOSTILE
    assert target.name in opened.text("footer")
    page.keyboard.press("End")
    assert opened.text("#step-title").endswith("→ " + HOSTILE)
    node = page.locator(".node").first
    assert opened.lines(node)[0] == HOSTILE[:23] + "…  var"
    node.click()
    assert opened.text("#inspector-title") == "Node " + HOSTILE
    assert page.locator("img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.locator("script").count() == 2
    page.screenshot(path=str(artefacts / "hostile-names.png"))
    opened.clean()


def test_past_the_drawing_limit_the_page_says_so_and_still_steps(browser, tmp_path):
    n = html_explain.DRAWING_LIMIT // 3 + 10
    text = " + ".join(f"x{i}*x{i}" for i in range(n))
    opened = Opened(browser, write_page(tmp_path, text, *(f"x{i}=1" for i in range(n))))
    page = opened.page
    assert page.locator("svg").count() == 0
    assert f"more than the {html_explain.DRAWING_LIMIT:,} this page draws" in opened.text("#graph-note")
    page.keyboard.press("End")
    assert opened.text('[data-field="sum"]') == "2"
    last = opened.text("#step-title").rsplit("→ ", 1)[1]  # the last edge goes into one of the x's
    assert last in {f"x{i}" for i in range(n)}
    page.locator('#step [data-field="inspect"] button').get_by_text(last, exact=True).click()
    assert opened.text("#inspector-title") == f"Node {last}"
    assert opened.text('#inspector [data-field="grad"]') == "2.0"  # d(x*x)/dx at 1
    opened.clean()
