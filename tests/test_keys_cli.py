"""Keys and tokens from the command line, run as a user runs them: ``python -m djfapi keys``,
and ``manage.py djfapi_keys`` / ``djfapi_token`` in the example project, whose settings read a
key pair the way ``keys`` prints it; the token is sent to the demo API."""

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    load_pem_public_key,
)

import djfapi
from djfapi.keys import ALGORITHMS, generate_key_pair, parse_ttl
from djfapi.permissions import JWTBearer
from djfapi.testing import make_token
from djfapi.tokens import sign_token

pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example"
ENV = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "DJFAPI_TEST"))}
DEMO_ISSUER = "https://auth.djfapi.demo"
READ_ANY = "business.companies.read.any"

KEY_OF = {  # the key each algorithm is made with
    "ES256": "EC secp256r1", "ES384": "EC secp384r1", "ES512": "EC secp521r1",
    "RS256": "RSA 3072", "RS384": "RSA 3072", "RS512": "RSA 3072",
    "PS256": "RSA 3072", "PS384": "RSA 3072", "PS512": "RSA 3072",
    "EdDSA": "Ed25519",
}

# The demo API called in-process, as a client from another process would call it.
CALL_API = """
import json, sys
from fastapi.testclient import TestClient
from demo.asgi import app
with TestClient(app, base_url="http://localhost") as client:
    answers = [client.get("/api/companies", headers={"Authorization": f"Bearer {token}"})
               for token in sys.argv[1:]]
print(json.dumps([[answer.status_code, answer.json()] for answer in answers]))
"""


def run(command, *, env=None, cwd=None):
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd,
                          env={**ENV, "PYTHONPATH": str(ROOT), **(env or {})})


def keys(*args, cwd=None):
    """``python -m djfapi keys ...``."""
    return run([sys.executable, "-m", "djfapi", "keys", *args], cwd=cwd)


def manage(project, *args, settings=None):
    """``manage.py ...`` in the example project, with ``settings`` (a module in ``project.settings``)."""
    env = {**project.env, **({"DJANGO_SETTINGS_MODULE": settings} if settings else {})}
    return run([sys.executable, "manage.py", *args], env=env, cwd=EXAMPLE)


def read_settings(lines):
    """The settings the printed lines make."""
    namespace = {}
    exec(lines, namespace)
    return namespace


def umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def described(public_pem):
    key = load_pem_public_key(public_pem.encode())
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    return "Ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else type(key).__name__


def contents(directory):
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The example project with its own SQLite database and demo data, its settings module
    (``keysettings``) the demo's plus the lines ``python -m djfapi keys --alg ES256`` printed."""
    state = tmp_path_factory.mktemp("keys-demo")
    made = keys("--alg", "ES256", "--out", str(state / "keys"))
    assert made.returncode == 0, made.stderr
    (state / "settings").mkdir()
    (state / "settings" / "keysettings.py").write_text(f"from demo.settings import *  # noqa\n{made.stdout}")
    env = {"DEMO_STATE_DIR": str(state), "DATABASE_URL": f"sqlite:///{state / 'db.sqlite3'}",
           "PYTHONPATH": f"{ROOT}{os.pathsep}{state / 'settings'}", "DJANGO_SETTINGS_MODULE": "keysettings"}
    public_key = (state / "keys" / "jwt-public.pem").read_text()
    project = SimpleNamespace(env=env, state=state, public_key=public_key)
    for command in (["migrate", "--noinput", "-v0"], ["demo_data"]):
        done = manage(project, *command)
        assert done.returncode == 0, done.stderr
    return project


def test_every_algorithm_has_a_key_described():
    assert set(KEY_OF) == set(ALGORITHMS)


@pytest.mark.parametrize("algorithm", list(KEY_OF))
def test_keys_writes_a_pair_the_printed_settings_sign_and_verify_with(tmp_path, algorithm):
    out = tmp_path / "not" / "yet" / "keys"
    made = keys("--alg", algorithm.lower(), "--out", str(out), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert sorted(path.name for path in out.iterdir()) == ["jwt-private.pem", "jwt-public.pem"]
    assert stat.S_IMODE((out / "jwt-private.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "jwt-public.pem").stat().st_mode) == 0o644 & ~umask()
    assert "keep it secret" in made.stderr

    settings = read_settings(made.stdout)
    assert settings["JWT_PRIVATE_KEY"] == (out / "jwt-private.pem").read_text()
    assert settings["JWT_ALGORITHMS"] == [algorithm]
    assert described(settings["JWT_PUBLIC_KEY"]) == KEY_OF[algorithm]
    claims = {"sub": "alice", "iss": "https://issuer.test", "exp": int(time.time()) + 60}
    token = jwt.encode(claims, settings["JWT_PRIVATE_KEY"], algorithm=settings["JWT_ALGORITHMS"][0])
    bearer = JWTBearer(key=settings["JWT_PUBLIC_KEY"], algorithms=settings["JWT_ALGORITHMS"],
                       issuer="https://issuer.test")
    assert bearer.decode(token) == claims


def test_keys_that_exist_are_kept_without_force_and_replaced_with_it(tmp_path):
    assert keys("--alg", "ES256", "--out", str(tmp_path)).returncode == 0
    before = contents(tmp_path)

    again = keys("--alg", "ES256", "--out", str(tmp_path))
    assert again.returncode == 1
    assert again.stdout == ""
    assert "already exist" in again.stderr and "--force" in again.stderr
    assert contents(tmp_path) == before

    (tmp_path / "jwt-private.pem").unlink()  # one of the two is enough to refuse, and nothing is written
    assert keys("--alg", "ES256", "--out", str(tmp_path)).returncode == 1
    assert contents(tmp_path) == {"jwt-public.pem": before["jwt-public.pem"]}

    (tmp_path / "jwt-private.pem").write_bytes(before["jwt-private.pem"])
    (tmp_path / "jwt-private.pem").chmod(0o644)  # a wide old file: the new one is made 0600, not inherited
    forced = keys("--alg", "ES256", "--out", str(tmp_path), "--force")
    assert forced.returncode == 0, forced.stderr
    after = contents(tmp_path)
    assert list(after) == ["jwt-private.pem", "jwt-public.pem"]  # no temporary file left behind
    assert after["jwt-private.pem"] != before["jwt-private.pem"]
    assert after["jwt-public.pem"] != before["jwt-public.pem"]
    assert stat.S_IMODE((tmp_path / "jwt-private.pem").stat().st_mode) == 0o600
    assert described(read_settings(forced.stdout)["JWT_PUBLIC_KEY"]) == "EC secp256r1"


@pytest.mark.parametrize(("algorithm", "says"), [
    ("HS256", "shared secret"), ("hs512", "shared secret"), ("none", "Unknown algorithm"),
    ("ES999", "Unknown algorithm"),
])
def test_algorithms_without_a_key_pair_are_refused(tmp_path, algorithm, says):
    refused = keys("--alg", algorithm, "--out", str(tmp_path / "keys"))
    assert refused.returncode == 1
    assert says in refused.stderr and "ES512" in refused.stderr
    assert not (tmp_path / "keys").exists()


def test_keys_without_cryptography_say_what_to_install(tmp_path):
    script = ("import sys\nsys.modules['cryptography'] = None  # as if not installed\n"
              "from djfapi.__main__ import main\n"
              f"sys.exit(main(['keys', '--out', {str(tmp_path / 'keys')!r}]))")
    refused = run([sys.executable, "-c", script])
    assert refused.returncode == 1
    assert "pip install 'djfapi[jwt]'" in refused.stderr
    assert not (tmp_path / "keys").exists()


def test_version_and_usage():
    version = run([sys.executable, "-m", "djfapi", "--version"])
    assert version.stdout.strip() == f"djfapi {djfapi.__version__}"
    bare = run([sys.executable, "-m", "djfapi"])
    assert bare.returncode == 2 and "keys" in bare.stderr
    no_out = keys("--alg", "ES256")
    assert no_out.returncode == 2 and "--out" in no_out.stderr


def test_manage_py_djfapi_keys(project, tmp_path):
    made = manage(project, "djfapi_keys", "--alg", "EdDSA", "--out", str(tmp_path))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE((tmp_path / "jwt-private.pem").stat().st_mode) == 0o600
    assert described(read_settings(made.stdout)["JWT_PUBLIC_KEY"]) == "Ed25519"
    before = contents(tmp_path)
    again = manage(project, "djfapi_keys", "--alg", "EdDSA", "--out", str(tmp_path))
    assert again.returncode == 1
    assert "CommandError" in again.stderr and "--force" in again.stderr
    assert contents(tmp_path) == before


def test_djfapi_token_prints_a_token_the_demo_api_accepts(project):
    def token(*args):
        made = manage(project, "djfapi_token", *args)
        assert made.returncode == 0, made.stderr
        assert made.stdout.count("\n") == 1 and made.stdout.strip().count(".") == 2  # the token alone
        assert "Development token" in made.stderr and "expires at" in made.stderr
        return made.stdout.strip()

    admin_a = token("--sub", "admin-a", "--tenant", "tenant-a", "--scope", READ_ANY, "--scope",
                    "business.companies.create", "--ttl", "15m")
    admin_b = token("--sub", "admin-b", "--tenant", "tenant-b", "--scope", READ_ANY)
    no_read = token("--sub", "alice", "--tenant", "tenant-a", "--scope", "business.companies.create")

    assert jwt.get_unverified_header(admin_a)["alg"] == "ES256"  # the printed settings', not the demo's ES512
    claims = jwt.decode(admin_a, project.public_key, algorithms=["ES256"], issuer=DEMO_ISSUER)
    assert (claims["sub"], claims["ten"], claims["scope"]) == (
        "admin-a", "tenant-a", f"{READ_ANY} business.companies.create")
    assert claims["exp"] - claims["iat"] == 15 * 60

    called = run([sys.executable, "-c", CALL_API, admin_a, admin_b, no_read], env=project.env, cwd=EXAMPLE)
    assert called.returncode == 0, called.stderr
    (status_a, body_a), (status_b, body_b), (status_c, _) = json.loads(called.stdout)
    assert status_a == status_b == 200
    assert [company["name"] for company in body_a["items"]] == ["Acme", "Globex", "Initech"]
    assert [company["name"] for company in body_b["items"]] == ["Hooli", "Umbrella"]
    assert status_c == 403


def test_djfapi_token_lasts_one_hour_unless_told(project):
    made = manage(project, "djfapi_token", "--sub", "alice")
    claims = jwt.decode(made.stdout.strip(), project.public_key, algorithms=["ES256"], issuer=DEMO_ISSUER)
    assert claims["exp"] - claims["iat"] == 3600
    assert "ten" not in claims and claims["scope"] == ""


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("15m", 900), ("1h", 3600), ("7d", 7 * 86400), ("45", 45), (" 2h ", 7200),
])
def test_ttl_units(text, seconds):
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["1x", "", "h", "0", "0s", "-5", "1.5h", "1 h", "1H", "3651d", "٣s"])
def test_bad_ttls_are_refused(text):
    with pytest.raises(ValueError, match="--ttl"):
        parse_ttl(text)


def test_a_bad_ttl_is_a_command_error(project):
    refused = manage(project, "djfapi_token", "--sub", "alice", "--ttl", "1x")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "CommandError: --ttl '1x' is not a lifetime" in refused.stderr


@pytest.mark.parametrize(("settings", "says"), [
    ("del JWT_PRIVATE_KEY", ["settings.JWT_PRIVATE_KEY is not set", "djfapi_keys"]),
    ("JWT_ALGORITHMS = []", ["settings.JWT_ALGORITHMS is not set"]),
    ("JWT_PRIVATE_KEY = OTHER_ES256_KEY",  # not the pair of JWT_PUBLIC_KEY
     ["does not verify with settings.JWT_PUBLIC_KEY", "JWT_PRIVATE_KEY"]),
    ("JWT_PRIVATE_KEY = Path(DEMO_KEY).read_text()",  # the demo's P-521 key, for ES512
     ["settings.JWT_PRIVATE_KEY cannot sign ES256 tokens", "curve"]),
])
def test_settings_that_cannot_sign_are_a_command_error(project, settings, says):
    demo_key = project.state / "jwt-private.pem"
    other_key = generate_key_pair("ES256").private_pem.decode()
    (project.state / "settings" / "broken.py").write_text(
        f"from keysettings import *  # noqa\nDEMO_KEY = {str(demo_key)!r}\nOTHER_ES256_KEY = {other_key!r}\n"
        f"{settings}\n")
    refused = manage(project, "djfapi_token", "--sub", "alice", settings="broken")
    assert refused.returncode == 1 and refused.stdout == ""
    for said in says:
        assert said in refused.stderr


def test_sign_token_makes_the_tokens_make_token_makes(monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.5)
    for token in ({}, {"tenant": None, "user": "bob", "expires_in": 60},
                  {"scopes_claim": "aud", "exp": None, "role": "admin"}):
        assert sign_token(["a.b.read"], key="k" * 32, algorithm="HS256", **token) == make_token(
            ["a.b.read"], key="k" * 32, algorithm="HS256", **token)


def test_directories_made_for_keys_are_the_users_alone_whatever_the_umask(tmp_path):
    made = run(["bash", "-c", f"umask 000 && exec {sys.executable} -m djfapi keys --out k0/sub"],
               cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    for directory in (tmp_path / "k0", tmp_path / "k0" / "sub"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE((tmp_path / "k0" / "sub" / "jwt-private.pem").stat().st_mode) == 0o600


def test_a_directory_every_user_may_write_to_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    refused = keys("--out", str(shared))
    assert refused.returncode == 1
    assert "may be written by every user" in refused.stderr
    assert list(shared.iterdir()) == []
    shared.chmod(0o1777)  # sticky, as /tmp: others cannot replace files they do not own
    assert keys("--out", str(shared)).returncode == 0


def demo_check(state: Path):
    env = {"DEMO_STATE_DIR": str(state), "DATABASE_URL": f"sqlite:///{state / 'db.sqlite3'}"}
    return run(["bash", "-c", f"umask 000 && exec {sys.executable} manage.py check"], env=env, cwd=EXAMPLE)


def test_the_demo_makes_its_key_as_keys_does(tmp_path):
    checked = demo_check(tmp_path / "state")
    assert checked.returncode == 0, checked.stderr
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "state" / "jwt-private.pem").stat().st_mode) == 0o600


def test_the_demo_writes_no_key_through_a_symlink(tmp_path):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "jwt-private.pem").symlink_to(tmp_path / "elsewhere.pem")
    checked = demo_check(state)
    assert checked.returncode != 0
    assert "symlinks" in checked.stderr
    assert not (tmp_path / "elsewhere.pem").exists()


def test_a_key_pair_is_written_whole_or_not_at_all(tmp_path):
    (tmp_path / "k" / "jwt-public.pem").mkdir(parents=True)  # no file can replace a directory
    for forced, says in (((), "already exists"), (("--force",), "is a directory")):
        refused = keys("--out", str(tmp_path / "k"), *forced)
        assert refused.returncode == 1
        assert says in refused.stderr
        assert sorted(path.name for path in (tmp_path / "k").iterdir()) == ["jwt-public.pem"]


@pytest.mark.parametrize(("args", "says"), [
    (["--sub", ""], "--sub '' is not a name"),
    (["--sub", "alice", "--tenant", ""], "--tenant '' is not a name"),
    (["--sub", b"al\xffice"], "is not a name"),  # not UTF-8: a lone surrogate in Python
    (["--sub", "alice", "--scope", "a.b.read.any a.b.create"], "is not one scope"),
])
def test_claims_the_bearer_would_refuse_are_a_command_error(project, args, says):
    refused = manage(project, "djfapi_token", *args)
    assert refused.returncode == 1 and refused.stdout == ""
    assert says in refused.stderr


def test_a_token_without_a_tenant_says_what_it_cannot_reach(project):
    made = manage(project, "djfapi_token", "--sub", "alice", "--scope", READ_ANY)
    assert made.returncode == 0, made.stderr
    assert "names no tenant" in made.stderr


def test_two_forced_runs_at_once_leave_one_pair(tmp_path, monkeypatch):
    """Two runs replace the pair at once; the first dawdles between its two files. Unlocked,
    the first run's private key ends beside the second's public key (seen in 4 of 15 tries of
    two real processes); locked, the second waits, and the pair on disk is the second's."""
    import threading

    from djfapi import keys as module

    first, second = generate_key_pair("ES256"), generate_key_pair("ES256")
    write = module._write

    def dawdling_write(path, data, mode, *, replace):
        write(path, data, mode, replace=replace)
        if data == first.public_pem:
            time.sleep(0.4)

    monkeypatch.setattr(module, "_write", dawdling_write)
    out = tmp_path / "k"
    runs = [threading.Thread(target=module.write_key_pair, args=(pair, out), kwargs={"force": True})
            for pair in (first, second)]
    runs[0].start()
    time.sleep(0.1)
    runs[1].start()
    for run_ in runs:
        run_.join()
    assert (out / "jwt-public.pem").read_bytes() == second.public_pem
    assert (out / "jwt-private.pem").read_bytes() == second.private_pem


def test_a_new_directory_inside_one_every_user_may_write_to_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # others could rename a new keys/ away and put theirs in its place
    refused = keys("--out", str(shared / "keys"))
    assert refused.returncode == 1
    assert "may be written by every user" in refused.stderr
    assert list(shared.iterdir()) == []


def test_keys_made_in_a_project_are_read_relative_to_base_dir(tmp_path):
    (tmp_path / "manage.py").write_text("")
    made = keys("--out", "keys", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert 'JWT_PRIVATE_KEY = (BASE_DIR / "keys/jwt-private.pem").read_text()' in made.stdout
    assert str(tmp_path) not in made.stdout
    namespace = read_settings(f"from pathlib import Path\nBASE_DIR = Path({str(tmp_path)!r})\n{made.stdout}")
    assert namespace["JWT_PRIVATE_KEY"] == (tmp_path / "keys" / "jwt-private.pem").read_text()
