#!/bin/sh
# Runs a LAVA test definition's steps here, as LAVA would on the device: writes run.sh the way the
# dispatcher does (params as shell variables, job parameters after them, set -e, STARTRUN/ENDRUN signals;
# tests/lava/definition.ts), puts the lava-test-case/lava-test-set recorders of this directory first on
# PATH, and runs it with /bin/sh in a work directory. Signals go to stdout as on a serial console; the
# recorders also append theirs to $LAVA_RECORD (default: <work directory>/lava-record.txt).
#
#   tests/lava/run_definition.sh [--emit] [--workdir DIR] DEFINITION.yaml [NAME=VALUE...]
#
# NAME=VALUE (or an environment variable named like a param) overrides a param. --emit prints run.sh
# instead of running it, to copy it to a board that has no Deno. Exit status: that of run.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
deno="${DENO:-$here/../../node_modules/.bin/deno}"
emit=false
workdir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --emit) emit=true; shift ;;
        --workdir) workdir=$2; shift 2 ;;
        *) break ;;
    esac
done
if [ $# -lt 1 ]; then
    echo "Usage: run_definition.sh [--emit] [--workdir DIR] DEFINITION.yaml [NAME=VALUE...]" >&2
    exit 2
fi
script=$("$deno" run --allow-read --allow-env --no-prompt "$here/definition.ts" "$@")
if [ "$emit" = true ]; then
    printf '%s\n' "$script"
    exit 0
fi
if [ -z "$workdir" ]; then
    workdir=$(mktemp -d "${TMPDIR:-/tmp}/dmabuf-lava.XXXXXX")
fi
mkdir -p "$workdir"
printf '%s\n' "$script" > "$workdir/run.sh"
cd "$workdir"
export LAVA_RECORD="${LAVA_RECORD:-$workdir/lava-record.txt}"
PATH="$here:$PATH" exec /bin/sh ./run.sh
