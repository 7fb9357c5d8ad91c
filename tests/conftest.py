import importlib
import os

import pytest
from django.conf import settings
from django.utils import timezone

from leadflow.accounts.models import Role
from leadflow.leads import catalog

from .factories import lead_data, make_user


def pytest_report_header(config):
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"LeadFlow tests on database engine: {engine}"


def pytest_sessionstart(session):
    wants_pg = os.environ.get("LEADFLOW_REQUIRE_POSTGRES") == "1"
    url = os.environ.get("DATABASE_URL", "")
    if wants_pg and os.environ.get("LEADFLOW_TEST_POSTGRES_URL") and url.startswith("postgres"):
        import psycopg

        try:
            psycopg.connect(url, connect_timeout=5).close()
        except psycopg.OperationalError as exc:
            pytest.exit(f"PostgreSQL is required here but unreachable at {url}: {exc}", 3)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_catalog():
    catalog.clear()
    yield
    catalog.clear()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests start from an emptied database: put the rows the migrations seed
    (channels, industries, provinces, exclusions, role groups) back before each of them."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    from leadflow.accounts.roles import ensure_role_groups

    for module in (
        "leadflow.leads.migrations.0002_reference_data",
        "leadflow.intake.migrations.0002_default_exclusions",
        "leadflow.followups.migrations.0002_defaults",
    ):
        importlib.import_module(module).load(apps, None)
    ensure_role_groups()


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def support(db):
    return make_user("support1", Role.SUPPORT)


@pytest.fixture
def marketing(db):
    return make_user("marketing1", Role.MARKETING)


@pytest.fixture
def data():
    return lead_data()
