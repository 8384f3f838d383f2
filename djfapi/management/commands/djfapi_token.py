"""``manage.py djfapi_token --sub alice --tenant a --scope business.companies.read.any --ttl 1h``:
a development token signed with settings ``JWT_PRIVATE_KEY`` (:func:`djfapi.tokens.sign_token`).

Only the token goes to stdout, so ``TOKEN=$(python manage.py djfapi_token ...)`` works; a line
saying when it expires goes to stderr. When ``JWT_PUBLIC_KEY`` is set, the token is first
verified as :class:`~djfapi.permissions.JWTBearer` verifies it, so a private and a public key
that are not one pair are an error here rather than a 401 later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from djfapi.keys import parse_ttl
from djfapi.permissions.jwt import JWTBearer, Rejected, is_text
from djfapi.tokens import sign_token

NO_KEY = ("settings.JWT_PRIVATE_KEY is not set, so there is no key to sign with: make a key pair with "
          "`manage.py djfapi_keys --out DIR` and add the lines it prints to your settings.")
NO_ALGORITHMS = ("settings.JWT_ALGORITHMS is not set: name the algorithm JWT_PRIVATE_KEY signs with, "
                 'e.g. JWT_ALGORITHMS = ["ES512"] (manage.py djfapi_keys prints the line).')


class Command(BaseCommand):
    help = "Print a development token signed with settings JWT_PRIVATE_KEY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sub", required=True, help="the user the token names (its sub claim)")
        parser.add_argument("--tenant", help="the tenant the token names (its ten claim); none if left out")
        parser.add_argument("--scope", action="append", default=[], dest="scopes", metavar="SCOPE",
                            help="a scope the token grants; repeat for more")
        parser.add_argument("--ttl", default="1h",
                            help="how long the token is valid: 30s, 15m, 1h, 7d or seconds (default 1h)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ttl = parse_ttl(options["ttl"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        check_arguments(options["sub"], options["tenant"], options["scopes"])
        token = signed(options["scopes"], user=options["sub"], tenant=options["tenant"], expires_in=ttl)
        expires = datetime.fromtimestamp(verified(token)["exp"], UTC)
        self.stdout.write(token)
        tenant = f" in tenant {options['tenant']}" if options["tenant"] else ""
        self.stderr.write(f"Development token for {options['sub']}{tenant}, expires at "
                          f"{expires:%Y-%m-%d %H:%M:%S} UTC.", style_func=self.style.WARNING)
        if not options["tenant"]:
            self.stderr.write("It names no tenant (--tenant): routes where tenancy applies answer it 401.",
                              style_func=self.style.WARNING)


def check_arguments(sub: str, tenant: str | None, scopes: list[str]) -> None:
    """``CommandError`` for a claim ``JWTBearer`` would refuse: an empty ``sub`` or tenant, one
    with a NUL or invalid text, a scope with whitespace in it (the claim is space-separated)."""
    for option, value in (("--sub", sub), ("--tenant", tenant)):
        if value is not None and not is_text(value):
            raise CommandError(f"{option} {value!r} is not a name a token can carry: give non-empty "
                               "text without NUL characters.")
    for scope in scopes:
        if not scope or any(character.isspace() for character in scope):
            raise CommandError(f"--scope {scope!r} is not one scope: give each scope its own --scope, "
                               "without spaces.")


def signed(scopes: list[str], **token: Any) -> str:
    """The token :func:`sign_token` makes from the settings; ``CommandError`` when they cannot sign."""
    if not getattr(settings, "JWT_PRIVATE_KEY", None):
        raise CommandError(NO_KEY)
    if not getattr(settings, "JWT_ALGORITHMS", None):
        raise CommandError(NO_ALGORITHMS)
    try:
        import jwt
    except ImportError:
        raise CommandError("Signing tokens needs PyJWT: pip install 'djfapi[jwt]'.") from None
    try:
        return sign_token(scopes, **token)
    except (jwt.PyJWTError, ValueError, TypeError, NotImplementedError) as error:
        raise CommandError(f"settings.JWT_PRIVATE_KEY cannot sign {settings.JWT_ALGORITHMS[0]} tokens: "
                           f"{type(error).__name__}: {error}") from error


def verified(token: str) -> dict[str, Any]:
    """The claims of ``token``, verified as ``JWTBearer()`` verifies them when settings
    ``JWT_PUBLIC_KEY`` is set; ``CommandError`` if it would reject the token."""
    import jwt

    if getattr(settings, "JWT_PUBLIC_KEY", None) is None:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        return claims
    bearer = JWTBearer()
    try:
        claims = bearer.decode(token)
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise CommandError(f"The token does not verify with settings.JWT_PUBLIC_KEY ({type(error).__name__}: "
                           f"{error}): is it the public key of JWT_PRIVATE_KEY?") from error
    try:
        bearer.check_claims(claims)
    except Rejected as error:
        raise CommandError(f"JWTBearer would refuse this token: {error}.") from error
    return claims
