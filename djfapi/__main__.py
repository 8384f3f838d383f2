"""``python -m djfapi``: djfapi's command line, which needs no Django project::

    python -m djfapi keys --alg ES512 --out keys/     # a key pair, and the settings lines for it
    python -m djfapi --version
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from djfapi import __version__
from djfapi.keys import KeysError, add_key_arguments, create_keys, project_dir, settings_lines, written_note


def parser() -> argparse.ArgumentParser:
    """The command line: ``--version`` and the ``keys`` command."""
    parser = argparse.ArgumentParser(prog="python -m djfapi", description="djfapi's command line.")
    parser.add_argument("--version", action="version", version=f"djfapi {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    keys = commands.add_parser("keys", help="write a key pair for signing tokens and print its settings",
                               description="Write DIR/jwt-private.pem (mode 0600) and DIR/jwt-public.pem, "
                                           "then print the Django settings lines that read them.")
    add_key_arguments(keys)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status: 0 done, 1 refused (the reason on stderr), 2 a usage error."""
    arguments = parser().parse_args(argv)
    if arguments.command is None:
        parser().print_help(sys.stderr)
        return 2
    try:
        files = create_keys(arguments.alg, arguments.out, force=arguments.force)
    except (KeysError, OSError) as error:
        print(f"djfapi keys: {error}", file=sys.stderr)
        return 1
    print(written_note(files), file=sys.stderr)
    print("\n".join(settings_lines(files, project_dir(Path.cwd()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
