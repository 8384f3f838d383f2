"""``manage.py djfapi_keys --alg ES512 --out DIR``: ``python -m djfapi keys`` as a management
command (see :mod:`djfapi.keys`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from djfapi.keys import KeysError, add_key_arguments, create_keys, settings_lines, written_note


class Command(BaseCommand):
    help = ("Write a key pair for signing tokens (DIR/jwt-private.pem, mode 0600, and DIR/jwt-public.pem) "
            "and print the settings lines that read it.")

    def add_arguments(self, parser: CommandParser) -> None:
        add_key_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            files = create_keys(options["alg"], options["out"], force=options["force"])
        except (KeysError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stderr.write(written_note(files), style_func=self.style.WARNING)
        base_dir = getattr(settings, "BASE_DIR", None)
        self.stdout.write("\n".join(settings_lines(files, Path(base_dir) if base_dir else None)))
