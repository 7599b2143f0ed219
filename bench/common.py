"""What every benchmark shares: the machine description and the result file."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
WORK = Path(__file__).resolve().parent / ".work"


def machine() -> dict[str, Any]:
    """The machine a result was measured on, so numbers are never compared across machines."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem_gib = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    gpu = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        gpu = (
            subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            or None
        )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "gpu": gpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def save(
    name: str,
    figures: dict[str, Any],
    baseline: dict[str, Any],
    summary: str,
    *,
    table: list[dict[str, Any]] | None = None,
) -> None:
    """Print the result as one JSON object and store it as bench/results/<name>.json.

    `table`, when given, is a list of rows with the same keys, rendered as its own table.
    """
    result: dict[str, Any] = {
        "name": name,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "summary": summary,
        "figures": figures,
        "baseline": baseline,
    }
    if table is not None:
        result["table"] = table
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    json.dump(result, sys.stdout, ensure_ascii=False)
    print()
