#!/usr/bin/env bash
# deploy.man: the man pages (deploy/man/*.1) render without a groff
# warning, and every option that --help lists is documented there, with
# each exit status the help names.
set -euo pipefail
src=${CDC_SOURCE_DIR:?}
build=${CDC_BUILD_DIR:?}
fail() { echo "FAIL: $*"; exit 1; }
for b in producer consumer verify; do
        page=$src/deploy/man/followcdc-$b.1
        warn=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1)
        [ -z "$warn" ] || fail "$page: $warn"
        text=$(LC_ALL=C.UTF-8 MANWIDTH=200 groff -man -rHY=0 -Tutf8 -P-cbou "$page")
        help=$("$build/bin/followcdc-$b" --help)
        # option words at the start of a help line: -c, --config, --replay=
        opts=$(sed -n 's/^ \{1,4\}\(-[-a-zA-Z.]*\).*/\1/p; s/^ \{1,4\}-[a-zA-Z], \(--[-a-z.]*\).*/\1/p' <<<"$help" | sort -u)
        [ "$(wc -l <<<"$opts")" -ge 8 ] || fail "$b: too few options parsed: $opts"
        for o in $opts; do
                [ "$o" = "--KEY" ] && o=--key
                grep -qF -- "$o" <<<"$text" ||
                        fail "followcdc-$b(1) does not document $o"
        done
        codes=$(sed -n '/Exit status:/,/^Documentation:/p' <<<"$help" |
                grep -v '^Documentation:' | grep -oE '(^|[ :,])[0-9] ' |
                tr -dc '0-9\n' | sort -u)
        [ -n "$codes" ] || fail "$b: no exit status in --help"
        for code in $codes; do
                grep -qE "^ {7}$code( |$)" <<<"$text" ||
                        fail "followcdc-$b(1): exit status $code missing"
        done
        echo "man: followcdc-$b(1): $(wc -w <<<"$opts") options documented"
done
echo "PASS: deploy.man"
