"""The lowest versions pyproject.toml allows for djfapi's direct dependencies, as pip pins:

    python scripts/lowest_versions.py          # django==5.2.11 fastapi==... pydantic==... ...
    python scripts/lowest_versions.py --check  # exit 1 unless exactly those are installed

`make test-lowest` installs exactly these over the dev environment and runs the suite, so a
floor is a version the project has run on, not a guess. Every mention of a dependency (the
core list and each extra) must name the same floor; a difference is an error here.
"""

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
DIRECT = ("django", "fastapi", "pydantic", "pyjwt", "psycopg")


def floors(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, Requirement]:
    """{name: the requirement naming its floor} of the DIRECT dependencies."""
    project = tomllib.loads(pyproject.read_text())["project"]
    mentions = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values()
                                            for r in extra)]
    found: dict[str, Requirement] = {}
    for text in mentions:
        requirement = Requirement(text)
        name = requirement.name.lower()
        if name not in DIRECT:
            continue
        low = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        if len(low) != 1:
            raise SystemExit(f"{text!r}: name exactly one >= floor")
        if name in found and floor_of(found[name]) != low[0]:
            raise SystemExit(f"{name}: floors {floor_of(found[name])} and {low[0]} in pyproject.toml")
        found.setdefault(name, requirement)
    missing = set(DIRECT) - set(found)
    if missing:
        raise SystemExit(f"no floor for {sorted(missing)} in pyproject.toml")
    return found


def floor_of(requirement: Requirement) -> str:
    return next(spec.version for spec in requirement.specifier if spec.operator == ">=")


def pins() -> list[str]:
    """``name[extras]==floor`` for each direct dependency."""
    pinned = []
    for name, requirement in floors().items():
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        pinned.append(f"{name}{extras}=={floor_of(requirement)}")
    return pinned


def installed_elsewhere() -> list[str]:
    """The direct dependencies installed at another version than their floor."""
    from importlib.metadata import version

    return [f"{name} {version(name)} (floor {floor_of(requirement)})"
            for name, requirement in floors().items()
            if Version(version(name)) != Version(floor_of(requirement))]


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        wrong = installed_elsewhere()
        print("installed at their floors: " + " ".join(pins()) if not wrong else
              "not at their floors: " + ", ".join(wrong))
        sys.exit(1 if wrong else 0)
    print(" ".join(pins()))
