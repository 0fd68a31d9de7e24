"""Neural networks from the terminal: train and predict."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import click

from .. import charts
from ..data import prepare, read_table
from ..errors import DataError, OutputError, visible
from ..modelfile import load_model, to_json
from ..trained import Trained, predict_table
from ..training import DEFAULT_BATCH, FULL_BATCH_ROWS, Epoch, Settings, Trainer, parse_hidden
from .common import console, handles_errors, is_terminal, json_option, print_json
from .group import Command

COLOURS = ("blue", "red", "green", "magenta", "yellow", "cyan", "white", "bright_black")


def read_file(path: str) -> str:
    """A file's text ('-' is stdin), with the project's errors; never more than the file limit is read."""
    from .. import limits

    limit = limits.get("file")
    where = "stdin" if path == "-" else path
    if path == "-":
        stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
        data = limits.read_bounded(stream.read, limit + 1) if stream is not None else sys.stdin.read(limit + 1).encode()
    else:
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if stat.S_ISREG(os.fstat(f.fileno()).st_mode) and size > limit:  # refused before reading
                    raise limits.error("file", f"{path} is {size:,} bytes", limit)
                data = limits.read_bounded(f.read, limit + 1)
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeEncodeError:  # a lone surrogate from a Python caller: no file can have that name
            raise DataError(f"cannot read {path}: not a file name this system can encode") from None
    if len(data) > limit:
        raise limits.error("file", f"{where} holds more than {limit:,} bytes", limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{where} is not UTF-8 text (byte {exc.start + 1})") from None


def metrics_text(epoch: Epoch, task: str) -> str:
    def metric(value: float) -> str:
        return f"{value:.1%}" if task == "classification" else f"{value:.4g}"

    name = "accuracy" if task == "classification" else "rmse"
    text = f"loss {epoch.loss:.4g}  {name} {metric(epoch.metric)}"
    if epoch.val_loss is not None and epoch.val_metric is not None:
        text += f"  val_loss {epoch.val_loss:.4g}  val_{name} {metric(epoch.val_metric)}"
    return text


def steady(value: float, task: str, metric: bool = False) -> str:
    """A figure at a constant width, so that the progress line does not jitter: 4 significant digits."""
    if metric and task == "classification":
        return f"{value:>6.1%}"
    return f"{value:>#9.4g}"  # '#' keeps trailing zeros: 0.3100, not 0.31


def progress_text(epoch: Epoch, task: str) -> str:
    """metrics_text at a steady width, for the live progress line."""
    name = "accuracy" if task == "classification" else "rmse"
    text = f"loss {steady(epoch.loss, task)}  {name} {steady(epoch.metric, task, metric=True)}"
    if epoch.val_loss is not None and epoch.val_metric is not None:
        text += f"  val_loss {steady(epoch.val_loss, task)}  val_{name} {steady(epoch.val_metric, task, True)}"
    return text


def progress_bar(out: Any, total: int, figures: int) -> Any:
    """The live progress line: epoch k/N, a bar, the figures, the time taken and the time left (ETA).

    figures: the width of progress_text.  On a narrow terminal the bar goes first, then the times: the
    figures are never cut (they wrap between words if even they do not fit).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Column

    counter = len("epoch ") + 2 * len(str(total)) + 1
    times = len(" 0:00:00 ETA 0:00:00")
    columns: list[Any] = [TextColumn("epoch"), MofNCompleteColumn()]
    room = out.width - counter - 1 - figures
    if room >= times + 12:
        columns.append(BarColumn(bar_width=room - times - 2))
    columns.append(TextColumn("{task.fields[metrics]}", table_column=Column(overflow="fold")))
    if room >= times:
        columns += [TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    return Progress(*columns, console=out)


def _progress(trainer: Trainer, quiet: bool) -> None:
    """Run the training: a live bar on a terminal's stderr, a line per tenth of the epochs otherwise."""
    task, total = trainer.data.task, trainer.settings.epochs
    if quiet:
        for _ in trainer.run():
            pass
        return
    if not sys.stderr.isatty():
        every = max(1, total // 10)
        width = len(str(total))
        for epoch in trainer.run():
            if epoch.epoch % every == 0 or epoch.epoch in (1, total):
                click.echo(f"epoch {epoch.epoch:>{width}}/{total}  {metrics_text(epoch, task)}", err=True)
        return
    sample = Epoch(total, 0.0, 0.0, *((0.0, 0.0) if trainer.val_rows else ()))
    with progress_bar(console(stderr=True), total, len(progress_text(sample, task))) as progress:
        bar = progress.add_task("train", total=total, metrics="")
        for epoch in trainer.run():
            progress.update(bar, advance=1, metrics=progress_text(epoch, task))


def inputs_text(names: list[str], most: int = 8) -> str:
    """The input columns by name; past `most`, their number with the first few and the last."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{len(names)} inputs ({', '.join(names[:3])}, ..., {names[-1]})"


def summary_lines(trainer: Trainer) -> list[str]:
    data, s = trainer.data, trainer.settings
    if data.task == "classification":
        what = f"classification of {data.target} ({len(data.labels)} classes: {', '.join(data.labels)})"
    else:
        what = f"regression of {data.target}"
    batch = f"batches of {trainer.batch_size}" if trainer.batch_size < len(trainer.train_rows) else "full batch"
    optimizer = f"{s.optimizer}, lr {s.learning_rate:g}" + (f", momentum {s.momentum:g}" if s.momentum else "")
    if s.weight_decay:
        optimizer += f", weight decay {s.weight_decay:g}"
    rows = f"{len(trainer.train_rows)} training rows"
    if trainer.val_rows:
        rows += f", {len(trainer.val_rows)} validation rows"
    last = trainer.history[-1]
    activation = s.activation if len(trainer.sizes) > 2 else "linear"  # no hidden layer: nothing to activate
    return [
        f"{what} from {inputs_text(data.inputs)}",
        f"model {'-'.join(map(str, trainer.sizes))} ({activation}), {trainer.parameter_count} parameters; "
        f"{optimizer}; {s.epochs} epochs, {batch}, seed {s.seed}; {rows}",
        f"epoch {last.epoch}: {metrics_text(last, data.task)}",
    ]


def boundary_for(trainer: Trainer, trained: Trained, width: int, height: int) -> charts.Boundary | None:
    data = trainer.data
    if data.task != "classification" or len(data.inputs) != 2:
        return None
    sc = data.scaling
    raw = [(x[0] * sc.std[0] + sc.mean[0], x[1] * sc.std[1] + sc.mean[1]) for x in data.X]

    def predict(points: list[tuple[float, float]]) -> list[int]:
        found = trained.predict_many(points)
        return [max(range(len(probs)), key=probs.__getitem__) for _, probs in found]

    classes = [int(v) for v in data.y]
    return charts.decision_boundary(predict, raw, classes, data.labels, (data.inputs[0], data.inputs[1]),
                                    width, height)


def _draw_rich(out: Any, lines: list[str], curve: str, boundary: charts.Boundary | None) -> None:
    from rich.text import Text

    out.print(Text(lines[0], style="bold"))
    for line in lines[1:]:
        out.print(Text(line))
    out.print()
    out.print(Text(curve, style="cyan"))
    if boundary is not None:
        out.print()
        text = Text(charts.boundary_title(boundary) + "\n")
        for margin, row in zip(charts.boundary_margins(boundary), charts.boundary_cells(boundary), strict=True):
            text.append(f"{margin} │")
            for ch, k, is_point in row:
                colour = COLOURS[k % len(COLOURS)]
                text.append(ch, style=f"bold {colour}" if is_point else f"dim {colour}")
            text.append("\n")
        text.append("\n".join(charts.boundary_footer(boundary)))
        out.print(text)


@click.command("train", cls=Command)
@click.argument("data", metavar="DATA.csv")
@click.option("--target", "-t", required=True, metavar="COLUMN", help="The column to predict.")
@click.option("--inputs", metavar="NAMES", help="Input columns, comma-separated [default: every other column].")
@click.option("--task", type=click.Choice(["auto", "regression", "classification"]), default="auto",
              show_default=True, help="auto: numbers are regression, labels are classification.")
@click.option("--hidden", default="16,16", show_default=True, metavar="SIZES",
              help="Hidden layer sizes ('none': a linear model).")
@click.option("--activation", type=click.Choice(["tanh", "relu", "sigmoid"]), default="tanh", show_default=True,
              help="Activation of the hidden layers (the output layer is linear).")
@click.option("--epochs", default=100, show_default=True, type=click.IntRange(1), help="Passes over the data.")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default="adam", show_default=True)
@click.option("--lr", type=click.FloatRange(0, min_open=True), help="Learning rate [default: 0.01 adam, 0.1 sgd].")
@click.option("--momentum", default=0.0, show_default=True, type=click.FloatRange(0), help="SGD momentum.")
@click.option("--weight-decay", default=0.0, show_default=True, type=click.FloatRange(0), help="L2 penalty.")
@click.option("--batch-size", type=click.IntRange(1),
              help=f"Rows per update [default: all of them up to {FULL_BATCH_ROWS:,} rows, else {DEFAULT_BATCH}].")
@click.option("--val-split", default=0.0, show_default=True, type=click.FloatRange(0, 1, max_open=True),
              help="Fraction of rows held out for validation.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the weights, split and batches.")
@click.option("--backend", type=click.Choice(["numpy", "python"], case_sensitive=False), envvar="AUTODIFF_BACKEND",
              help="Tensor backend [default: numpy if installed, else python; or AUTODIFF_BACKEND].")
@click.option("--save", "save", metavar="MODEL.json", help="Write the trained model here.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@json_option
@handles_errors
def train_command(data: str, target: str, inputs: str | None, task: str, hidden: str, activation: str, epochs: int,
                  optimizer: str, lr: float | None, momentum: float, weight_decay: float, batch_size: int | None,
                  val_split: float, seed: int, backend: str | None, save: str | None, quiet: bool,
                  json_: bool) -> None:
    """Train a neural network (an MLP on tensors) on a CSV file and show how it learnt.

    The task follows the target column: numbers are regression (mean squared
    error), labels are classification (cross-entropy; a sigmoid for two
    classes, a softmax for more).  Inputs are standardised.  Progress goes to
    stderr; the summary, the loss curve and, for two inputs and classes, a
    picture of the decision regions to stdout.

    \b
    Examples:
      autodiff train moons.csv --target label --epochs 100 --seed 0 --save model.json
      autodiff train data.csv -t y --hidden 16,16 --optimizer sgd --lr 0.1 --momentum 0.9
      autodiff train data.csv -t y --val-split 0.2 --batch-size 32 --json
      autodiff train digits.csv -t label --hidden 64 --epochs 30 --batch-size 64 --val-split 0.2
    """
    if momentum and optimizer != "sgd":
        raise DataError("--momentum is for --optimizer sgd (Adam has its own betas)")
    table = read_table(read_file(data), "stdin" if data == "-" else data)
    names = [n.strip() for n in inputs.split(",")] if inputs else None
    dataset = prepare(table, target, task, names)
    for note in dataset.notes:
        click.echo(f"Note: {note}", err=True)
    settings = Settings(parse_hidden(hidden), activation, epochs, optimizer, lr, momentum, weight_decay, batch_size,
                        val_split, seed, backend)
    trainer = Trainer(dataset, settings)
    try:
        _progress(trainer, quiet or json_)
    except KeyboardInterrupt:  # Ctrl-C: with --save, keep what was learnt so far, then stop as interrupted
        if save and trainer.history:
            trainer.rewind()  # the weights of the last finished epoch, not half of a batch's update
            write_model(trainer.result(interrupted=True), save)
            done = len(trainer.history)
            click.echo(f"Note: training was interrupted after epoch {done} of {epochs}; saved the model as it "
                       f"stood then to {visible(save)}", err=True)
        elif save:
            click.echo("Note: training was interrupted before its first epoch ended; nothing was saved", err=True)
        raise
    trained = trainer.result()
    if save:
        write_model(trained, save)
    if json_:
        print_json({
            "task": dataset.task,
            "target": dataset.target,
            "inputs": dataset.inputs,
            "labels": dataset.labels,
            "model": trainer.sizes,
            "parameters": trainer.parameter_count,
            "training": trained.training,
            "history": [e.to_json(dataset.task) for e in trainer.history],
            "saved": save,
        })
        return
    lines = summary_lines(trainer)
    terminal = is_terminal()
    out = console()
    curve = charts.loss_curve([e.loss for e in trainer.history], title="training loss",
                              columns=out.width if terminal else None)
    width = min(60, max(20, out.width - 12)) if terminal else 60
    boundary = boundary_for(trainer, trained, width, 20)
    if save:
        lines.append(f"saved the model to {visible(save)}")
    if terminal:
        _draw_rich(out, lines, curve, boundary)
        return
    parts = ["\n".join(lines), curve]
    if boundary is not None:
        parts.append(charts.boundary_text(boundary))
    click.echo("\n\n".join(parts))


def write_model(trained: Trained, path: str) -> None:
    """The model as JSON, written whole or not at all (a failed write leaves the old file as it was)."""
    from ..export import write_atomic

    text = json.dumps(to_json(trained), indent=2, allow_nan=False)
    try:
        write_atomic(Path(path), [text])
    except OutputError as exc:
        raise DataError(exc.message) from None


@click.command("predict", cls=Command)
@click.argument("model", metavar="MODEL.json")
@click.argument("data", metavar="DATA.csv")
@click.option("--backend", type=click.Choice(["numpy", "python"], case_sensitive=False), envvar="AUTODIFF_BACKEND",
              help="Tensor backend [default: numpy if installed, else python; or AUTODIFF_BACKEND].")
@handles_errors
def predict_command(model: str, data: str, backend: str | None) -> None:
    """Predict with a trained model: DATA.csv with the prediction added, as CSV on stdout.

    Every column of DATA.csv is kept as it is; the model's input columns must
    be there.  A classifier adds the predicted label and a p(label) column per
    class; a regression model adds the predicted number.

    \b
    Examples:
      autodiff predict model.json new.csv > predictions.csv
      cat new.csv | autodiff predict model.json -
    """
    if model == "-" and data == "-":
        raise DataError("only one of MODEL.json and DATA.csv can be read from stdin")
    trained = load_model(read_file(model), "stdin" if model == "-" else model, backend)
    table = read_table(read_file(data), "stdin" if data == "-" else data)
    columns, rows = predict_table(trained, table)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    click.echo(buffer.getvalue(), nl=False)


COMMANDS = (train_command, predict_command)
