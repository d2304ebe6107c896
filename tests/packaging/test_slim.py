"""packaging/linux/slim.py on the real PySide6 wheel of this venv (fast; no bundle build).

The slow bundle tests prove the trimmed ICU data and the QtQuick/QtQml stubs at run time; these
check the package rewrite itself: what is dropped, that kept items come through byte for byte,
and that the result is again a valid package.
"""

from __future__ import annotations

import importlib.util
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("readelf") is None,
    reason="Linux wheel libraries, binutils",
)

ROOT = Path(__file__).resolve().parents[2]


def load_slim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("slim", ROOT / "packaging" / "linux" / "slim.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wheel_qt_lib() -> Path:
    spec = importlib.util.find_spec("PySide6")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "Qt" / "lib"


def items(package: bytes) -> dict[str, bytes]:
    """name -> item bytes (with alignment padding stripped) of an ICU common-data package."""
    header = struct.unpack_from("<H", package, 0)[0]
    count = struct.unpack_from("<I", package, header)[0]
    toc = [struct.unpack_from("<II", package, header + 4 + 8 * i) for i in range(count)]
    ends = [off for _, off in toc[1:]] + [len(package) - header]
    out = {}
    for (name_off, data_off), end in zip(toc, ends, strict=True):
        stop = package.index(b"\0", header + name_off)
        name = package[header + name_off:stop].decode("ascii").split("/", 1)[1]
        out[name] = package[header + data_off:header + end].rstrip(b"\0")
    return out


@pytest.fixture(scope="module")
def icu() -> tuple[bytes, bytes]:
    slim = load_slim()
    libs = sorted(wheel_qt_lib().glob("libicudata.so.*"))
    if not libs:
        pytest.skip("this PySide6 wheel carries no ICU")
    symbol = "icudt" + libs[0].name.rsplit(".", 1)[1] + "_dat"
    original = slim._symbol_bytes(libs[0], symbol)
    trimmed, kept, dropped = slim.trim_common_data(original)
    assert kept > 1000 and dropped > 2000
    return original, trimmed


def test_icu_trim_keeps_what_qt_uses_and_drops_the_rest(icu: tuple[bytes, bytes]) -> None:
    original, trimmed = icu
    before, after = items(original), items(trimmed)
    assert len(trimmed) < len(original) / 3
    # Collation, time zones, locale bundles and single-byte codecs stay, byte for byte.
    for name in ("coll/root.res", "coll/de.res", "coll/zh.res", "coll/ucadata.icu",
                 "zoneinfo64.res", "metaZones.res", "zone/en.res", "root.res", "de.res",
                 "cnvalias.icu", "ibm-5347_P100-1998.cnv"):
        assert after[name] == before[name], name
    # What Qt never asks ICU for is gone, and so are the multi-byte codec tables.
    for name in ("brkitr/cjdict.dict", "translit/root.res", "unit/de.res", "lang/fr.res",
                 "curr/ja.res", "region/en.res", "rbnf/en.res", "zone/de.res", "gb18030.cnv",
                 "unames.icu"):
        assert name in before and name not in after, name
    # Names stay sorted: ICU finds items by binary search.
    assert list(after) == sorted(after)


def test_icu_trim_output_is_a_valid_package(icu: tuple[bytes, bytes], tmp_path: Path) -> None:
    _, trimmed = icu
    slim = load_slim()
    again, _, dropped = slim.trim_common_data(trimmed)
    assert dropped == 0 and items(again) == items(trimmed)
    icupkg = shutil.which("icupkg")
    if icupkg is None:
        return  # the round trip above is the check without ICU's own tool
    header = struct.unpack_from("<H", trimmed, 0)[0]
    first_name = header + struct.unpack_from("<I", trimmed, header + 4)[0]
    prefix = trimmed[first_name:trimmed.index(b"/", first_name)].decode("ascii")  # icudt73l
    dat = tmp_path / f"{prefix}.dat"  # icupkg insists on the package's own name
    dat.write_bytes(trimmed)
    listing = subprocess.run([icupkg, "-l", str(dat)], capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    assert "depends on missing item" not in listing.stdout + listing.stderr
    assert len(listing.stdout.split()) == len(items(trimmed))

