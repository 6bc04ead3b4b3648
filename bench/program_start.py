"""Program start: the Pulumi program evaluated under mocks, against importing its SDK alone.

Each figure is the median of fresh interpreters (imports are cached per process).
The clock starts inside the interpreter, so Python's own start-up is not counted
on either side. Under mocks the run includes registering every resource with
the mock engine (tests/pulumi_mocks.py, the same harness the tests use).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SDK = {"aws": "pulumi_aws", "digitalocean": "pulumi_digitalocean", "local": "pulumi_command"}
STACK_OF = {"local": "dev", "digitalocean": "staging", "aws": "prod"}

PROGRAM = """
import time
t0 = time.perf_counter()
import json, runpy, sys
sys.path[:0] = [{root!r}, {tests!r}]
from pulumi_mocks import run_program
program = run_program(lambda: runpy.run_path({main!r}, run_name="__main__"), stack={stack!r}, config=json.loads({config!r}))
elapsed = time.perf_counter() - t0
mods = sys.modules
print(json.dumps({{"s": elapsed, "resources": len(program.resources),
    "sdks": sorted({{m.split(".")[0] for m in mods if m.startswith("pulumi_") and m.split(".")[0] != "pulumi_mocks"}}),
    # The SDKs register every submodule lazily (pulumi._utils.lazy_import): an unloaded one has a near-empty __dict__.
    "submodules": sorted(m for m, mod in list(mods.items()) if m.count(".") == 1
                         and m.split(".")[0] in ("pulumi_aws", "pulumi_digitalocean")
                         and len(object.__getattribute__(mod, "__dict__")) > 20 and not m.split(".")[1].startswith("_"))}}))
"""

IMPORTS = """
import time
t0 = time.perf_counter()
{imports}
elapsed = time.perf_counter() - t0
import json
print(json.dumps({{"s": elapsed}}))
"""


def _run(code: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"program-start run failed: {proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _median(code: str, n: int) -> tuple[float, dict[str, Any]]:
    runs = [_run(code) for _ in range(n)]
    return round(statistics.median(r["s"] for r in runs) * 1000), runs[-1]


def run(repeat: int = 5, progress: Any = print) -> dict[str, Any]:
    rows = []
    for provider, stack in STACK_OF.items():
        path = ROOT / f"Pulumi.{stack}.yaml"
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        if config.get("launchpad:provider", "local") != provider:
            raise RuntimeError(f"{path.name} is not a {provider} stack")
        if not (ROOT / "stacks" / f"{provider}.py").is_file():
            rows.append({"provider": provider, "stack": stack, "missing": f"stacks/{provider}.py not written yet"})
            continue
        program_ms, last = _median(PROGRAM.format(root=str(ROOT), tests=str(ROOT / "tests"), main=str(ROOT / "__main__.py"),
                                                  stack=stack, config=json.dumps(config)), repeat)
        sdk = SDK[provider]
        sdk_ms, _ = _median(IMPORTS.format(imports=f"import pulumi\nimport {sdk}"), repeat)
        subs = [m for m in last["submodules"] if m.startswith(sdk + ".")]
        # Touching a lazy submodule is what loads it (e.g. the first use of aws.ec2).
        load = "import importlib, pulumi\n" + "\n".join(f"hasattr(importlib.import_module({m!r}), '_probe')" for m in [sdk, *subs])
        used_ms, _ = _median(IMPORTS.format(imports=load), repeat)
        others = [s for s in ("pulumi_aws", "pulumi_digitalocean") if s != sdk and s in last["sdks"]]
        row = {"provider": provider, "stack": stack, "program_ms": program_ms, "sdk_import_ms": sdk_ms,
               "sdk_used_submodules": [m for m in subs if not m.split(".")[1].startswith("get_")], "sdk_with_submodules_ms": used_ms,
               "overhead_ms": program_ms - sdk_ms, "own_overhead_ms": program_ms - used_ms,
               "sdks_imported": last["sdks"], "other_cloud_sdks": others, "resources": last["resources"]}
        rows.append(row)
        progress(f"  start {provider:12s} program {program_ms} ms; pulumi+{sdk} {sdk_ms} ms (+ used submodules {used_ms} ms); "
                 f"SDKs imported: {', '.join(last['sdks'])}")
    return {"repeat": repeat, "rows": rows}
