"""The Qt-free layers really are Qt-free: importing all of them never loads PySide6 or qasync."""

from __future__ import annotations

import subprocess
import sys
import textwrap

NON_UI_PACKAGES = [
    "bluesdesk.core",
    "bluesdesk.gateway",
    "bluesdesk.store",
    "bluesdesk.secrets",
    "bluesdesk.services",
    "bluesdesk.emulator",
]
NON_UI_MODULES = ["bluesdesk.errors", "bluesdesk.settings", "bluesdesk.paths", "bluesdesk.logsetup"]


def test_non_ui_layers_never_import_qt() -> None:
    script = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys
        imported = []
        for name in {NON_UI_MODULES!r}:
            importlib.import_module(name); imported.append(name)
        for pkg_name in {NON_UI_PACKAGES!r}:
            pkg = importlib.import_module(pkg_name)
            imported.append(pkg_name)
            for info in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
                if info.name.endswith("__main__"):
                    continue
                importlib.import_module(info.name); imported.append(info.name)
        qt = ("PySide6", "qasync", "shiboken6")
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in qt)
        print(len(imported), "modules")
        print("LEAKED", leaked)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "LEAKED []" in result.stdout, result.stdout
    count = int(result.stdout.split()[0])
    assert count >= 20, f"expected the whole service layer to be importable, got {count} modules"
