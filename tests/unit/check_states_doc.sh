#!/bin/sh
# check_states_doc.sh RECON DOC — fails (with the diff) when DOC is not
# exactly what `RECON states --markdown` prints.
set -eu
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$1" states --markdown >"$out"
if ! diff -u "$2" "$out"; then
    echo "docs/STATES.md is stale: run 'build/cli/recon states --markdown > docs/STATES.md'" >&2
    exit 1
fi
echo "states_doc: docs/STATES.md matches the classifier"
