"""Print the .deb's Depends line: Debian packages of the libraries the bundle leaves to the host.

PyInstaller keeps glibc, libGL/libEGL and a few more out of the bundle on purpose. Every DT_NEEDED
soname of a bundled ELF file that is not itself in the bundle must come from the system: find it
with ``ldconfig -p`` and ask ``dpkg -S`` which package owns it. Like dpkg-shlibdeps, without
needing a debian/ source tree. Usage: ``python deb_depends.py BUNDLE_DIR``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

NEEDED_RE = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")


def elf_files(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def needed(path: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True).stdout
    return NEEDED_RE.findall(out)


def system_paths() -> dict[str, str]:
    """soname -> path for the native (64-bit) libraries ldconfig knows."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    paths: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and ("x86-64" in m.group(2) or "AArch64" in m.group(2)) and m.group(1) not in paths:
            paths[m.group(1)] = m.group(3)
    return paths


def owner(path: str) -> str | None:
    candidates = {path, os.path.realpath(path)}
    # Merged /usr: dpkg may know a file under /lib or under /usr/lib.
    for p in list(candidates):
        candidates.add(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for candidate in sorted(candidates):
        done = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout.split(":", 1)[0].strip()
    return None


def main(argv: list[str]) -> int:
    root = Path(argv[1])
    files = elf_files(root)
    bundled = {p.name for p in root.rglob("*")}
    wanted = sorted({so for f in files for so in needed(f)} - bundled)
    where = system_paths()
    packages: set[str] = set()
    for soname in wanted:
        path = where.get(soname)
        pkg = owner(path) if path else None
        if pkg is None:
            sys.stderr.write(f"deb_depends: no package found for {soname}\n")
            continue
        packages.add(pkg)
    glibc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "libc6"], capture_output=True, text=True
    ).stdout.split("-")[0]
    packages.discard("libc6")
    deps = [f"libc6 (>= {glibc})" if glibc else "libc6", *sorted(packages)]
    sys.stdout.write(", ".join(deps) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
