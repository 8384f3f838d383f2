"""An app served by several uvicorn worker processes at once, its throttle counts in one Redis:
``tests/test_throttling.py`` shows a client's limit holds across the processes. The Redis URL
and the key prefix (one per test) come from the environment."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from django.conf import settings  # noqa: E402 -- after django.setup()
from fastapi import FastAPI  # noqa: E402

from djfapi import Router, ViewSet  # noqa: E402
from djfapi.throttling import AnonRateThrottle  # noqa: E402

settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                               "LOCATION": os.environ["THROTTLE_REDIS_URL"],
                               "KEY_PREFIX": os.environ["THROTTLE_KEY_PREFIX"]}}
settings.DJFAPI = {"DEFAULT_THROTTLE_RATES": {"anon": "5/hour"}}


class Worker(ViewSet):
    throttle_classes = [AnonRateThrottle]

    def list(self) -> list[int]:
        return [os.getpid()]  # which process answered


router = Router()
router.register("worker", Worker)
app = FastAPI()
app.include_router(router)
