"""Django management commands, found when ``"djfapi"`` is in ``INSTALLED_APPS``."""
