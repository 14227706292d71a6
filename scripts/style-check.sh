#!/usr/bin/env bash
# Style checks of the C sources (common producer consumer devbroker bench
# tests), also run by `cmake --build <dir> --target style-check`.
#
# 1. Banned functions: sprintf( strcat( strncpy( strtok( gets( sscanf(
#    atoi( outside comments and string literals. Any hit FAILS (exit 1).
#    Use snprintf, a length-tracked copy, strtok_r or a hand parser,
#    strtol/strtoull with end-pointer and errno checks.
# 2. clang-format --dry-run against .clang-format: files that would change
#    fail the check (CDC_STYLE_STRICT=0 only reports them).
#
# Usage: scripts/style-check.sh [FILE...]   (default: every *.c / *.h)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"

if [ "$#" -gt 0 ]; then
        files=("$@")
else
        mapfile -t files < <(find common producer consumer devbroker bench \
                tests -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null |
                LC_ALL=C sort)
fi
if [ "${#files[@]}" -eq 0 ]; then
        echo "style-check: no C sources" >&2
        exit 0
fi

rc=0

# ---- 1. banned functions -------------------------------------------------
# Comments and string/char literals are blanked first (line numbers kept),
# so a comment that says "no sprintf(" is not a hit.
if ! /usr/bin/python3 - "${files[@]}" <<'EOF'
import re
import sys

BANNED = re.compile(r'\b(sprintf|strcat|strncpy|strtok|gets|sscanf|atoi)\s*\(')
TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|'
                   r"'(?:\\.|[^'\\\n])*'", re.S)


def blank(m):
    # keep newlines so line numbers stay right
    return re.sub(r'[^\n]', ' ', m.group(0))


hits = 0
for path in sys.argv[1:]:
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            text = f.read()
    except OSError as e:
        print(f'style-check: {path}: {e}', file=sys.stderr)
        hits += 1
        continue
    code = TOKEN.sub(blank, text)
    for no, line in enumerate(code.split('\n'), 1):
        for m in BANNED.finditer(line):
            print(f'{path}:{no}: banned function {m.group(1)}()',
                  file=sys.stderr)
            hits += 1
sys.exit(1 if hits else 0)
EOF
then
        echo "style-check: FAIL: banned functions (see STYLE.md)" >&2
        rc=1
else
        echo "style-check: banned functions: none in ${#files[@]} files" >&2
fi

# ---- 2. clang-format -----------------------------------------------------
if command -v clang-format >/dev/null 2>&1; then
        unformatted=()
        for f in "${files[@]}"; do
                if ! clang-format --dry-run --Werror --style=file "$f" \
                        >/dev/null 2>&1; then
                        unformatted+=("$f")
                fi
        done
        if [ "${#unformatted[@]}" -gt 0 ]; then
                echo "style-check: clang-format would change" \
                        "${#unformatted[@]} of ${#files[@]} files:" >&2
                printf '  %s\n' "${unformatted[@]}" >&2
                echo "  (fix: clang-format -i FILE; see the diff with" \
                        "clang-format FILE | diff FILE -)" >&2
                if [ "${CDC_STYLE_STRICT:-1}" = 1 ]; then
                        rc=1
                fi
        else
                echo "style-check: clang-format: all ${#files[@]} files clean" >&2
        fi
else
        echo "style-check: clang-format not installed, skipped" >&2
        [ "${CDC_STYLE_STRICT:-1}" = 1 ] && rc=1
fi

exit "$rc"
