"""DuckDB extensions loaded from their PyPI packages, never downloaded.

DuckDB's default is to fetch extensions from extensions.duckdb.org on first use, which fails on
air-gapped hosts (and here). The `duckdb-extension-<name>` wheels ship the binaries; we LOAD
those files directly, or INSTALL them into a folder for tools (dbt) that insist on installing.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import tempfile
from pathlib import Path

import duckdb

from sentiment_assets.lib.lakehouse.errors import LakehouseError

LAKEHOUSE_EXTENSIONS = ("sqlite_scanner", "ducklake")
# DuckDB finds an extension's entry point from its file name. The `duckdb-extension-postgres`
# wheel ships the `postgres_scanner` binary as `postgres.duckdb_extension`, which DuckDB then
# refuses to load; it is loaded through a link carrying the name DuckDB expects.
_ENTRY_POINT_NAMES = {"postgres": "postgres_scanner"}


def _package_name(name: str) -> str:
    return "duckdb-extension-" + name.replace("_", "-")


def extension_file(name: str) -> Path:
    """Return the extension binary shipped by the `duckdb-extension-<name>` package.

    Raises:
        LakehouseError: the package is missing, built for another DuckDB release, or unreadable.
    """
    version = duckdb.__version__
    pin = f"{_package_name(name)}=={version}"
    try:
        module = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError as exc:
        raise LakehouseError(
            f"The DuckDB extension package {_package_name(name)!r} is not installed. "
            f"Install it with `pip install '{pin}'` (or run `make install`); "
            "extensions are never downloaded at run time."
        ) from exc
    module_file = module.__file__
    if module_file is None:
        raise LakehouseError(f"Package {_package_name(name)!r} has no files; reinstall '{pin}'.")
    path = Path(module_file).parent / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise LakehouseError(
            f"{path} does not exist: the installed {_package_name(name)!r} does not match "
            f"duckdb {version}. Reinstall with `pip install --force-reinstall '{pin}'`."
        )
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise LakehouseError(
            f"Cannot read DuckDB extension {path}: {exc}. Fix its permissions or reinstall "
            f"with `pip install --force-reinstall '{pin}'`."
        ) from exc
    entry_name = _ENTRY_POINT_NAMES.get(name)
    return path if entry_name is None else _linked_as(path, entry_name, version)


def _linked_as(path: Path, entry_name: str, version: str) -> Path:
    """A symlink to `path` named `<entry_name>.duckdb_extension`, in a per-user temp folder."""
    folder = Path(tempfile.gettempdir()) / f"maple-sentiment-duckdb-{os.getuid()}" / f"v{version}"
    link = folder / f"{entry_name}.duckdb_extension"
    with contextlib.suppress(OSError):
        if link.resolve(strict=True) == path.resolve():
            return link
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staged = folder / f".{entry_name}.{os.getpid()}.link"
        staged.unlink(missing_ok=True)
        staged.symlink_to(path)
        os.replace(staged, link)  # atomic: concurrent processes never see a missing link
    except OSError as exc:
        raise LakehouseError(
            f"Cannot link the DuckDB extension {path} as {link}: {exc}. Make {folder.parent} "
            "writable (or set TMPDIR to a writable folder)."
        ) from exc
    return link


def load_extensions(
    con: duckdb.DuckDBPyConnection, names: tuple[str, ...] = LAKEHOUSE_EXTENSIONS
) -> None:
    """LOAD each extension into `con` from its package file."""
    for name in names:
        path = extension_file(name)
        try:
            con.execute(f"LOAD '{path}'")
        except duckdb.Error as exc:
            raise LakehouseError(
                f"DuckDB could not load {path}: {exc}. The file may be corrupt; reinstall with "
                f"`pip install --force-reinstall '{_package_name(name)}=={duckdb.__version__}'`."
            ) from exc


def install_extensions(extension_dir: Path, names: tuple[str, ...] = LAKEHOUSE_EXTENSIONS) -> Path:
    """INSTALL the packaged extensions into `extension_dir` so autoload finds them offline.

    dbt-duckdb and other tools open their own connections and can only autoload; pointing their
    `extension_directory` here makes `ATTACH 'ducklake:...'` work without a network.
    """
    extension_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={"extension_directory": str(extension_dir), "autoinstall_known_extensions": False}
    )
    try:
        for name in names:
            con.execute(f"INSTALL '{extension_file(name)}'")
    finally:
        con.close()
    return extension_dir
