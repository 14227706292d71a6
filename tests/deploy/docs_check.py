#!/usr/bin/env python3
"""Keeps the documentation true where a program can tell (tests/deploy/docs.sh).

  docs_check.py SRC BINDIR

1. Every ```ini block of README.md and docs/*.md carries a marker on the
   line before it, <!-- config: producer -->, <!-- config: consumer --> or
   <!-- config: none --> (a server's my.cnf, ...); a producer or consumer
   block is loaded by that binary with --dump-config and must be accepted
   without a word on stderr.
2. deploy/*.conf.sample are accepted as they are, and with each commented
   key=value line uncommented (alone, or with the commented lines next to
   it when it needs them).
3. The configuration files in the Kubernetes ConfigMap are accepted.
4. Command lines in the docs, the man pages and --help that run a
   followcdc binary with options (-c FILE, --key=value, --replay...) are
   accepted: run with --dump-config, sample configurations standing in for
   the files they name.
5. scripts/local-run.sh --help names every FOLLOWCDC_LOCAL_* variable the
   script reads, and the env.sh it writes exports no FOLLOWCDC_* name (the
   binaries would read it as a setting).
6. Statements known to have been false stay out (STALE below).
A `file:/path` secret names a path on the reader's machine: it is replaced
by a temporary file before loading.
"""

import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile

import yaml

STALE = [
    ("MariaDB 10.5+ is tested", "only MariaDB 10.11 is tested"),
    ("only logs \"not built yet\"", "local-run.sh runs the pipeline"),
    ("**fails today**", "0055 and 0056 pass"),
    ("compared as fixed-width text", "versions compare as numbers "
     "(schemas/redis.md)"),
    ("should treat it as a reason to re-snapshot", "no TRUNCATE re-snapshot "
     "exists"),
]

problems = []
runs = [0]
tmp = tempfile.mkdtemp()
SECRET = os.path.join(tmp, "secret")
with open(SECRET, "w") as f:
    f.write("x\n")
SAMPLE = {}


def fail(where, why):
    problems.append(f"{where}: {why}")


def desecret(text):
    return re.sub(r"=file:\S+", "=file:" + SECRET, text)


def dump(binary, conf_text, extra=(), where="?"):
    path = os.path.join(tmp, "conf")
    with open(path, "w") as f:
        f.write(desecret(conf_text))
    return run(binary, ["-c", path] + list(extra), where)


def run(binary, args, where):
    runs[0] += 1
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    r = subprocess.run([BIN[binary]] + args + ["--dump-config"],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0 or r.stderr.strip():
        fail(where, f"followcdc-{binary} {' '.join(args)} --dump-config: "
                    f"exit {r.returncode}: {r.stderr.strip()}")
        return False
    return True


def check_md_blocks(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^\s*```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
            j += 1
        body = "\n".join(lines[start + 1:j]) + "\n"
        if lang == "ini":
            prev = lines[start - 1] if start else ""
            mk = re.match(r"^<!-- config: (producer|consumer|none) -->$",
                          prev.strip())
            where = f"{os.path.relpath(path, SRC)}:{start + 1}"
            if not mk:
                fail(where, "```ini block without <!-- config: producer|"
                            "consumer|none --> on the line before")
            elif mk.group(1) != "none":
                dump(mk.group(1), body, where=where)
        if lang in ("sh", "", "console"):
            check_command_lines(body, f"{os.path.relpath(path, SRC)}:"
                                      f"{start + 1}")
        i = j + 1


def check_command_lines(text, where):
    # join continuation lines, then every line running a followcdc binary
    text = re.sub(r"\\\n\s*", " ", text)
    for line in text.split("\n"):
        line = line.split(" #")[0].strip()
        line = re.sub(r"^\$\s+", "", line)
        m = re.match(r"^(?:\S*/)?followcdc-(producer|consumer)(\s.*)?$",
                     line)
        if not m or not m.group(2):
            continue
        try:
            args = shlex.split(m.group(2))
        except ValueError:
            continue
        args = [a for a in args if a != "&"]
        if any(a in ("--help", "-h", "--version", "-V", "--list-config",
                     "--dump-config") for a in args):
            continue
        # placeholders and shell variables: not a literal example
        if any(re.search(r"[…$<>]|\.\.\.", a) for a in args):
            continue
        out, k = [], 0
        has_conf = False
        while k < len(args):
            a = args[k]
            if a in ("-c", "--config") and k + 1 < len(args):
                out += ["-c", sample_path(m.group(1))]
                has_conf = True
                k += 2
                continue
            out.append(a)
            k += 1
        if not has_conf:
            out = ["-c", sample_path(m.group(1))] + out
        run(m.group(1), out, f"{where}: {line}")


def sample_path(binary):
    return SAMPLE[binary]


def check_samples():
    for binary in ("producer", "consumer"):
        p = os.path.join(SRC, "deploy", f"{binary}.conf.sample")
        text = open(p, encoding="utf-8").read()
        where = os.path.relpath(p, SRC)
        dump(binary, text, where=where)
        lines = text.split("\n")
        keyline = re.compile(r"^#([a-z][a-z0-9._-]*=.*)$")
        for n, line in enumerate(lines):
            if not keyline.match(line):
                continue
            one = lines[:]
            one[n] = line[1:]
            if dump_quiet(binary, "\n".join(one)):
                continue
            # with its neighbours (a group of related commented keys)
            a = n
            while a > 0 and keyline.match(lines[a - 1]):
                a -= 1
            b = n
            while b + 1 < len(lines) and keyline.match(lines[b + 1]):
                b += 1
            grp = lines[:]
            for k in range(a, b + 1):
                grp[k] = lines[k][1:]
            if not dump_quiet(binary, "\n".join(grp)):
                dump(binary, "\n".join(one), where=f"{where}:{n + 1}: "
                     f"uncommented {line[1:]!r}")


def dump_quiet(binary, text):
    path = os.path.join(tmp, "conf")
    with open(path, "w") as f:
        f.write(desecret(text))
    r = subprocess.run([BIN[binary], "-c", path, "--dump-config"],
                       env={"PATH": "/usr/bin:/bin"}, capture_output=True,
                       text=True)
    return r.returncode == 0 and not r.stderr.strip()


def check_configmap():
    for f in glob.glob(os.path.join(SRC, "deploy", "k8s", "**", "*.yaml"),
                       recursive=True):
        for d in yaml.safe_load_all(open(f, encoding="utf-8")):
            if not d or d.get("kind") != "ConfigMap":
                continue
            for key, text in (d.get("data") or {}).items():
                m = re.match(r"^(producer|consumer)\.conf$", key)
                if m:
                    dump(m.group(1), text,
                         where=f"{os.path.relpath(f, SRC)}: {key}")


def check_help_and_man():
    for binary in ("producer", "consumer"):
        h = subprocess.run([BIN[binary], "--help"], capture_output=True,
                           text=True).stdout
        # "e.g. --log.level=info", "e.g. -d kcons,rsink", "--replay=earliest"
        for m in re.finditer(r"(?:e\.g\. )(-d [a-z,]+|--[a-z][a-z0-9.-]*="
                             r"[^\s,)]+)", h):
            run(binary, ["-c", sample_path(binary)] + m.group(1).split(),
                f"followcdc-{binary} --help: {m.group(1)}")
        for m in re.finditer(r"^\s+(--[a-z][a-z0-9.-]*=[a-z0-9:.-]+)\s",
                             h, re.M):
            run(binary, ["-c", sample_path(binary), m.group(1)],
                f"followcdc-{binary} --help: {m.group(1)}")
        man = os.path.join(SRC, "deploy", "man", f"followcdc-{binary}.1")
        text = open(man, encoding="utf-8").read()
        ex = re.search(r"^\.SH EXAMPLES\n\.nf\n(.*?)^\.fi", text, re.M | re.S)
        if not ex:
            fail(man, "no EXAMPLES section")
            continue
        check_command_lines(ex.group(1).replace("\\-", "-"),
                            os.path.relpath(man, SRC))


def check_local_run():
    p = os.path.join(SRC, "scripts", "local-run.sh")
    script = open(p, encoding="utf-8").read()
    h = subprocess.run(["bash", p, "--help"], capture_output=True,
                       text=True).stdout
    for v in sorted(set(re.findall(r"\$\{(FOLLOWCDC_LOCAL_[A-Z_]+)", script))):
        if v not in h:
            fail("scripts/local-run.sh --help", f"does not list {v}")
    env_fn = re.search(r"stage_env_file\(\) \{(.*?)\n\}", script, re.S)
    if not env_fn:
        fail(p, "stage_env_file not found")
    elif re.search(r"export FOLLOWCDC_", env_fn.group(1)):
        fail(p, "env.sh exports a FOLLOWCDC_* variable")
    for doc in [os.path.join(SRC, "README.md")] + \
            glob.glob(os.path.join(SRC, "docs", "*.md")):
        for v in set(re.findall(r"FOLLOWCDC_LOCAL_[A-Z_]+",
                                open(doc, encoding="utf-8").read())):
            if v not in h:
                fail(os.path.relpath(doc, SRC), f"names {v}, which "
                     f"local-run.sh --help does not list")


def check_stale():
    files = [os.path.join(SRC, "README.md")] + \
        glob.glob(os.path.join(SRC, "docs", "*.md"))
    for f in files:
        text = open(f, encoding="utf-8").read()
        for phrase, why in STALE:
            if phrase in text:
                fail(os.path.relpath(f, SRC), f"says {phrase!r}: {why}")


def main():
    global SRC, BIN
    SRC, bindir = sys.argv[1], sys.argv[2]
    BIN = {b: os.path.join(bindir, f"followcdc-{b}")
           for b in ("producer", "consumer")}
    for b in ("producer", "consumer"):
        p = os.path.join(tmp, f"{b}.conf")
        with open(p, "w") as f:
            f.write(desecret(open(os.path.join(
                SRC, "deploy", f"{b}.conf.sample")).read()))
        SAMPLE[b] = p
    for f in [os.path.join(SRC, "README.md")] + \
            sorted(glob.glob(os.path.join(SRC, "docs", "*.md"))):
        check_md_blocks(f)
    check_samples()
    check_configmap()
    check_help_and_man()
    check_local_run()
    check_stale()
    for p in problems:
        print(p)
    print(f"docs-check: {runs[0]} configurations and command lines loaded, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
