from ..followups.conftest import desk  # noqa: F401  (the organisation with accepted leads)
