"""`python manage.py amocrm_sandbox`: serve the local amoCRM sandbox (see amocrm/sandbox/README.md)."""

import logging

from django.core.management.base import BaseCommand, CommandError

from amocrm.sandbox.cli import add_arguments, build_server, describe


class Command(BaseCommand):
    help = "Serve a local amoCRM sandbox account (OAuth + API v4) for development and demos."
    requires_system_checks = []  # the sandbox uses no models or settings

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, *args, **options):
        logging.basicConfig(level=logging.INFO if options["verbosity"] > 1 else logging.WARNING)
        try:
            server = build_server(options)
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot start the sandbox: {error}") from error
        self.stdout.write(describe(server))
        self.stdout.flush()  # the URL must show before serving blocks, also when stdout is a pipe
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
