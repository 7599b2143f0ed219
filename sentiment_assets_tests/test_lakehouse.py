from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sentiment_assets.lib.lakehouse import Lakehouse, LakehouseError, extensions
from sentiment_assets.lib.settings import PROJECT_ROOT


def _writer(root: Path, table: str, first: int, batches: int, size: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sentiment_assets_tests.lakehouse_writer",
            str(root),
            table,
            str(first),
            str(batches),
            str(size),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_write_read_and_time_travel(lakehouse: Lakehouse) -> None:
    first = lakehouse.append("posts", pd.DataFrame({"id": [1, 2], "text": ["가", "나"]}))
    second = lakehouse.append("posts", pd.DataFrame({"id": [3], "text": ["다"]}))
    assert first.rows_written == 2 and second.rows_written == 1
    assert first.snapshot_id is not None and second.snapshot_id is not None
    assert second.snapshot_id > first.snapshot_id
    with lakehouse.session() as lake:
        now = lake.read_table("posts").sort_values("id")
        then = lake.read_table("posts", snapshot_id=first.snapshot_id).sort_values("id")
        assert now["text"].tolist() == ["가", "나", "다"]
        assert then["text"].tolist() == ["가", "나"]
        assert lake.current_snapshot_id() == second.snapshot_id
        assert [s.snapshot_id for s in lake.snapshots()][-2:] == [
            first.snapshot_id,
            second.snapshot_id,
        ]
    parquet_files = list((lakehouse.data_path).rglob("*.parquet"))
    assert len(parquet_files) == 2, "every write lands as Parquet under data/"


def test_append_with_key_skips_rows_already_stored_or_repeated(lakehouse: Lakehouse) -> None:
    lakehouse.append(
        "posts", pd.DataFrame({"board": [1, 1], "id": [1, 2], "v": ["a", "b"]}), key=("board", "id")
    )
    rerun = lakehouse.append(
        "posts",
        pd.DataFrame({"board": [1, 1, 2, 2], "id": [2, 3, 2, 2], "v": ["b", "c", "x", "x"]}),
        key=("board", "id"),
    )
    assert rerun.rows_written == 2
    with lakehouse.session() as lake:
        stored = lake.query("select board, id from lake.posts order by board, id")
    assert list(stored.itertuples(index=False, name=None)) == [(1, 1), (1, 2), (1, 3), (2, 2)]


def test_two_processes_writing_at_once_both_succeed_without_losing_rows(
    lakehouse: Lakehouse,
) -> None:
    batches, size = 15, 40
    procs = [_writer(lakehouse.root, "events", first, batches, size) for first in (0, 100_000)]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.count("committed") == batches
    with lakehouse.session() as lake:
        counts = lake.query("select count(*) n, count(distinct id) d from lake.events")
    assert counts["n"].iloc[0] == counts["d"].iloc[0] == 2 * batches * size


def test_process_killed_mid_write_leaves_last_commit_intact(lakehouse: Lakehouse) -> None:
    size = 500
    proc = _writer(lakehouse.root, "events", 0, 10_000, size)
    assert proc.stdout is not None
    committed = 0
    deadline = time.monotonic() + 120
    while committed < 3 and time.monotonic() < deadline:
        if proc.stdout.readline().startswith("committed"):
            committed += 1
    assert committed == 3, "writer never committed three batches"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    with lakehouse.session() as lake:
        rows = lake.query("select count(*) n, count(distinct batch) b from lake.events")
        n, b = int(rows["n"].iloc[0]), int(rows["b"].iloc[0])
        assert n >= 3 * size and n == b * size, "only whole batches are visible"
        last = lake.current_snapshot_id()
        assert len(lake.read_table("events", snapshot_id=last)) == n
    after = lakehouse.append(
        "events", pd.DataFrame({"id": [-1], "batch": [-1], "payload": ["y"]}), key=("id",)
    )
    assert after.rows_written == 1, "the lakehouse accepts writes again after the crash"


def test_missing_extension_package_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, lakehouse: Lakehouse
) -> None:
    real_import = extensions.importlib.import_module

    def fake_import(name: str):
        if name == "duckdb_extension_ducklake":
            raise ModuleNotFoundError(name)
        return real_import(name)

    monkeypatch.setattr(extensions.importlib, "import_module", fake_import)
    with (
        pytest.raises(LakehouseError, match=r"pip install 'duckdb-extension-ducklake==1\.5\.5'"),
        lakehouse.session(),
    ):
        pass


def test_corrupt_extension_file_says_to_reinstall(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lakehouse: Lakehouse
) -> None:
    corrupt = tmp_path / "ducklake.duckdb_extension"
    corrupt.write_bytes(b"not an extension")
    monkeypatch.setattr(extensions, "extension_file", lambda name: corrupt)
    with pytest.raises(LakehouseError, match="force-reinstall"), lakehouse.session():
        pass


def test_extension_for_another_duckdb_release_says_to_reinstall(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(duckdb, "__version__", "0.0.1")
    with pytest.raises(LakehouseError, match=r"does not match duckdb 0\.0\.1"):
        extensions.extension_file("ducklake")


def test_unwritable_warehouse_path_says_what_to_do(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with (
        pytest.raises(LakehouseError, match="SENTIMENT_WAREHOUSE"),
        Lakehouse(blocker / "warehouse").session(),
    ):
        pass


def test_installed_extensions_let_plain_duckdb_attach_offline(
    tmp_path: Path, lakehouse: Lakehouse
) -> None:
    lakehouse.append("posts", pd.DataFrame({"id": [1]}))
    ext_dir = extensions.install_extensions(tmp_path / "ext")
    con = duckdb.connect(
        config={"extension_directory": str(ext_dir), "autoinstall_known_extensions": False}
    )
    con.execute(lakehouse.attach_sql())
    row = con.execute("select count(*) from lake.posts").fetchone()
    assert row is not None and row[0] == 1
