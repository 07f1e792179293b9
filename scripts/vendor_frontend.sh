#!/usr/bin/env bash
# Vendor the browser-side files motcua serves itself (no CDN is allowed on
# kiosks, hall displays or counter PCs).
#
#   scripts/vendor_frontend.sh           fetch the pinned npm tarballs, verify
#                                        their integrity, copy the files into
#                                        motcua/static/vendor/, write VERSIONS.md
#   scripts/vendor_frontend.sh --check   offline: verify the files on disk
#                                        against the sha256 in VERSIONS.md
#
# Needs: bash, npm (only for fetching), tar, sha256sum, openssl, python3.
# To upgrade a package: change its version AND its integrity below (take the
# integrity from `npm view <pkg>@<version> dist.integrity`), then re-run.
set -euo pipefail

SOCKETIO_VERSION=4.8.4
SOCKETIO_INTEGRITY='sha512-7wjKAvVXYOJsbmUgkWbnhPD4bFpkqrUR0++XOjpGFmqDqsqV1CI93VTraeExLxpjxEqrWgFoSRZu1ihjLWfkAA=='
CHARTJS_VERSION=4.6.1
CHARTJS_INTEGRITY='sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g=='
FONT_VERSION=5.3.0
FONT_INTEGRITY='sha512-xhAQBGHDxP5BF8IJxedy5MoWUmc1DlPCcZbMLhvnPkf8TaYCbbUVs3LjpuJ4BYdTrdiCLaewNaY8z+owq/FqFw=='
FONT_WEIGHTS=(400 600 700 800)
# Order matters: where unicode-ranges overlap, the face declared last wins
# (same order as Fontsource's own CSS).
FONT_SUBSETS=(vietnamese latin-ext latin)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/motcua/static/vendor"

if [[ "${1:-}" == "--check" ]]; then
    cd "$VENDOR"
    # Table rows of VERSIONS.md look like: | pkg | version | licence | `file` | `sha256` |
    sums="$(sed -n 's/^|[^|]*|[^|]*|[^|]*| `\([^`]*\)` | `\([0-9a-f]\{64\}\)` |$/\2  \1/p' VERSIONS.md)"
    [[ -n "$sums" ]] || { echo "no checksums found in $VENDOR/VERSIONS.md" >&2; exit 1; }
    sha256sum --check --quiet <<<"$sums"
    echo "vendored files match VERSIONS.md ($(wc -l <<<"$sums") files)"
    exit 0
fi

command -v npm >/dev/null || { echo "npm is required (apt-get install npm)" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# fetch NAME VERSION INTEGRITY -> prints the folder holding the unpacked package
fetch() {
    local name="$1" version="$2" integrity="$3" tgz got dir
    tgz="$(cd "$TMP" && npm pack --silent "$name@$version" 2>/dev/null | tail -n 1)"
    [[ -f "$TMP/$tgz" ]] || { echo "npm pack $name@$version failed" >&2; exit 1; }
    got="sha512-$(openssl dgst -sha512 -binary "$TMP/$tgz" | base64 -w0)"
    if [[ "$got" != "$integrity" ]]; then
        echo "integrity mismatch for $name@$version: expected $integrity, got $got" >&2
        exit 1
    fi
    dir="$TMP/unpacked-${tgz%.tgz}"
    mkdir -p "$dir"
    tar -xzf "$TMP/$tgz" -C "$dir" --no-same-owner
    echo "$dir/package"
}

echo "fetching socket.io-client@$SOCKETIO_VERSION, chart.js@$CHARTJS_VERSION, @fontsource/be-vietnam-pro@$FONT_VERSION" >&2
SIO="$(fetch socket.io-client "$SOCKETIO_VERSION" "$SOCKETIO_INTEGRITY")"
CHART="$(fetch chart.js "$CHARTJS_VERSION" "$CHARTJS_INTEGRITY")"
FONT="$(fetch @fontsource/be-vietnam-pro "$FONT_VERSION" "$FONT_INTEGRITY")"

# Replace only the folders this script owns.
rm -rf "$VENDOR/socket.io" "$VENDOR/chart.js" "$VENDOR/fonts/be-vietnam-pro"
mkdir -p "$VENDOR/socket.io" "$VENDOR/chart.js" "$VENDOR/fonts/be-vietnam-pro"

# socket.io-client: the UMD build defines the global `io`.
install -m 0644 "$SIO/dist/socket.io.min.js" "$VENDOR/socket.io/socket.io.min.js"
install -m 0644 "$SIO/LICENSE" "$VENDOR/socket.io/LICENSE"

# chart.js: the UMD build defines the global `Chart` (dist/chart.js is an ES module).
chart_src="$CHART/dist/chart.umd.min.js"
[[ -f "$chart_src" ]] || chart_src="$CHART/dist/chart.umd.js"
install -m 0644 "$chart_src" "$VENDOR/chart.js/chart.umd.min.js"
install -m 0644 "$CHART/LICENSE.md" "$VENDOR/chart.js/LICENSE"

# Be Vietnam Pro: woff2 only (every browser we target reads it).
for subset in "${FONT_SUBSETS[@]}"; do
    for weight in "${FONT_WEIGHTS[@]}"; do
        install -m 0644 "$FONT/files/be-vietnam-pro-$subset-$weight-normal.woff2" \
            "$VENDOR/fonts/be-vietnam-pro/"
    done
done
install -m 0644 "$FONT/LICENSE" "$VENDOR/fonts/be-vietnam-pro/LICENSE"

# The @font-face rules, with the unicode-ranges the package declares.
python3 - "$FONT" "$VENDOR/fonts/be-vietnam-pro/be-vietnam-pro.css" "$FONT_VERSION" \
    "${FONT_WEIGHTS[*]}" "${FONT_SUBSETS[*]}" <<'PY'
import json, pathlib, re, sys

pkg, out, version, weights, subsets = sys.argv[1:]
pkg = pathlib.Path(pkg)
ranges = json.loads((pkg / "unicode.json").read_text())
# Cross-check with the package's own CSS so a format change cannot slip by.
for weight in weights.split():
    css = (pkg / f"{weight}.css").read_text()
    for subset in subsets.split():
        m = re.search(r"/\* be-vietnam-pro-" + re.escape(subset) + r"-" + weight
                      + r"-normal \*/\s*@font-face\s*\{[^}]*?unicode-range:\s*([^;]+);", css)
        if not m or m.group(1).strip() != ranges[subset]:
            sys.exit(f"unicode-range of {subset} {weight}: unicode.json and {weight}.css disagree")
lines = [
    f"/* Be Vietnam Pro, from @fontsource/be-vietnam-pro {version} (SIL OFL 1.1, see LICENSE).",
    "   Generated by scripts/vendor_frontend.sh: re-run it instead of editing.",
    "   Usage: font-family: \"Be Vietnam Pro\", system-ui, sans-serif;  weights "
    + ", ".join(weights.split()) + ". */",
]
for weight in weights.split():
    for subset in subsets.split():
        lines += [
            "",
            f"/* {subset} {weight} */",
            "@font-face {",
            "  font-family: 'Be Vietnam Pro';",
            "  font-style: normal;",
            "  font-display: swap;",
            f"  font-weight: {weight};",
            f"  src: url('./be-vietnam-pro-{subset}-{weight}-normal.woff2') format('woff2');",
            f"  unicode-range: {ranges[subset]};",
            "}",
        ]
pathlib.Path(out).write_text("\n".join(lines) + "\n")
PY

# VERSIONS.md: what is vendored, from where, under which licence, with checksums.
{
    echo "# Vendored front-end files"
    echo
    echo "Written by \`scripts/vendor_frontend.sh\` from the npm registry (tarball integrity checked)."
    echo "Do not edit by hand: change the pinned versions in the script and re-run it."
    echo "Verify offline with \`scripts/vendor_frontend.sh --check\`."
    echo
    echo "| package | version | licence | file | sha256 |"
    echo "|---|---|---|---|---|"
    row() { # package version licence relative-path
        printf '| %s | %s | %s | `%s` | `%s` |\n' "$1" "$2" "$3" "$4" \
            "$(sha256sum "$VENDOR/$4" | cut -d' ' -f1)"
    }
    row socket.io-client "$SOCKETIO_VERSION" MIT socket.io/socket.io.min.js
    row socket.io-client "$SOCKETIO_VERSION" MIT socket.io/LICENSE
    row chart.js "$CHARTJS_VERSION" MIT chart.js/chart.umd.min.js
    row chart.js "$CHARTJS_VERSION" MIT chart.js/LICENSE
    row @fontsource/be-vietnam-pro "$FONT_VERSION" OFL-1.1 fonts/be-vietnam-pro/be-vietnam-pro.css
    for subset in "${FONT_SUBSETS[@]}"; do
        for weight in "${FONT_WEIGHTS[@]}"; do
            row @fontsource/be-vietnam-pro "$FONT_VERSION" OFL-1.1 \
                "fonts/be-vietnam-pro/be-vietnam-pro-$subset-$weight-normal.woff2"
        done
    done
    row @fontsource/be-vietnam-pro "$FONT_VERSION" OFL-1.1 fonts/be-vietnam-pro/LICENSE
    echo
    echo "Files are byte-identical to the npm tarballs (the .map files they mention are not shipped;"
    echo "browsers only ask for them when DevTools is open)."
    echo "Font subsets: \`vietnamese\` + \`latin\` cover Vietnamese; \`latin-ext\` adds ĕ ŏ ŭ … (some"
    echo "ethnic-minority names). Its unicode-range overlaps Đ Ă Ơ Ư, so browsers fetch it with"
    echo "Vietnamese text too (≈13 KB per weight), exactly as with Fontsource's own CSS."
} > "$VENDOR/VERSIONS.md"

total="$(du -cb "$VENDOR/socket.io" "$VENDOR/chart.js" "$VENDOR/fonts/be-vietnam-pro" "$VENDOR/VERSIONS.md" | tail -n 1 | cut -f1)"
echo "vendored into $VENDOR ($total bytes)" >&2
