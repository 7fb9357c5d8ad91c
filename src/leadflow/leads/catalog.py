"""In-process lookup of reference rows (channels, industries, provinces) for the hot intake
path. Saves in this process clear it at once; other processes see a change within
`TTL` seconds. Rows are few and change rarely, so a whole-table load is cheap."""

import time
from threading import Lock

from django.db.models.signals import post_delete, post_save

from .models import Channel, Industry, Province

TTL = 30.0
_lock = Lock()
_state: dict = {"loaded": 0.0}


def _load() -> dict:
    with _lock:
        if time.monotonic() - _state["loaded"] < TTL:
            return _state
        channels = list(Channel.objects.select_related("parent"))
        _state.update(
            channels_by_code={c.code.upper(): c for c in channels},
            channels_by_name={str(c): c for c in channels}
            | {c.name: c for c in channels if not c.parent_id},
            industries={i.name: i for i in Industry.objects.filter(active=True)},
            industries_by_pk={i.pk: i for i in Industry.objects.filter(active=True)},
            provinces={p.name: p for p in Province.objects.all()},
            loaded=time.monotonic(),
        )
        return _state


def clear(**_kwargs) -> None:
    _state["loaded"] = 0.0


def channel(code_or_name: str) -> Channel | None:
    state = _load()
    return state["channels_by_code"].get(code_or_name.upper()) or state["channels_by_name"].get(
        code_or_name
    )


def industry(name: str) -> Industry | None:
    state = _load()
    found = state["industries"].get(name)
    if found is None and name.isdigit():
        found = state["industries_by_pk"].get(int(name))
    return found


def province(name: str) -> Province | None:
    return _load()["provinces"].get(name)


for model in (Channel, Industry, Province):
    post_save.connect(clear, sender=model, dispatch_uid=f"catalog-{model.__name__}-save")
    post_delete.connect(clear, sender=model, dispatch_uid=f"catalog-{model.__name__}-delete")
