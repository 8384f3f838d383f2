"""The dependency floors: one per dependency across pyproject.toml, above the advisories
SECURITY.md lists, and each one named there. `make test-lowest` runs the suite on them."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from lowest_versions import floor_of, floors, pins  # noqa: E402

pytestmark = pytest.mark.once


def test_every_direct_dependency_has_one_floor():
    assert [pin.split("==")[0].split("[")[0] for pin in pins()] == list(floors())
    assert set(floors()) == {"django", "fastapi", "pydantic", "pyjwt", "psycopg"}


@pytest.mark.parametrize(("name", "refused", "allowed"), [
    ("django", ["5.2.10", "5.2.7", "6.0.0", "6.0.1"], ["5.2.11", "5.2.19", "6.0.2", "6.1"]),
    ("pyjwt", ["2.12.1", "2.11.0", "2.8.0"], ["2.13.0", "2.15.1"]),
    ("pydantic", ["2.9.2"], ["2.10.0"]),
])
def test_the_floors_are_above_the_advisories(name, refused, allowed):
    specifier = floors()[name].specifier
    assert [version for version in refused if specifier.contains(version)] == []
    assert [version for version in allowed if not specifier.contains(version)] == []


def test_security_md_names_each_floor():
    text = (ROOT / "SECURITY.md").read_text()
    for requirement in floors().values():
        assert f"`>={floor_of(requirement)}" in text, requirement


def test_a_floor_that_differs_between_extras_is_an_error(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text((ROOT / "pyproject.toml").read_text().replace(
        'jwt = ["pyjwt[crypto]>=2.13"]', 'jwt = ["pyjwt[crypto]>=2.8"]'))
    with pytest.raises(SystemExit, match="pyjwt: floors"):
        floors(pyproject)


def test_the_check_reads_versions_as_versions(monkeypatch):
    import importlib.metadata

    import lowest_versions

    installed = {name: floor_of(requirement) + ".0" for name, requirement in floors().items()}
    monkeypatch.setattr(importlib.metadata, "version", installed.__getitem__)
    assert lowest_versions.installed_elsewhere() == []  # 2.10.0 is the floor 2.10
    installed["pyjwt"] = "2.15.1"
    assert lowest_versions.installed_elsewhere() == ["pyjwt 2.15.1 (floor 2.13)"]
