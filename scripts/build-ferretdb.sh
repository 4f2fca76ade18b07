#!/usr/bin/env bash
# Builds FerretDB v1 (the MongoDB-protocol server the tests run against, with
# its SQLite backend) into $(go env GOPATH)/bin/ferretdb, unless a working one
# is there already. `go install …@v1.24.2` alone is not enough: the module
# proxy refuses its version listing here, and FerretDB's build expects a
# generated build/version/version.txt that the module does not ship.
set -euo pipefail
VERSION=v1.24.2
OUT="${1:-$(go env GOPATH)/bin/ferretdb}"

if [ -x "$OUT" ] && "$OUT" --version >/dev/null 2>&1; then
  echo "ferretdb: using $OUT ($("$OUT" --version 2>&1 | grep -m1 -i version || true))"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && go mod init ferretdb-build >/dev/null 2>&1 && go get "github.com/FerretDB/FerretDB@$VERSION")
src="$(go env GOMODCACHE)/github.com/!ferret!d!b/!ferret!d!b@$VERSION"
cp -r "$src" "$work/ferretdb"
chmod -R u+w "$work/ferretdb"
echo "$VERSION" > "$work/ferretdb/build/version/version.txt"
mkdir -p "$(dirname "$OUT")"
(cd "$work/ferretdb" && go build -o "$OUT" ./cmd/ferretdb)
echo "ferretdb: built $OUT"
