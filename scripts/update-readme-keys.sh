#!/bin/sh
# Replaces the key table in README.md (between <!-- keys:begin --> and <!-- keys:end -->)
# with what passkey-docgen prints:  scripts/update-readme-keys.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
[ $# -eq 1 ] && [ -x "$1/passkey-docgen" ] || { echo "usage: scripts/update-readme-keys.sh BUILD_DIR (after make build)" >&2; exit 2; }
table=$(mktemp)
trap 'rm -f "$table" README.md.new' EXIT
"$1/passkey-docgen" markdown > "$table"
[ "$(grep -c '^<!-- keys:begin -->$' README.md)" = 1 ] && [ "$(grep -c '^<!-- keys:end -->$' README.md)" = 1 ] \
    || { echo "update-readme-keys: README.md needs exactly one <!-- keys:begin --> and one <!-- keys:end --> line" >&2; exit 1; }
awk -v table="$table" '
    /^<!-- keys:begin -->$/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
    /^<!-- keys:end -->$/   { skip = 0 }
    !skip
' README.md > README.md.new
mv README.md.new README.md
