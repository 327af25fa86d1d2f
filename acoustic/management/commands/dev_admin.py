import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"


class Command(BaseCommand):
    help = "Development only: create an admin user if none exists and print how to log in."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("dev_admin only runs with DEBUG on; use createsuperuser in production.")
        password_file = settings.RUN_DIR / "dev-admin-password"
        users = get_user_model().objects
        if not users.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            users.create_superuser(USERNAME, email="", password=password)
            settings.RUN_DIR.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password)
        if password_file.exists() and users.filter(username=USERNAME).exists():
            self.stdout.write(
                f"Admin: {settings.SITE_URL}/admin/  user: {USERNAME}  password: {password_file.read_text()}"
            )
        else:
            self.stdout.write(f"Admin: {settings.SITE_URL}/admin/ (log in with your existing superuser)")
