"""The competitors: the same API (see ``bench.scenarios``) written five ways.

ASGI (served by uvicorn): ``djfapi_app``, ``careful``, ``idiomatic``. WSGI (served by gunicorn's
sync worker): ``drf_app``, ``ninja_app``. Every module sets Django up on import.
"""
