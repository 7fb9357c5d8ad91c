from django.core.management.base import BaseCommand, CommandError

from leadflow.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Print USERNAME's API token (creating it on first use). --rotate issues a new one."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="replace the existing token")

    def handle(self, *args, username, rotate, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        token, created = ApiToken.objects.get_or_create(
            user=user, defaults={"key": ApiToken.new_key()}
        )
        if rotate and not created:
            token.key = ApiToken.new_key()
            token.save(update_fields=["key"])
        self.stdout.write(token.key)
