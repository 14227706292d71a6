#!/usr/bin/env bash
# deploy.docs: what the README, docs/, the sample configurations, the
# ConfigMap, --help and the man pages show must work when copied
# (tests/deploy/docs_check.py says how).
set -euo pipefail
src=${CDC_SOURCE_DIR:?}
build=${CDC_BUILD_DIR:?}
py=$("$src/tests/deploy/venv.sh" "$build")
"$py" "$src/tests/deploy/docs_check.py" "$src" "$build/bin"
echo "PASS: deploy.docs"
