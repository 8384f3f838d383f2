"""Key pairs for signing tokens, made from the command line, and the lifetimes tokens take::

    python -m djfapi keys --alg ES512 --out keys/        (or: manage.py djfapi_keys ...)

writes ``keys/jwt-private.pem`` (mode 0600 from the moment it exists) and ``keys/jwt-public.pem``,
then prints the settings lines that read them. A key file that exists is replaced only with
``--force``: tokens signed with the old key stop verifying. ``manage.py djfapi_token`` signs a
development token with the private key; :func:`parse_ttl` reads its ``--ttl``.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

__all__ = [
    "ALGORITHMS", "DEFAULT_ALGORITHM", "KeyFiles", "KeyPair", "KeysError", "add_key_arguments",
    "algorithm_named", "create_keys", "generate_key_pair", "parse_ttl", "project_dir", "settings_lines",
    "write_key_pair", "written_note",
]

ALGORITHMS: Final = ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                     "EdDSA")
"""The algorithms a key pair is made for: those PyJWT verifies with a public key."""

DEFAULT_ALGORITHM: Final = "ES512"
PRIVATE_KEY_FILE: Final = "jwt-private.pem"
PUBLIC_KEY_FILE: Final = "jwt-public.pem"
RSA_KEY_SIZE: Final = 3072  # bits: NIST's size for RSA keys still in use after 2030

TTL_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_TTL: Final = 3650 * TTL_UNITS["d"]  # ten years: beyond any development token, within datetime's range
_TTL: Final = re.compile(r"([0-9]+)([smhd]?)")


class KeysError(Exception):
    """A key pair that cannot be made or written; the message says why and what to do."""


@dataclass(frozen=True)
class KeyPair:
    """A private key and its public key, PEM-encoded, for tokens signed with ``algorithm``."""

    algorithm: str
    private_pem: bytes = field(repr=False)
    public_pem: bytes


@dataclass(frozen=True)
class KeyFiles:
    """Where a key pair for ``algorithm`` was written."""

    algorithm: str
    private: Path
    public: Path


def algorithm_named(name: str) -> str:
    """The algorithm of :data:`ALGORITHMS` that ``name`` spells, in any case; ``KeysError`` for
    a shared-secret (HS*) or an unknown one."""
    known = {algorithm.upper(): algorithm for algorithm in ALGORITHMS}
    if name.upper() in known:
        return known[name.upper()]
    if name.upper().startswith("HS"):
        raise KeysError(
            f"{name} signs with a shared secret, not a key pair, so there are no keys to make. Set "
            "JWT_PRIVATE_KEY and JWT_PUBLIC_KEY to one secret (python -c 'import secrets; "
            f"print(secrets.token_urlsafe(64))') and JWT_ALGORITHMS = [{_literal(name.upper())}], or "
            f"make a key pair for one of {', '.join(ALGORITHMS)}: then whoever verifies tokens cannot "
            "sign them."
        )
    raise KeysError(f"Unknown algorithm {name!r}: choose one of {', '.join(ALGORITHMS)}.")


def _private_key(algorithm: str) -> PrivateKeyTypes:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    curves: dict[str, ec.EllipticCurve] = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(),
                                           "ES512": ec.SECP521R1()}
    if algorithm in curves:
        return ec.generate_private_key(curves[algorithm])
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)


def generate_key_pair(algorithm: str = DEFAULT_ALGORITHM) -> KeyPair:
    """A new key pair for ``algorithm`` (see :func:`algorithm_named`): PKCS#8 and
    SubjectPublicKeyInfo PEM, the private key unencrypted."""
    algorithm = algorithm_named(algorithm)
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        raise KeysError("Making keys needs the cryptography package: pip install 'djfapi[jwt]'.") from None
    key = _private_key(algorithm)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyPair(algorithm, private, public)


def _write(path: Path, data: bytes, mode: int, *, replace: bool) -> None:
    """Write a new file at ``path``, created with ``mode`` (never wider, not for a moment);
    with ``replace``, a new file beside it is written, then moved over ``path`` in one step."""
    target = path.with_name(f".{path.name}.{secrets.token_hex(8)}") if replace else path
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        if replace:
            os.replace(target, path)
    except BaseException:
        target.unlink(missing_ok=True)  # created above, so ours: no half-written key is left
        raise


def _make_directory(directory: Path) -> None:
    """Make ``directory`` and its missing parents with mode 0700 (never wider, whatever the
    umask); ``KeysError`` when the directory, or the one the new ones go into, may be written by
    every user without the sticky bit (``/tmp`` has it): anyone could swap the keys, or the
    new directory itself."""
    missing, parent = [], directory
    while not os.path.lexists(parent):
        missing.append(parent)
        parent = parent.parent
    mode = parent.stat().st_mode
    if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
        raise KeysError(f"{parent} may be written by every user (mode {stat.S_IMODE(mode):o}), who "
                        "could replace the keys in it; nothing was written. Choose a directory only you "
                        "can write to, or chmod o-w it.")
    for path in reversed(missing):
        os.mkdir(path, 0o700)


def _refuse_existing(files: KeyFiles, *, force: bool) -> None:
    """``KeysError`` for key paths that exist (without ``force``) or that no file can replace
    (a directory): checked before anything is written, so a pair is written whole or not at all."""
    existing = [str(path) for path in (files.private, files.public) if os.path.lexists(path)]
    if existing and not force:
        raise KeysError(f"{' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
                        "nothing was written. Pass --force to replace the key pair (tokens signed "
                        "with the old key will no longer verify).")
    blocked = [str(path) for path in (files.private, files.public) if path.is_dir() and not path.is_symlink()]
    if blocked:
        raise KeysError(f"{' and '.join(blocked)} is a directory, which no key file can replace; nothing "
                        "was written.")


def write_key_pair(pair: KeyPair, directory: Path | str, *, force: bool = False) -> KeyFiles:
    """Write ``pair`` into ``directory`` (made if missing): the private key with mode 0600, the
    public key 0644 (both less what the umask takes). ``KeysError``, and nothing written, if
    either file exists, unless ``force``; a public key that cannot be written takes the new
    private key with it, so the two files on disk are always one pair."""
    directory = Path(directory).absolute()
    files = KeyFiles(pair.algorithm, directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE)
    _refuse_existing(files, force=force)
    _make_directory(directory)
    with _locked(directory):  # two runs at once write one pair after the other, never a mix
        _refuse_existing(files, force=force)
        _write(files.public, pair.public_pem, 0o644, replace=force)
        try:
            _write(files.private, pair.private_pem, 0o600, replace=force)
        except BaseException:
            if not force:
                files.public.unlink(missing_ok=True)  # made above by O_EXCL, so ours
            raise
    return files


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` (``flock``) for as long as the block runs."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def create_keys(algorithm: str, directory: Path | str, *, force: bool = False) -> KeyFiles:
    """Make a key pair for ``algorithm`` and write it into ``directory``: what both commands do."""
    return write_key_pair(generate_key_pair(algorithm), directory, force=force)


def _literal(text: str) -> str:
    """``text`` as a Python string literal, double-quoted as settings files write them when it can be."""
    return repr(text) if '"' in text else f'"{repr(text)[1:-1]}"'


def _path_expression(path: Path, base_dir: Path | None) -> str:
    """Python for ``path``: ``BASE_DIR / "keys/jwt-private.pem"`` below ``base_dir`` (the project
    moves, the settings still find it), else the absolute path."""
    if base_dir is not None and path.is_relative_to(base_dir.absolute()):
        return f"(BASE_DIR / {_literal(path.relative_to(base_dir.absolute()).as_posix())})"
    return f"Path({_literal(str(path))})"


def settings_lines(files: KeyFiles, base_dir: Path | None = None) -> list[str]:
    """The Django settings that read the key pair ``files`` and accept its tokens; paths below
    ``base_dir`` (the project's ``BASE_DIR``) relative to it."""
    private, public = (_path_expression(path, base_dir) for path in (files.private, files.public))
    return [
        "from pathlib import Path" if "BASE_DIR" not in private + public else
        "# BASE_DIR: the folder of manage.py, as django-admin startproject defines it",
        f"JWT_PRIVATE_KEY = {private}.read_text()  # signs: manage.py djfapi_token, djfapi.testing",
        f"JWT_PUBLIC_KEY = {public}.read_text()  # JWTBearer verifies with it",
        f"JWT_ALGORITHMS = [{_literal(files.algorithm)}]",
        '# JWT_ISSUER = "https://auth.example"  # optional: then every token must carry this "iss"',
    ]


def project_dir(start: Path) -> Path | None:
    """``start`` when it holds a Django project's ``manage.py`` (where ``BASE_DIR`` points), else None."""
    return start if (start / "manage.py").is_file() else None


def written_note(files: KeyFiles) -> str:
    """What was written, said once to the person at the terminal."""
    return (f"Wrote a key pair for {files.algorithm}: {files.private} (mode 0600: keep it secret, never "
            f"commit it) and {files.public}. Add these lines to your Django settings:")


def add_key_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m djfapi keys`` and ``manage.py djfapi_keys``: --alg, --out, --force."""
    parser.add_argument("--alg", default=DEFAULT_ALGORITHM, metavar="ALGORITHM",
                        help=f"what tokens are signed with: {', '.join(ALGORITHMS)} "
                             f"(default {DEFAULT_ALGORITHM})")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help=f"the directory to write {PRIVATE_KEY_FILE} and {PUBLIC_KEY_FILE} into "
                             "(made if missing)")
    parser.add_argument("--force", action="store_true", help="replace key files that exist")


def parse_ttl(text: str) -> int:
    """Seconds, from ``30s``, ``15m``, ``1h``, ``7d`` or a plain number of seconds; ``ValueError``
    with a message for anything else, zero, or more than ten years."""
    match = _TTL.fullmatch(text.strip())
    seconds = int(match[1]) * TTL_UNITS[match[2] or "s"] if match else 0
    if not 0 < seconds <= MAX_TTL:
        raise ValueError(f"--ttl {text!r} is not a lifetime: give seconds (3600) or a whole number "
                         f"with s, m, h or d (30s, 15m, 1h, 7d), more than 0 and at most 3650d.")
    return seconds
