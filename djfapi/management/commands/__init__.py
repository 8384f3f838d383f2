"""``manage.py djfapi_keys`` (a key pair for signing tokens) and ``manage.py djfapi_token``
(a signed development token)."""
