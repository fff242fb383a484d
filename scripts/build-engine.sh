#!/usr/bin/env bash
# Build the Pulumi engine from the Go module proxy into bin/ (git-ignored): the `pulumi` CLI, the
# Python language host and the two Python scripts that ship beside them in a release. Idempotent:
# skips when bin/ already holds binaries built from the same go.mod/go.sum/sources. Reuses Go's
# module and build caches (GOMODCACHE, GOCACHE: default locations under $HOME unless set).
# On failure it writes the reason to bin/ENGINE-UNAVAILABLE.txt (the e2e tests skip with it) and
# exits non-zero. Details and measured build times: docs/engine.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WRAPPER=$ROOT/tools/pulumi-engine
BIN=$ROOT/bin
UNAVAILABLE=$BIN/ENGINE-UNAVAILABLE.txt
STAMP=$BIN/.engine-stamp
CLI_PACKAGE=github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
SDK_MODULE=github.com/pulumi/pulumi/sdk/v3
START=$(date +%s)

say() { printf '[build-engine %3ss] %s\n' "$(($(date +%s) - START))" "$*"; }

fail() {
  mkdir -p "$BIN"
  printf 'The Pulumi engine could not be built by scripts/build-engine.sh: %s\n' "$1" >"$UNAVAILABLE"
  say "FAILED: $1" >&2
  exit 1
}

command -v go >/dev/null 2>&1 || fail "no Go toolchain on PATH (need go >= the go line of tools/pulumi-engine/go.mod)"

# The engine version is the pkg/v3 version the wrapper requires; one place to change it.
VERSION=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2; exit }' "$WRAPPER/go.mod")
[[ $VERSION == v3.* ]] || fail "could not read the github.com/pulumi/pulumi/pkg/v3 version from $WRAPPER/go.mod"
PINNED_SDK=$(sed -n 's/^pulumi==\([0-9.]*\).*/\1/p' requirements.txt)
LDFLAGS="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION"
# The release build's tags (pulumi's .goreleaser.yml); no cgo, so the binaries are static like the
# release ones and the build needs no C compiler.
TAGS=osusergo,grpcnotrace
export CGO_ENABLED=0

# The stamp ties bin/ to the exact inputs; a change in any of them rebuilds.
inputs_digest() {
  { echo "$VERSION $LDFLAGS $TAGS $CGO_ENABLED $(go env GOVERSION)"
    cat "$WRAPPER/go.mod" "$WRAPPER/go.sum"
    find "$WRAPPER" -name '*.go' -print0 | sort -z | xargs -0 cat
  } | sha256sum | cut -d' ' -f1
}
DIGEST=$(inputs_digest)

installed_version() { "$BIN/pulumi" version 2>/dev/null || true; }

if [[ -x $BIN/pulumi && -x $BIN/pulumi-language-python && -x $BIN/pulumi-language-python-exec &&
      -x $BIN/pulumi-resource-pulumi-python && -f $STAMP && $(cat "$STAMP") == "$DIGEST" &&
      $(installed_version) == "$VERSION" ]]; then
  rm -f "$UNAVAILABLE"
  say "bin/ already has the Pulumi engine $VERSION; nothing to do"
  exit 0
fi

say "building the Pulumi engine $VERSION (requirements.txt pins the Python SDK pulumi==$PINNED_SDK)"
say "go: $(go env GOVERSION); GOMODCACHE=$(go env GOMODCACHE); GOCACHE=$(go env GOCACHE)"
say "a cold build downloads ~1.5 GB of modules and compiles for several minutes; warm builds reuse the caches"

cd "$WRAPPER"
say "downloading modules (verified against the committed go.sum)"
go mod download || fail "go mod download failed in tools/pulumi-engine (is the Go module proxy reachable? see the output above)"

SDK_DIR=$(go list -m -f '{{.Dir}}' "$SDK_MODULE") || fail "could not locate $SDK_MODULE in the module cache"
EXEC_SCRIPT=$SDK_DIR/python/cmd/pulumi-language-python-exec
DYNAMIC_LAUNCHER=$SDK_DIR/python/dist/pulumi-resource-pulumi-python
for script in "$EXEC_SCRIPT" "$DYNAMIC_LAUNCHER"; do
  [[ -f $script ]] || fail "$script is missing from the $SDK_MODULE module download"
done

STAGE=$BIN/.stage
rm -rf "$STAGE"
mkdir -p "$STAGE"
say "compiling $CLI_PACKAGE and ./pulumi-language-python (-trimpath -tags $TAGS, CGO_ENABLED=0, version $VERSION)"
go build -trimpath -tags "$TAGS" -ldflags "$LDFLAGS" -o "$STAGE/" "$CLI_PACKAGE" ./pulumi-language-python ||
  fail "go build failed (see the compiler output above)"

say "copying pulumi-language-python-exec and pulumi-resource-pulumi-python from $SDK_MODULE"
# Module-cache files are read-only and not executable.
install -m 0755 "$EXEC_SCRIPT" "$STAGE/pulumi-language-python-exec"
install -m 0755 "$DYNAMIC_LAUNCHER" "$STAGE/pulumi-resource-pulumi-python"

built=$("$STAGE/pulumi" version 2>/dev/null || true)
[[ $built == "$VERSION" ]] || fail "the built bin/pulumi reports version '$built', expected $VERSION"

for file in pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python; do
  mv -f "$STAGE/$file" "$BIN/$file"
done
rmdir "$STAGE"
echo "$DIGEST" >"$STAMP"
rm -f "$UNAVAILABLE"
say "done: $(cd "$BIN" && ls pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python | tr '\n' ' ')"
say "bin/pulumi version: $("$BIN/pulumi" version)"
