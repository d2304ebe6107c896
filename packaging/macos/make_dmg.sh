#!/usr/bin/env bash
# macOS: build dist/bluesdesk.app with the shared spec, optionally sign it, and wrap it in
# dist/bluesdesk-VERSION-macos-ARCH.dmg (drag-to-Applications layout) with hdiutil.
#   BLUESDESK_CODESIGN_IDENTITY="Developer ID Application: …"  sign the .app (spec + here)
#   NOTARY_PROFILE=name   submit the dmg with `xcrun notarytool` and staple the ticket
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
VERSION=$("$PY" -c 'import importlib.metadata as m; print(m.version("bluesdesk"))')
"$PY" -m PyInstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/bluesdesk.spec
app=dist/bluesdesk.app
[[ -d $app ]] || { echo "make_dmg: $app was not built" >&2; exit 1; }
if [[ -n ${BLUESDESK_CODESIGN_IDENTITY:-} ]]; then
  codesign --force --deep --options runtime --timestamp \
    --entitlements packaging/macos/entitlements.plist --sign "$BLUESDESK_CODESIGN_IDENTITY" "$app"
  codesign --verify --strict --verbose=2 "$app"
fi
staging=build/dmg
rm -rf "$staging"; mkdir -p "$staging"
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
dmg=dist/bluesdesk-$VERSION-macos-$(uname -m).dmg
rm -f "$dmg"
hdiutil create -volname "bluesdesk $VERSION" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$dmg"
if [[ -n ${NOTARY_PROFILE:-} ]]; then
  xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
  xcrun stapler staple "$dmg"
fi
echo "make_dmg: $dmg"
