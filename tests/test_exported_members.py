"""The public API: what ``djfapi`` exports, and the import paths kept from 0.0.x."""

from pathlib import Path

import djfapi


def test_all_matches_the_exported_members():
    exported = {name for name in dir(djfapi) if not name.startswith("_")}
    modules = {name for name in exported if type(getattr(djfapi, name)).__name__ == "module"}
    assert set(djfapi.__all__) == exported - modules
    assert set(djfapi.__all__) == {
        "GenericViewSet", "ModelViewSet", "ReadOnlyModelViewSet", "Router", "Schemas",
        "ViewSet", "action", "install", "request_signalling",
    }


def test_mixins_are_importable():
    from djfapi.viewsets.mixins import (
        CreateModelMixin,
        DestroyModelMixin,
        ListModelMixin,
        RetrieveModelMixin,
        UpdateModelMixin,
    )

    for mixin in (CreateModelMixin, DestroyModelMixin, ListModelMixin, RetrieveModelMixin,
                  UpdateModelMixin):
        assert issubclass(djfapi.ModelViewSet, mixin)
    assert not issubclass(djfapi.ReadOnlyModelViewSet, CreateModelMixin)


def test_old_signalling_import_path_still_works():
    from djfapi.utils.fastapi_django import request_signalling

    assert request_signalling is djfapi.request_signalling


def test_package_is_typed():
    assert (Path(djfapi.__file__).parent / "py.typed").is_file()
