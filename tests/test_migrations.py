"""The schema the models declare is the one the migrations build: an index or a field added
to a model without its migration would exist in the tests' database (built from the
migrations) differently from what the code expects."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    """`makemigrations --check` finds nothing left to write (it exits 1 when it would)."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
