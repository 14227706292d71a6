#!/usr/bin/env python3
"""Static checks of deploy/docker-compose.yml (run by tests/deploy/compose.sh).

  compose_check.py FILE --project-version V [--schema SCHEMA.json]...
                   [--producer BIN --consumer BIN] [--self-test]

- FILE, interpolated with the environment (as Compose does: ${VAR},
  ${VAR:-default}, ${VAR:?error}, $$), validates against every SCHEMA
  (the compose-spec JSON schema: unknown fields fail);
- every service has a healthcheck; every password-like environment value
  is a ${...} reference, never a literal;
- Kafka's log directory (KAFKA_LOG_DIRS) is a mounted volume;
- the followcdc image is pinned to the project version and the services
  that run it get --dump-config-clean settings: the binary named by the
  entrypoint, with the service's FOLLOWCDC_* environment and the mounted
  configuration file, must accept them (an unknown or misspelt variable
  fails);
- every bind-mounted file exists.
--self-test applies known-bad mutations; each one must be reported.
"""

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml

_VAR = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)"
                  r"(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class InterpolationError(Exception):
    pass


def interpolate(value, env):
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m):
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3)
        val = env.get(name)
        if op in (":-", "-"):
            if val is None or (op == ":-" and val == ""):
                return arg
        if op in (":?", "?"):
            if val is None or (op == ":?" and val == ""):
                raise InterpolationError(f"{name}: {arg}")
        return val or ""

    return _VAR.sub(one, value)


def env_dict(env):
    if isinstance(env, list):
        return dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return {k: "" if v is None else str(v) for k, v in (env or {}).items()}


def check(raw, path, schemas, version, producer, consumer, env):
    problems = []
    base = os.path.dirname(os.path.abspath(path))

    # literal secrets, before interpolation
    for name, svc in (raw.get("services") or {}).items():
        for k, v in env_dict(svc.get("environment")).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", k) and \
                    k != "MARIADB_RANDOM_ROOT_PASSWORD" and \
                    not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}",
                                     str(v)):
                problems.append(f"services.{name}.environment.{k}: a "
                                f"literal or defaulted secret; use "
                                f"${{VAR:?message}}")
    try:
        doc = interpolate(raw, env)
    except InterpolationError as e:
        return problems + [f"interpolation: {e}"]

    for sp in schemas:
        with open(sp, encoding="utf-8") as f:
            schema = json.load(f)
        ms = schema.get("$schema", "")
        cls = (jsonschema.Draft201909Validator if "2019-09" in ms else
               jsonschema.Draft7Validator if "draft-07" in ms else
               jsonschema.validators.validator_for(schema))
        for e in cls(schema).iter_errors(doc):
            where = "/".join(str(p) for p in e.absolute_path)
            problems.append(f"schema {os.path.basename(sp)}: {where}: "
                            f"{e.message}")

    services = doc.get("services") or {}
    named_volumes = set((doc.get("volumes") or {}).keys())
    for name, svc in services.items():
        w = f"services.{name}"
        if not (svc.get("healthcheck") or {}).get("test"):
            problems.append(f"{w}: no healthcheck")
        mounts = {}
        for v in svc.get("volumes") or []:
            if isinstance(v, dict):
                src, dst = v.get("source"), v.get("target")
            else:
                parts = v.split(":")
                src, dst = parts[0], parts[1]
            mounts[dst] = src
            if src.startswith((".", "/")):
                p = os.path.normpath(os.path.join(base, src))
                if not os.path.exists(p):
                    problems.append(f"{w}: bind mount {src}: no such file")
            elif src not in named_volumes:
                problems.append(f"{w}: volume {src} not declared")
        env_s = env_dict(svc.get("environment"))
        if "KAFKA_LOG_DIRS" in env_s or "kafka" in str(svc.get("image")):
            if "KAFKA_PROCESS_ROLES" in env_s:
                d = env_s.get("KAFKA_LOG_DIRS")
                if not d:
                    problems.append(f"{w}: KAFKA_LOG_DIRS not set (the "
                                    f"image keeps its data in /tmp)")
                elif mounts.get(d) not in named_volumes:
                    problems.append(f"{w}: KAFKA_LOG_DIRS {d} is not a "
                                    f"mounted named volume")
        image = svc.get("image", "")
        if image.split(":")[0].split("/")[-1] == "followcdc":
            tag = image.split(":")[1] if ":" in image else ""
            if tag != version:
                problems.append(f"{w}: image {image}: tag must be the "
                                f"project version {version}")
            ep = svc.get("entrypoint") or []
            binary = os.path.basename(ep[0]) if ep else ""
            exe = {"followcdc-producer": producer,
                   "followcdc-consumer": consumer}.get(binary)
            if exe:
                problems += dump_config(w, exe, svc, mounts, base)
        elif image and ":" not in image:
            problems.append(f"{w}: image {image} has no tag")
    return problems


def dump_config(where, exe, svc, mounts, base):
    """Run the binary with the service's environment and mounted config."""
    args = list(svc.get("command") or [])
    tmp = tempfile.mkdtemp()
    secret = os.path.join(tmp, "secret")
    with open(secret, "w") as f:
        f.write("x\n")
    out = []
    for i, a in enumerate(args):
        if i > 0 and args[i - 1] in ("-c", "--config") and a in mounts:
            src = os.path.normpath(os.path.join(base, mounts[a]))
            # file: secrets name paths inside the container
            conf = os.path.join(tmp, "conf")
            with open(src, encoding="utf-8") as f, open(conf, "w") as g:
                for line in f:
                    g.write(re.sub(r"=file:\S+", "=file:" + secret, line))
            a = conf
        out.append(a)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(env_dict(svc.get("environment")))
    r = subprocess.run([exe] + out + ["--dump-config"], env=env,
                       capture_output=True, text=True)
    # an unknown FOLLOWCDC_* variable is fatal or a warning: either counts
    if r.returncode != 0 or r.stderr.strip():
        return [f"{where}: {os.path.basename(exe)} --dump-config with the "
                f"service's settings: exit {r.returncode}: "
                f"{r.stderr.strip()}"]
    return []


MUTATIONS = [
    ("unknown service field",
     lambda d: d["services"]["redis"].__setitem__("restartt", "always")),
    ("unknown healthcheck field",
     lambda d: d["services"]["redis"]["healthcheck"].__setitem__(
         "intervall", "5s")),
    ("top-level name (Compose 1.29 rejects it)",
     lambda d: d.__setitem__("name", "followcdc")),
    ("no healthcheck on the producer",
     lambda d: d["services"]["producer"].pop("healthcheck")),
    ("literal password",
     lambda d: d["services"]["mariadb"]["environment"].__setitem__(
         "FOLLOWCDC_PRODUCER_PASSWORD", "change-me-producer")),
    ("defaulted password",
     lambda d: d["services"]["consumer"]["environment"].__setitem__(
         "FOLLOWCDC_REAPER_MYSQL_PASSWORD",
         "${FOLLOWCDC_CONSUMER_PASSWORD:-change-me}")),
    ("Kafka data outside the volume",
     lambda d: d["services"]["kafka"]["environment"].pop("KAFKA_LOG_DIRS")),
    ("image latest",
     lambda d: d["x-followcdc-image"].__setitem__("image",
                                                  "followcdc:latest")),
    ("misspelt FOLLOWCDC_ variable",
     lambda d: d["services"]["consumer"]["environment"].__setitem__(
         "FOLLOWCDC_REDIS_HOSTT", "redis")),
    ("missing init script",
     lambda d: d["services"]["mariadb"]["volumes"].append(
         "./compose/nope.sh:/docker-entrypoint-initdb.d/9.sh:ro")),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--project-version", required=True)
    ap.add_argument("--schema", action="append", default=[])
    ap.add_argument("--producer")
    ap.add_argument("--consumer")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    with open(a.file, encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    env = dict(os.environ)

    def run(doc):
        # YAML anchors are resolved by the loader: apply a mutation of the
        # anchor to its users too by re-merging x-followcdc-image
        doc = copy.deepcopy(doc)
        anchor = doc.get("x-followcdc-image")
        if anchor:
            for n in ("producer", "consumer"):
                doc["services"][n].update(copy.deepcopy(anchor))
        return check(doc, a.file, a.schema, a.project_version, a.producer,
                     a.consumer, env)

    if a.self_test:
        if run(raw):
            print("self-test: the file itself has problems")
            return 1
        bad = 0
        for what, mutate in MUTATIONS:
            d = copy.deepcopy(raw)
            mutate(d)
            found = run(d)
            print(f"self-test: {'caught' if found else 'NOT caught'}: "
                  f"{what}" + (f": {found[0]}" if found else ""))
            bad += not found
        return 1 if bad else 0
    problems = run(raw)
    for p in problems:
        print(p)
    print(f"compose-check: {len(raw.get('services', {}))} services, "
          f"{len(a.schema)} schema(s): {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
