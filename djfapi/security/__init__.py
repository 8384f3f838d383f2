"""djfapi 0.0.x's security import paths (:mod:`djfapi.security.jwt`), now in :mod:`djfapi.compat`."""
