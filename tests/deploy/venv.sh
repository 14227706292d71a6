#!/usr/bin/env bash
# tests/deploy/venv.sh BUILD_DIR: make sure BUILD_DIR/deploy-venv holds the
# pinned packages of tests/deploy/requirements.txt (from PyPI, once per
# build directory; concurrent callers wait on a lock) and print the path
# of its python. Needs /usr/bin/python3 with venv (python3-venv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: venv.sh BUILD_DIR}
venv=$build/deploy-venv
req=$here/requirements.txt
mkdir -p "$build"
exec 9>"$build/deploy-venv.lock"
flock 9
if [ -x "$venv/bin/python" ] && cmp -s "$req" "$venv/requirements.txt"; then
        echo "$venv/bin/python"
        exit 0
fi
rm -rf "$venv"
log=$build/deploy-venv.log
if ! { /usr/bin/python3 -m venv "$venv" &&
       "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
               --no-input -r "$req"; } >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        echo "venv.sh: could not create $venv (log: $log)" >&2
        rm -rf "$venv"
        exit 1
fi
cp "$req" "$venv/requirements.txt"
echo "$venv/bin/python"
