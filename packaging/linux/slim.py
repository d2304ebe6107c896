"""Smaller stand-ins for two large Qt libraries of the Linux bundle, built at packaging time.

Both are used by ``packaging/bluesdesk.spec``; each returns ``None`` (and the spec keeps the
original) when the build host lacks a tool, so a build never fails because of them.

* ``trim_icu_data``: libicudata (32 MB) holds ICU's whole data package. Qt 6 Core calls ICU only
  for locale-aware case mapping (data built into libicuuc), collation (``QCollator``), time-zone
  names (``ucal_*``) and legacy text codecs (``ucnv_*``); it never opens break iterators,
  transliterators, number spell-out or the display names of units, currencies, languages and
  regions. The trimmed package keeps collation, the time-zone tables, the locale bundles and the
  single-byte codecs, and drops the rest (CJK multi-byte codecs included: bluesdesk reads and
  writes only UTF-8).
* ``build_qt_stubs``: Qt 6.11's FFmpeg media plugin links libQt6Quick only to screen-capture
  a ``QQuickWindow`` (``qobject_cast<QQuickWindow *>`` then ``grabWindow()``). A two-symbol stub
  with the same soname satisfies the loader; the cast compares metaobject addresses only, so it
  never matches and ``grabWindow`` is never reached. That drops Quick, Qml, QmlModels, QmlMeta and
  QmlWorkerScript (about 17 MB).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

# Data items (paths inside the package) the bundle never needs. See the module docstring.
_ICU_DROP_TREES = ("brkitr/", "unit/", "curr/", "lang/", "region/", "translit/", "rbnf/")
_ICU_DROP_FILES = ("unames.icu", "confusables.cfu")
_ICU_ZONE_KEEP = re.compile(r"^zone/(root|pool|res_index|en|en_[A-Za-z0-9_]+)\.res$")
# Single-byte codec tables are 1-12 kB; the multi-byte (CJK, EBCDIC DBCS) ones 40-550 kB.
_ICU_CNV_MAX = 16_000

_QUICK_STUB_C = """\
/* Stand-in for libQt6Quick.so.6: the FFmpeg media plugin's only two references. */
#include <stdlib.h>
/* QQuickWindow::staticMetaObject: qobject_cast compares its address and never reads it. */
__attribute__((visibility("default"), aligned(16)))
const unsigned char _ZN12QQuickWindow16staticMetaObjectE[64];
/* QQuickWindow::grabWindow(): unreachable, since no object is ever cast to QQuickWindow. */
__attribute__((visibility("default"))) void _ZN12QQuickWindow10grabWindowEv(void) { abort(); }
"""


def _say(message: str) -> None:
    sys.stdout.write(f"slim: {message}\n")


def _drop_icu_item(name: str, size: int) -> bool:
    if name.startswith(_ICU_DROP_TREES) or name in _ICU_DROP_FILES or name.endswith(".spp"):
        return True
    if name.startswith("zone/"):
        return not _ICU_ZONE_KEEP.match(name)
    return name.endswith(".cnv") and size > _ICU_CNV_MAX


def _symbol_bytes(lib: Path, symbol: str) -> bytes:
    """The bytes of one data symbol of an ELF shared library (file offset via its section)."""
    symbols = subprocess.run(["readelf", "-sW", str(lib)], capture_output=True, text=True).stdout
    m = re.search(rf"^\s*\d+: ([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+OBJECT\s.*\s{symbol}$",
                  symbols, re.M)
    if m is None:
        raise ValueError(f"{symbol} not in {lib}")
    vaddr, size = int(m.group(1), 16), int(m.group(2), 0)
    sections = subprocess.run(["readelf", "-SW", str(lib)], capture_output=True, text=True).stdout
    for line in sections.splitlines():
        fields = re.sub(r"^\s*\[\s*\d+\]", "", line).split()
        if len(fields) >= 5 and re.fullmatch(r"[0-9a-f]{8,16}", fields[2] or ""):
            addr, off, sz = int(fields[2], 16), int(fields[3], 16), int(fields[4], 16)
            if fields[1] != "NOBITS" and addr <= vaddr < addr + sz:
                with open(lib, "rb") as fh:
                    fh.seek(off + vaddr - addr)
                    return fh.read(size)
    raise ValueError(f"no section holds {symbol} in {lib}")


def trim_common_data(data: bytes) -> tuple[bytes, int, int]:
    """Drop items from an ICU common-data package ("CmnD"); returns (package, kept, dropped)."""
    header_size = struct.unpack_from("<H", data, 0)[0]
    if data[2:4] != b"\xda\x27" or data[12:16] != b"CmnD" or data[8] != 0:
        raise ValueError("not a little-endian ICU common-data package")
    count = struct.unpack_from("<I", data, header_size)[0]
    entries = []
    for i in range(count):
        name_off, data_off = struct.unpack_from("<II", data, header_size + 4 + 8 * i)
        end = data.index(b"\0", header_size + name_off)
        entries.append((data[header_size + name_off:end].decode("ascii"), data_off))
    offsets = [*sorted(off for _, off in entries), len(data) - header_size]
    following = {off: offsets[i + 1] for i, off in enumerate(offsets[:-1])}
    kept, dropped_cnv = [], []
    for name, off in entries:
        body = data[header_size + off:header_size + following[off]]
        if not _drop_icu_item(name.split("/", 1)[1], len(body)):
            kept.append((name, body))
        elif name.endswith(".cnv"):
            dropped_cnv.append(name.split("/", 1)[1][:-4].encode("ascii") + b"\0")
    # A small codec may only extend a dropped multi-byte base table, named inside its data.
    kept = [(n, b) for n, b in kept
            if not (n.endswith(".cnv") and any(base in b for base in dropped_cnv))]
    # Same layout icupkg writes: count, (name, data) offset pairs, names, 16-byte aligned items.
    # Names stay in their original (sorted) order: ICU looks them up by binary search.
    names = b"".join(n.encode("ascii") + b"\0" for n, _ in kept)
    toc_len = 4 + 8 * len(kept)
    pos = toc_len + len(names)
    pos += -(header_size + pos) % 16
    toc, blobs, name_pos = [struct.pack("<I", len(kept))], [], toc_len
    for name, body in kept:
        toc.append(struct.pack("<II", name_pos, pos))
        name_pos += len(name) + 1
        padded = body + b"\0" * (-len(body) % 16)
        blobs.append(padded)
        pos += len(padded)
    head = data[:header_size] + b"".join(toc) + names
    head += b"\0" * (-len(head) % 16)
    return head + b"".join(blobs), len(kept), count - len(kept)


def _cc() -> str | None:
    return shutil.which("cc") or shutil.which("gcc")


def _link_shared(source: Path, soname: str, out: Path, *flags: str) -> bool:
    cc = _cc()
    if cc is None:
        return False
    done = subprocess.run(
        [cc, "-shared", "-fPIC", "-O2", "-s", f"-Wl,-soname,{soname}", "-Wl,-z,noexecstack",
         *flags, "-o", str(out), str(source)],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        _say(f"building {soname} failed: {done.stderr.strip()[:500]}")
    return done.returncode == 0


def trim_icu_data(original: Path, workdir: Path) -> Path | None:
    """A libicudata.so.NN beside ``workdir`` with the trimmed package, or None."""
    m = re.match(r"libicudata\.so\.(\d+)$", original.name)
    if m is None or _cc() is None:
        return None
    symbol = f"icudt{m.group(1)}_dat"
    try:
        package, kept, dropped = trim_common_data(_symbol_bytes(original, symbol))
    except (OSError, ValueError) as exc:
        _say(f"ICU data left whole ({exc})")
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    blob = workdir / f"{symbol}.dat"
    blob.write_bytes(package)
    asm = workdir / "icudata.S"
    asm.write_text(
        "\t.section .rodata\n"
        f"\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n{symbol}:\n"
        f'\t.incbin "{blob}"\n\t.size {symbol}, . - {symbol}\n'
        '\t.section .note.GNU-stack,"",@progbits\n'
    )
    out = workdir / original.name
    if not _link_shared(asm, original.name, out):
        return None
    _say(f"{original.name}: kept {kept} data items, dropped {dropped}: "
         f"{original.stat().st_size / 1e6:.1f} -> {out.stat().st_size / 1e6:.1f} MB")
    return out


def build_qt_stubs(workdir: Path) -> dict[str, Path]:
    """Stand-ins for libQt6Quick.so.6 and libQt6Qml.so.6 (name -> path); empty without a compiler.

    The Qml stub is empty: the FFmpeg plugin lists libQt6Qml in DT_NEEDED but uses none of its
    symbols. Both define the Qt_6 symbol version the real libraries carry.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    version_script = workdir / "qt6.map"
    version_script.write_text("Qt_6 { global: *; };\n")
    stubs = {}
    for soname, text in (("libQt6Quick.so.6", _QUICK_STUB_C),
                         ("libQt6Qml.so.6", "/* Stand-in for libQt6Qml.so.6: no symbols. */\n")):
        source = workdir / (soname.split(".")[0] + "_stub.c")
        source.write_text(text)
        out = workdir / soname
        if _link_shared(source, soname, out, f"-Wl,--version-script,{version_script}"):
            stubs[soname] = out
    return stubs if len(stubs) == 2 else {}
