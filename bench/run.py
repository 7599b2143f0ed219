"""Run every bench/bench_*.py (or those named), then rewrite BENCHMARKS.md from bench/results/.

`python -m bench.run --render-only` rewrites BENCHMARKS.md from the stored results without
running anything (after running one benchmark by hand, say).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.common import RESULTS

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _script(name: str) -> str:
    # A result may be named for what it is (noise.json) rather than for its script.
    return name if name.startswith("bench_") else f"bench_{name}"


def render() -> str:
    """BENCHMARKS.md from the stored results, one section per benchmark."""
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` from `bench/results/*.json`; do not edit by hand. Each benchmark",
        "measures its own baseline in the same run, so ratios compare like with like.",
        "",
    ]
    for path in sorted(RESULTS.glob("*.json")):
        result = json.loads(path.read_text())
        m = result["machine"]
        lines += [
            f"## {result['name']}",
            "",
            result["summary"],
            "",
            f"Measured {result['date']} on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB"
            + (f", {m['gpu']}" if m.get("gpu") else ", no GPU")
            + f"), Python {m['python']}. Script: `bench/{_script(result['name'])}.py`.",
            "",
            "| figure | value |",
            "|---|---|",
        ]
        lines += [f"| {k} | {_cell(v)} |" for k, v in result["figures"].items()]
        lines += [f"| baseline: {k} | {_cell(v)} |" for k, v in result["baseline"].items()]
        lines.append("")
        if result.get("table"):
            columns = list(result["table"][0])
            lines += [
                "| " + " | ".join(columns) + " |",
                "|" + "---|" * len(columns),
                *(
                    "| " + " | ".join(_cell(row[c]) for c in columns) + " |"
                    for row in result["table"]
                ),
                "",
            ]
    return "\n".join(lines)


def main(names: list[str]) -> int:
    """Run the selected benchmarks (all by default) and rewrite BENCHMARKS.md."""
    if names == ["--render-only"]:
        (ROOT / "BENCHMARKS.md").write_text(render())
        return 0
    scripts = sorted(BENCH.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem in names or s.stem.removeprefix("bench_") in names]
    failed = []
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        proc = subprocess.run([sys.executable, "-m", f"bench.{script.stem}"], cwd=ROOT)
        if proc.returncode != 0:
            failed.append(script.stem)
    (ROOT / "BENCHMARKS.md").write_text(render())
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
