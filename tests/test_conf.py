"""Project defaults from ``settings.DJFAPI``: a key djfapi does not know is loud."""

import pytest

from djfapi.conf import api_setting
from djfapi.exceptions import ImproperlyConfigured


def test_unset_keys_have_their_defaults(settings):
    settings.DJFAPI = {}
    assert api_setting("PAGE_SIZE") is None


def test_a_misspelt_key_is_improperly_configured(settings):
    settings.DJFAPI = {"PAGE_SIZ": 10}
    with pytest.raises(ImproperlyConfigured, match="PAGE_SIZ"):
        api_setting("PAGE_SIZE")


def test_a_dotted_class_path_is_imported(settings):
    settings.DJFAPI = {"DEFAULT_PAGINATION_CLASS": "djfapi.pagination.NoPagination"}
    from djfapi.pagination import NoPagination

    assert api_setting("DEFAULT_PAGINATION_CLASS") is NoPagination


def test_a_path_that_does_not_import_names_the_key(settings):
    settings.DJFAPI = {"DEFAULT_PAGINATION_CLASS": "djfapi.pagination.Nope"}
    with pytest.raises(ImproperlyConfigured, match="DEFAULT_PAGINATION_CLASS"):
        api_setting("DEFAULT_PAGINATION_CLASS")
