"""djfapi 0.0.x's API, kept so code written for it runs unchanged on the viewsets.

For existing 0.0.x users only; new code is better written with :class:`djfapi.ModelViewSet`
and :class:`djfapi.Router`, the same machinery with hooks to override instead of options.

- :mod:`djfapi.compat.router_schema`: ``DjangoRouterSchema``, 0.0.x's declarative routes.
- :mod:`djfapi.compat.routing`: its ``Method`` enum and ``SecurityScopes``.
- :mod:`djfapi.compat.jwt`: ``JWTToken``, 0.0.x's token scheme.
- :mod:`djfapi.compat.signalling`: ``request_signalling`` at its 0.0.x home.

The 0.0.x import paths (``djfapi.routing``, ``djfapi.routing.django``, ``djfapi.security.jwt``,
``djfapi.utils.fastapi_django``) re-export these. The core never imports this package, and
this package uses only djfapi's public API. Nor does the package import its own modules:
``JWTToken`` comes without ``DjangoRouterSchema``.
"""
