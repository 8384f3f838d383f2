"""djfapi 0.0.x's utility import paths (:mod:`djfapi.utils.fastapi_django`), now in :mod:`djfapi.compat`."""
