#!/bin/sh
# check_fails.sh TARGET ARGS... — runs a fuzz target that must find its
# planted crash; passes when the run fails with a status meson counts as a
# failure (not 0, and not 77, which meson reads as "skipped").
"$@" >/dev/null 2>&1
rc=$?
echo "canary fuzz run exited $rc"
[ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]
