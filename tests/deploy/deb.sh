#!/usr/bin/env bash
# deploy.deb: `cpack -G DEB` builds followcdc and followcdc-devbroker
# packages from this build; their contents are what deploy/install.cmake
# promises; the extracted binaries run (--version, --dump-config with the
# packaged sample configurations); the systemd units parse
# (systemd-analyze verify) and point at the packaged binaries and man
# pages. In CI (CI=true, or CDC_TEST_DEB_INSTALL=1) the packages are also
# installed with dpkg -i on this machine (their Depends must be met by
# Debian 12 packages), run from /usr/bin, and purged again.
set -euo pipefail
src=${CDC_SOURCE_DIR:?}
build=${CDC_BUILD_DIR:?}
fail() { echo "FAIL: $*"; exit 1; }
version=$(sed -n 's/^project(followcdc VERSION \([0-9.]*\).*/\1/p' \
        "$src/CMakeLists.txt")
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
installed=0
cleanup() {
        if [ "$installed" = 1 ]; then
                dpkg --purge followcdc followcdc-devbroker >/dev/null 2>&1 || true
        fi
        rm -rf "$work"
}
trap cleanup EXIT

(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) ||
        { tail -n 30 "$work/cpack.log"; fail "cpack -G DEB"; }
deb=$work/pkg/followcdc_${version}_${arch}.deb
devdeb=$work/pkg/followcdc-devbroker_${version}_${arch}.deb
[ -f "$deb" ] && [ -f "$devdeb" ] || fail "packages missing: $(ls "$work/pkg")"

dpkg-deb -f "$deb" Depends | grep -q 'librdkafka1' ||
        fail "Depends lacks librdkafka1: $(dpkg-deb -f "$deb" Depends)"
want=(./usr/bin/followcdc-producer ./usr/bin/followcdc-consumer
      ./usr/bin/followcdc-verify ./usr/share/man/man1/followcdc-verify.1.gz
      ./usr/share/man/man1/followcdc-producer.1.gz
      ./usr/share/man/man1/followcdc-consumer.1.gz
      ./usr/share/doc/followcdc/examples/producer.conf.sample
      ./usr/share/doc/followcdc/examples/consumer.conf.sample
      ./usr/lib/systemd/system/followcdc-producer.service
      ./usr/lib/systemd/system/followcdc-consumer.service)
list=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in "${want[@]}"; do
        grep -qxF "$f" <<<"$list" || fail "followcdc.deb lacks $f"
done
grep -q 'devbroker' <<<"$list" && fail "the dev broker is in followcdc.deb"
dpkg-deb -c "$devdeb" | grep -q ' ./usr/bin/followcdc-devbroker$' ||
        fail "followcdc-devbroker.deb lacks the binary"

# run what is inside: ROOT/usr/bin/..., samples from ROOT
run_checks() { # ROOT (empty: the installed system)
        local r=$1 b ex
        ex=$r/usr/share/doc/followcdc/examples
        for b in producer consumer; do
                "$r/usr/bin/followcdc-$b" --version |
                        grep -q "^followcdc-$b $version " ||
                        fail "followcdc-$b --version"
                "$r/usr/bin/followcdc-$b" -c "$ex/$b.conf.sample" \
                        --dump-config >"$work/dump" ||
                        fail "followcdc-$b --dump-config with the sample"
                grep -q '^source.name=followcdc$' "$work/dump" ||
                        fail "followcdc-$b --dump-config: no source.name"
                zcat "$r/usr/share/man/man1/followcdc-$b.1.gz" |
                        LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z 2>&1 |
                        grep . && fail "man page followcdc-$b: warnings"
                unit=$r/usr/lib/systemd/system/followcdc-$b.service
                grep -qx "ExecStart=/usr/bin/followcdc-$b --config /etc/followcdc/$b.conf" \
                        "$unit" || fail "$unit: ExecStart"
                # parse errors name the file and line; environment noise
                # (no systemd running here) does not
                if command -v systemd-analyze >/dev/null; then
                        out=$(systemd-analyze verify --man=no "$unit" 2>&1 || true)
                        if grep -E '\.service:[0-9]+:' <<<"$out"; then
                                fail "$unit does not parse"
                        fi
                        if [ -z "$r" ] && grep 'is not executable' <<<"$out"; then
                                fail "$unit: binary missing"
                        fi
                fi
        done
}

dpkg-deb -x "$deb" "$work/root"
run_checks "$work/root"
echo "deb: $(basename "$deb") ($(stat -c %s "$deb") bytes) extracted and run"

if [ "${CI:-}" = true ] || [ "${CDC_TEST_DEB_INSTALL:-0}" = 1 ]; then
        if dpkg -s followcdc >/dev/null 2>&1; then
                fail "a followcdc package is already installed; not touching it"
        fi
        installed=1
        dpkg -i "$deb" "$devdeb" >"$work/dpkg.log" 2>&1 ||
                { cat "$work/dpkg.log"; fail "dpkg -i"; }
        run_checks ""
        followcdc-devbroker --version >/dev/null || fail "devbroker --version"
        man -w followcdc-producer >/dev/null || fail "man -w followcdc-producer"
        dpkg --purge followcdc followcdc-devbroker >/dev/null ||
                fail "dpkg --purge"
        installed=0
        [ ! -e /usr/bin/followcdc-producer ] || fail "purge left the binary"
        echo "deb: installed with dpkg -i, run from /usr/bin, purged"
else
        echo "deb: not installed (set CDC_TEST_DEB_INSTALL=1; CI does)"
fi
echo "PASS: deploy.deb"
