"""The ``videostyle`` command: thin subcommands that parse, call the library and report.

Every user error ends as one line on stderr (``error: ...``) and a non-zero exit status;
set VIDEOSTYLE_DEBUG=1 to see tracebacks of unexpected errors. Library errors name API
parameters (``strength``); :func:`as_flags` shows them as this command's flags (``--strength``).

Layout: :mod:`.app` (the group, ``main``, errors), :mod:`.options` (shared options, parsing,
the method spec of ``image`` and ``video``), :mod:`.stylize` (``image``, ``video``),
:mod:`.tools` (``evaluate``, ``compare``, ``dataset``, ``train``, ``export``, ``models``).
"""

from __future__ import annotations

import os
import re
import signal
import sys
import warnings

import click

from ..errors import VideostyleError, caused_by_interrupt

EXIT_USER_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="videostyle")
def cli() -> None:
    """Artistic style transfer for images and flicker-free video."""


FLAGS = {
    "style_weights": "--style-blend",
    "model_style_weights": "--style-mix",
    "styles": "--style",
    "learning_rate": "--lr",
    "discriminator_learning_rate": "--discriminator-lr",
    "resume=False": "--no-resume",
    "restart=True": "--restart",
    "init_model": "--init",
    "vgg_weights": "--vgg-weights",
    "adaptation.steps": "--adapt-steps",
    "adaptation.minutes": "--adapt-minutes",
    "adaptation.start": "--adapt-start",
    "ray": "--ray",
    "ray_workers": "--ray-workers",
    "ray_cpus_per_worker": "--ray-cpus-per-worker",
    "chunk_frames": "--ray-chunk-frames",
    "chunk_overlap": "--ray-chunk-overlap",
    "doodle": "--map",
    "mjpeg": "--headless",
}


def as_flags(error: VideostyleError) -> str:
    """A library error's message with the API parameter names it contains written as CLI flags."""
    message = str(error)
    names = {name for name in FLAGS if "_" in name or "=" in name} | ({error.parameter} if error.parameter else set())  # plain words only when named
    for name in sorted(names, key=len, reverse=True):
        flag = FLAGS.get(name, "--" + name.replace("_", "-"))
        message = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w=-])", flag, message)
    return message


def _exit_interrupted() -> None:
    """Exit 130 at once. The partial outputs were removed while the interrupt unwound the stack;
    a normal interpreter exit after a signal sometimes ended as a death by SIGINT instead (exit -2)."""
    click.echo("interrupted", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every user error into one line and an exit status."""
    debug = os.environ.get("VIDEOSTYLE_DEBUG") == "1"
    signal.signal(signal.SIGTERM, _interrupt)  # a kill cleans up like Ctrl-C: partial outputs go, run folders stay
    if not debug:  # warnings (a corrupt tail of a video...) as one line each, without source locations
        warnings.showwarning = lambda message, category, *rest, **kw: click.echo(f"warning: {message}", err=True)
    try:
        cli.main(args=argv, prog_name="videostyle", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        _exit_interrupted()
    except click.UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
        click.echo(f"error: {error.format_message()}{hint}", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as error:
        click.echo(f"error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except VideostyleError as error:
        click.echo(f"error: {as_flags(error)}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        _exit_interrupted()
    except MemoryError:
        click.echo("error: out of memory; try a smaller --size", err=True)
        sys.exit(EXIT_USER_ERROR)
    except Exception as error:
        if caused_by_interrupt(error):  # a signal during a lazy import arrives wrapped (RuntimeError from __set_name__, ...)
            _exit_interrupted()
        if debug:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        if "out of memory" in message.lower():
            click.echo("error: out of memory on the device at this size; try --tile 512, a smaller --size, or --device cpu", err=True)
        else:
            click.echo(f"error: unexpected {type(error).__name__}: {message} (set VIDEOSTYLE_DEBUG=1 for a traceback)", err=True)
        sys.exit(EXIT_USER_ERROR)
