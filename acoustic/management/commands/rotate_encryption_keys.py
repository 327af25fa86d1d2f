"""manage.py rotate_encryption_keys: every encrypted value re-encrypted under the first key in FERNET_KEYS."""

from django.core.management.base import BaseCommand, CommandError

from acoustic import encryption


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field of every model with the first key in FERNET_KEYS, so older keys can be "
        "removed. Safe to run again. Exits 1 naming the rows (model and pk) that no key opens."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--clear-unreadable",
            action="store_true",
            help="Empty the values no key opens (their secrets must then be entered again in the admin).",
        )

    def handle(self, *args, clear_unreadable: bool = False, **options) -> None:
        rotation = encryption.rotate(clear_unreadable=clear_unreadable)
        for counts in rotation.fields:
            line = f"{counts.label}: {counts.reencrypted} re-encrypted, {counts.current} already under the first key"
            self.stdout.write(line + (f", {counts.changed} changed meanwhile (run again)" if counts.changed else ""))
        if rotation.unreadable and not clear_unreadable:
            raise CommandError(encryption.explain(rotation.unreadable))
        for row in rotation.unreadable:
            self.stdout.write(f"cleared {row}: enter these secrets again in the admin")
