"""djfapi 0.0.x's security import paths: see :mod:`djfapi.security.jwt`."""
