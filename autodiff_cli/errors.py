"""The project's exceptions: each knows the exit code the command line gives it."""

from __future__ import annotations

from unicodedata import combining


def listing(names: list[str], limit: int = 5) -> str:
    """Names for a message, at most `limit` of them: 'a, b, c, d, e and 995 more'."""
    shown = [shortened(n) for n in names[:limit]]  # a name of a million characters is not quoted whole
    if len(names) <= limit:
        return ", ".join(shown)
    return f"{', '.join(shown)} and {len(names) - limit:,} more"


def json_value_problem(exc: ValueError) -> str:
    """Plain words for a ValueError of json.loads that is not a syntax error: an integer too long to read.

    Python refuses to turn more than 4,300 digits into an int (sys.set_int_max_str_digits);
    its message would send the user to that setting, but no double has so many digits anyway.
    """
    text = str(exc)
    if "integer string conversion" in text:
        digits = text.split("value has ", 1)[1].split(" ", 1)[0] if "value has " in text else ""
        count = f"{int(digits):,} digits" if digits.isdigit() else "thousands of digits"
        return f"a number with {count}, too long to be a double"
    return text


def shortened(text: str, limit: int = 40, unit: str = "characters") -> str:
    """Text quoted in a message, cut in the middle past `limit` characters: '123456...7890 (400 digits)'."""
    if len(text) <= limit:
        return text
    half = (limit - 3) // 2
    return f"{text[:half]}...{text[-half:]} ({len(text):,} {unit})"


def visible(text: str) -> str:
    """Text for a terminal: a control or format character (an escape sequence, a bell, a bidi override, a
    newline) written as its escape, so that a message quoting the user's input (a file name with a newline
    in it) can neither drive the terminal nor forge a line of output."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class AutodiffError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail  # the project's own further lines (never user text): printed as they are

    def to_json(self) -> dict:
        """The error as the `{"error": {...}}` body of --json output."""
        message = f"{self.message}\n{self.detail}" if self.detail else self.message
        return {"message": message, "type": type(self).__name__}


class UsageError(AutodiffError):
    """The user asked for something that cannot be done as asked (exit 2)."""

    exit_code = 2


class Located:
    """An error that knows where in the expression it happened: text, line and column, and a caret."""

    text: str
    column: int | None
    line: int

    def caret(self) -> str:
        """The expression's line with a caret under the failing column."""
        lines = self.text.split("\n")
        if self.column is None or not self.text or not 1 <= self.line <= len(lines):
            return ""
        # a control or format character (escape sequences, bidi overrides) is shown as '?', one column
        # wide like a space, so that neither the terminal nor the caret's position is disturbed
        line = "".join(c if c.isprintable() and not combining(c) else " " if c == "\t" else "?"
                       for c in lines[self.line - 1])
        offset = self.column - 1
        if len(line) > 76:  # keep the caret on screen: show a window around it
            lo = max(0, offset - 38)
            line, offset = line[lo : lo + 76], offset - lo
        return f"  {line}\n  {' ' * offset}^"

    def located(self, body: dict) -> dict:
        if self.column is not None:
            body["line"], body["column"] = self.line, self.column
        return body


class ParseError(Located, UsageError):
    """The expression is not valid syntax; knows where it went wrong."""

    def __init__(self, message: str, text: str = "", column: int | None = None, line: int = 1) -> None:
        super().__init__(message)
        self.text = text
        self.column = column  # 1-based, like lark's
        self.line = line

    def to_json(self) -> dict:
        return self.located(super().to_json())


class BindingError(UsageError):
    """A variable has no value, a value is not a finite number, or a name is not bindable."""


class LimitError(UsageError):
    """A request past one of the documented limits (exit 2); the message names the limit."""


class MathError(AutodiffError, ArithmeticError):
    """Evaluation failed: a domain error, division by zero, overflow, or a missing derivative."""

    exit_code = 1

    def __init__(self, op: str, message: str) -> None:
        super().__init__(message)
        self.op = op

    def to_json(self) -> dict:
        body = super().to_json()
        body["op"] = self.op
        return body


class ShapeError(Located, MathError):
    """A tensor expression's shapes do not fit together (exit 1: they depend on the values bound); knows
    where in the expression, for the caret under the operator or function: '@ needs 2 == 3'."""

    def __init__(self, op: str, message: str, text: str = "", column: int | None = None, line: int = 1) -> None:
        super().__init__(op, message)
        self.text = text
        self.column = column  # 1-based, like ParseError's
        self.line = line

    def to_json(self) -> dict:
        return self.located(super().to_json())


class DataError(UsageError):
    """A data or model file cannot be used: it names the file, and the row and column where it can."""


class OutputError(AutodiffError):
    """The result could not be written: a file cannot be created, or an outside program (dot) failed (exit 1)."""

    exit_code = 1
