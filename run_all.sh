#!/usr/bin/env bash
# run_all.sh runs the whole workbook in the guide's order: 00-setup, the three
# tasks, then the extras, each under a header.
#
# It works in a fresh scratch folder, so your own users.db and log files are
# never touched and the repository stays clean. Give a folder to work there
# instead (it is created if missing):
#
#   ./run_all.sh            # in a new scratch folder
#   ./run_all.sh ~/my-run   # in ~/my-run
#
# It builds every lesson once and runs the programs it built: the same
# programs that `go run ./LESSON` builds and runs one at a time. It stops at
# the first lesson that fails, with that lesson's exit status.
set -euo pipefail

lessons=(
	00-setup
	0-databaseconnection
	1-execute
	3-concurrent
	extras/transactional-connection
	extras/transactional-query
	extras/async-connection
	extras/nested
	extras/async-query
	extras/pooling
	extras/debug-race
	extras/debug-locked
	extras/debug-invalid-query
	extras/debug-memory
)

if [ $# -gt 1 ] || [[ "${1:-}" == -* ]]; then
	echo "usage: ./run_all.sh [FOLDER]" >&2
	exit 2
fi
if ! command -v go >/dev/null 2>&1; then
	echo "run_all.sh: Go is not installed: see Prerequisites in README.md" >&2
	exit 1
fi
if [ "$(go env CGO_ENABLED)" != 1 ]; then
	echo "run_all.sh: cgo is off, and the SQLite driver needs it: install a C compiler (gcc) and set CGO_ENABLED=1" >&2
	exit 1
fi

root=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 1 ]; then
	mkdir -p "$1"
	work=$(cd "$1" && pwd)
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/workbook-run.XXXXXX")
fi
bin=$(mktemp -d "${TMPDIR:-/tmp}/workbook-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT

echo "Building all ${#lessons[@]} lessons once before running them."
echo "The first build compiles SQLite's C source and takes about a minute; later builds take seconds."
packages=()
for lesson in "${lessons[@]}"; do
	packages+=("./$lesson")
done
(cd "$root" && go build -o "$bin/" "${packages[@]}")

echo "Running in $work"
cd "$work"
for lesson in "${lessons[@]}"; do
	printf '\n=== go run ./%s ===\n' "$lesson"
	status=0
	"$bin/$(basename "$lesson")" || status=$?
	if [ "$status" -ne 0 ]; then
		echo "run_all.sh: $lesson failed with exit status $status" >&2
		exit "$status"
	fi
done
printf '\nAll %d lessons ran. Their database and log files are in %s\n' "${#lessons[@]}" "$work"
