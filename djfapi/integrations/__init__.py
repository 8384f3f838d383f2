"""Optional integrations with other services; each is a module importing its own extra.

``djfapi.integrations.sentry`` needs ``pip install 'djfapi[sentry]'``. Nothing in djfapi imports
these modules itself, so djfapi runs without the extras.
"""
