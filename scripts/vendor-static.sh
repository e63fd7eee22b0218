#!/usr/bin/env bash
# Copy the browser assets Voice serves from their npm registry packages into src/voice/static/vendor.
# The app never loads anything from a CDN; re-run this script (and commit) to upgrade a version.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX=2.0.11
BOOTSTRAP=5.3.9
PLEX_ARABIC=5.3.0
SWAGGER=5.35.0
AXE=4.14.1

out=src/voice/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch NAME VERSION → unpacked package folder
  local name=$1 version=$2
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  local tgz
  tgz=$(ls "$work"/*.tgz | head -1)
  rm -rf "$work/package" && tar -xzf "$tgz" -C "$work" && rm -f "$tgz"
  echo "$work/package"
}

rm -rf "$out" && mkdir -p "$out"/{htmx,bootstrap,fonts/ibm-plex-sans-arabic,swagger-ui}

p=$(fetch htmx.org $HTMX)
cp "$p/dist/htmx.min.js" "$out/htmx/htmx.min.js"; cp "$p/LICENSE" "$out/htmx/LICENSE"

p=$(fetch bootstrap $BOOTSTRAP)
cp "$p/dist/css/bootstrap.rtl.min.css" "$p/dist/css/bootstrap.min.css" "$out/bootstrap/"; cp "$p/LICENSE" "$out/bootstrap/LICENSE"

p=$(fetch @fontsource/ibm-plex-sans-arabic $PLEX_ARABIC)
for w in 400 500 700; do
  for s in arabic latin; do
    cp "$p/files/ibm-plex-sans-arabic-$s-$w-normal.woff2" "$out/fonts/ibm-plex-sans-arabic/"
  done
done
cp "$p/LICENSE" "$out/fonts/ibm-plex-sans-arabic/LICENSE"

p=$(fetch swagger-ui-dist $SWAGGER)
cp "$p/swagger-ui-bundle.js" "$p/swagger-ui.css" "$p/swagger-ui-standalone-preset.js" "$out/swagger-ui/"
cp "$p/LICENSE" "$out/swagger-ui/LICENSE"

# axe-core is used only by the accessibility tests (loaded from disk into the browser), so it lives
# with the tests rather than among the files the app serves.
axe_out=tests/browser/vendor/axe-core
rm -rf "$axe_out" && mkdir -p "$axe_out"
p=$(fetch axe-core $AXE)
cp "$p/axe.min.js" "$axe_out/"; cp "$p/LICENSE" "$axe_out/LICENSE" 2>/dev/null || cp "$p/LICENSE.txt" "$axe_out/LICENSE"

cat > "$out/VERSIONS" <<VERS
htmx.org $HTMX
bootstrap $BOOTSTRAP
@fontsource/ibm-plex-sans-arabic $PLEX_ARABIC
swagger-ui-dist $SWAGGER
axe-core $AXE
VERS
du -sh "$out"
