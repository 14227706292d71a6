#!/usr/bin/env bash
# deploy.k8s: the Kubernetes manifests (deploy/k8s) against the Kubernetes
# schemas (strict), the restricted Pod Security Standard, their own
# references and the producer's rollout/drain rules (k8s_check.py), then
# the checker's self-test (known-bad variants must be reported). When
# kubectl is installed, the kustomize output of the base and of the example
# overlay is checked too.
set -euo pipefail
src=${CDC_SOURCE_DIR:?}
build=${CDC_BUILD_DIR:?}
py=$("$src/tests/deploy/venv.sh" "$build")
version=$(sed -n 's/^project(followcdc VERSION \([0-9.]*\).*/\1/p' \
        "$src/CMakeLists.txt")
[ -n "$version" ] || { echo "FAIL: no project version"; exit 1; }

extra=()
if command -v kubectl >/dev/null 2>&1; then
        out=$(mktemp -d)
        trap 'rm -rf "$out"' EXIT
        for k in base overlays/example; do
                f=$out/$(echo "$k" | tr / -).yaml
                kubectl kustomize "$src/deploy/k8s/$k" >"$f"
                extra+=(--extra "$f")
        done
else
        echo "k8s: kubectl not installed: kustomize output not rendered" \
             "(kustomization files are still checked)"
fi

cd "$src"
"$py" tests/deploy/k8s_check.py deploy/k8s --project-version "$version" \
        "${extra[@]}"
"$py" tests/deploy/k8s_check.py deploy/k8s --project-version "$version" \
        --self-test
echo "PASS: deploy.k8s"
