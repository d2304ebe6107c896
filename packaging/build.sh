#!/usr/bin/env bash
# Build bluesdesk for people who do not know Python (`make dist` calls this).
#
#   bash packaging/build.sh                 # PyInstaller bundle, then (Linux) .tar.gz and .deb
#   bash packaging/build.sh --package-only  # reuse dist/bluesdesk, redo the .tar.gz and .deb
#
# Everything lands in dist/: dist/bluesdesk/ (the one-folder app), and on Linux
# bluesdesk-VERSION-linux-ARCH.tar.gz and bluesdesk_VERSION_DEBARCH.deb. The version comes from
# the installed package's metadata. Windows (.exe installer) and macOS (.app/.dmg) use the same
# spec; see packaging/README.md and .github/workflows/release.yml.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
package_only=0
[[ ${1:-} == --package-only ]] && package_only=1

VERSION=$("$PY" -c 'import importlib.metadata as m; print(m.version("bluesdesk"))')
echo "build: bluesdesk $VERSION"

if ((!package_only)); then
  if ! "$PY" -c 'import PyInstaller' 2>/dev/null; then
    echo "build: installing PyInstaller (the 'packaging' extra)"
    "$PY" -m pip install -q "pyinstaller>=6.22"
  fi
  "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/bluesdesk.spec
fi
[[ -x dist/bluesdesk/bluesdesk || -x dist/bluesdesk/bluesdesk.exe || -d dist/bluesdesk.app ]] || {
  echo "build: no bundle in dist/ (run without --package-only)" >&2; exit 1; }

[[ $(uname -s) == Linux ]] || { echo "build: bundle ready in dist/"; exit 0; }

# --- .tar.gz: the bundle folder, renamed with its version ---------------------------------------
arch=$(uname -m)
tarball=dist/bluesdesk-$VERSION-linux-$arch.tar.gz
tar -C dist --transform "s,^bluesdesk,bluesdesk-$VERSION," -czf "$tarball" bluesdesk
echo "build: $tarball ($(du -h "$tarball" | cut -f1))"

# --- .deb: a staged root ------------------------------------------------------------------------
command -v dpkg-deb >/dev/null || { echo "build: dpkg-deb missing; no .deb" >&2; exit 0; }
debarch=$(dpkg --print-architecture)
stage=build/deb/root
rm -rf build/deb
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
  "$stage/usr/share/metainfo" "$stage/usr/share/doc/bluesdesk" \
  "$stage/usr/share/icons/hicolor/scalable/apps"
cp -a dist/bluesdesk "$stage/opt/bluesdesk"
# The bootloader finds its _internal folder through /proc/self/exe, so a symlink is enough.
ln -s /opt/bluesdesk/bluesdesk "$stage/usr/bin/bluesdesk"
install -m 644 packaging/linux/bluesdesk.desktop "$stage/usr/share/applications/"
date_ymd=$(date -u ${SOURCE_DATE_EPOCH:+-d @$SOURCE_DATE_EPOCH} +%Y-%m-%d)
sed "s/@VERSION@/$VERSION/; s/@DATE@/$date_ymd/" packaging/linux/io.github.bluesdesk.metainfo.xml \
  > "$stage/usr/share/metainfo/io.github.bluesdesk.metainfo.xml"
install -m 644 packaging/linux/copyright "$stage/usr/share/doc/bluesdesk/copyright"
for png in resources/icons/bluesdesk-*.png; do
  size=${png##*-}; size=${size%.png}
  install -D -m 644 "$png" "$stage/usr/share/icons/hicolor/${size}x${size}/apps/bluesdesk.png"
done
install -m 644 resources/icons/bluesdesk.svg "$stage/usr/share/icons/hicolor/scalable/apps/"
# No maintainer scripts: the icon cache and desktop database are refreshed by the file triggers
# of hicolor-icon-theme and desktop-file-utils.
depends=$("$PY" packaging/linux/deb_depends.py dist/bluesdesk)
size_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$debarch/" -e "s/@SIZE_KB@/$size_kb/" \
  -e "s/@DEPENDS@/$depends/" packaging/linux/control.in > "$stage/DEBIAN/control"
deb=dist/bluesdesk_${VERSION}_$debarch.deb
# gzip: a few seconds instead of a minute of xz, for a 10% larger file.
dpkg-deb --root-owner-group -Zgzip --build "$stage" "$deb" >/dev/null
echo "build: $deb ($(du -h "$deb" | cut -f1))"

# --- checks -------------------------------------------------------------------------------------
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
if ! command -v desktop-file-validate >/dev/null && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends desktop-file-utils >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends desktop-file-utils >/dev/null; }
fi
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$stage/usr/share/applications/bluesdesk.desktop"
  echo "build: desktop-file-validate OK"
else
  echo "build: desktop-file-validate not available; .desktop not checked" >&2
fi
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net --pedantic "$stage/usr/share/metainfo/io.github.bluesdesk.metainfo.xml" \
    | tail -n 1
fi
