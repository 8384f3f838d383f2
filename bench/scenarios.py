"""The scenarios: one request each, the same paths on every competitor.

A scenario makes its ``i``-th request in Python (``request(i)``, for the in-process driver and
the fixed-rate load generator) and in Lua (``lua()``, a wrk script), by the same rule:

- lists read the first page (``offset=0``) of ids 1…N, never touched by the writes;
- retrieve cycles through companies 1…1000;
- partial update cycles through companies 1001…2000, each name toggling between its seed
  value and ``… (patched)``;
- create adds companies (ids above the seed's, removed after the run);
- delete removes companies prepared for it (``ids``), one each, in order.
"""

import json
from dataclasses import dataclass

JSON_HEADERS = {"Content-Type": "application/json"}
RETRIEVE_IDS = range(1, 1001)
PATCH_IDS = range(1001, 2001)


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # "list", "retrieve", "create", "partial_update", "delete"
    path: str = ""  # a list's path, with its query
    writes: bool = False

    def request(self, i: int, ids: list[int] | None = None) -> tuple[str, str, bytes]:
        """The ``i``-th request (from 0): method, path with query, body."""
        if self.kind == "list":
            return "GET", self.path, b""
        if self.kind == "retrieve":
            return "GET", f"/companies/{RETRIEVE_IDS[i % len(RETRIEVE_IDS)]}", b""
        if self.kind == "create":
            return "POST", "/companies", b'{"name":"Created company"}'
        if self.kind == "partial_update":
            pk = PATCH_IDS[i % len(PATCH_IDS)]
            suffix = " (patched)" if (i // len(PATCH_IDS)) % 2 == 0 else ""
            return "PATCH", f"/companies/{pk}", json.dumps({"name": f"Company {pk:04d}{suffix}"}).encode()
        assert ids, "the delete scenario needs the ids of the rows it deletes"
        return "DELETE", f"/companies/{ids[i % len(ids)]}", b""

    def lua(self, ids: list[int] | None = None) -> str:
        """A wrk script making the same requests (``-t 1``: one Lua state, one counter)."""
        head = 'local i = -1\nlocal json = {["Content-Type"] = "application/json"}\n'
        if self.kind == "list":
            return f'request = function() return wrk.format("GET", "{self.path}") end\n'
        if self.kind == "retrieve":
            body = (
                f'return wrk.format("GET", "/companies/" .. ({RETRIEVE_IDS.start} + i % {len(RETRIEVE_IDS)}))'
            )
        elif self.kind == "create":
            body = """return wrk.format("POST", "/companies", json, '{"name":"Created company"}')"""
        elif self.kind == "partial_update":
            body = (
                f"local pk = {PATCH_IDS.start} + i % {len(PATCH_IDS)}\n"
                f"  local suffix = math.floor(i / {len(PATCH_IDS)}) % 2 == 0 and ' (patched)' or ''\n"
                """  return wrk.format("PATCH", "/companies/" .. pk, json, """
                """string.format('{"name":"Company %04d%s"}', pk, suffix))"""
            )
        else:
            assert ids, "the delete scenario needs the ids of the rows it deletes"
            head += "local ids = {" + ",".join(map(str, ids)) + "}\n"
            body = 'return wrk.format("DELETE", "/companies/" .. ids[1 + i % #ids])'
        return head + f"request = function()\n  i = i + 1\n  {body}\nend\n"


def _lists() -> list[Scenario]:
    return [
        Scenario(f"{label} {size}", "list", f"{path}?limit={size}")
        for label, path in (
            ("flat list", "/companies"),
            ("nested FK list", "/departments"),
            ("tree list", "/tree"),
        )
        for size in (1, 50, 500)
    ]


SCENARIOS: list[Scenario] = [
    *_lists(),
    Scenario("retrieve", "retrieve"),
    Scenario("create", "create", writes=True),
    Scenario("partial update", "partial_update", writes=True),
    Scenario("delete", "delete", writes=True),
]
