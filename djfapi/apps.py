"""djfapi as a Django app: ``"djfapi"`` in ``INSTALLED_APPS`` adds its management commands
(``djfapi_keys``, ``djfapi_token``) and nothing else: no models, no migrations, no checks."""

from django.apps import AppConfig

__all__ = ["DjfapiConfig"]


class DjfapiConfig(AppConfig):
    name = "djfapi"
    verbose_name = "djfapi"
