#!/usr/bin/env python3
"""Static checks of deploy/k8s (run by tests/deploy/k8s.sh in a venv).

1. Every object of the base and of the components validates against the
   Kubernetes OpenAPI schemas of each version in --k8s-versions, strictly
   (kubernetes-validate: an unknown or misspelt field fails). The
   ServiceMonitor (a CRD) is checked against SERVICEMONITOR_SCHEMA below,
   strict as well, for the fields this project uses.
2. Every pod template passes the "restricted" Pod Security Standard
   (baseline and restricted controls, as the Kubernetes documentation
   lists them), plus this project's rules: read-only root file system,
   resources, pinned images, no service links, no API token.
3. References hold: Service, PDB, NetworkPolicy and ServiceMonitor
   selectors select a workload / Service; named ports exist; ConfigMap
   keys used exist; kustomization files list existing files and every
   manifest is listed.
4. The producer's rollout and drain work with one active and one standby
   (both Ready): see docs/kubernetes.md.
5. --self-test: each of a list of known-bad mutations must be reported
   (so the checks above can fail).

Prints one line per problem and exits 1 if there is any.
"""

import argparse
import copy
import glob
import os
import re
import sys

import yaml

try:
    import kubernetes_validate
except ImportError:  # the self-test of the PSS checker works without it
    kubernetes_validate = None
import jsonschema

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job",
                  "ReplicaSet"}

# Pod Security Standards, restricted profile (includes baseline).
RESTRICTED_VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir",
                           "ephemeral", "persistentVolumeClaim",
                           "projected", "secret"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
                "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t",
                 "container_engine_t"}

# The ServiceMonitor fields used here (monitoring.coreos.com/v1); unknown
# fields fail, as the strict Kubernetes schemas do for built-in kinds.
_LABEL_SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "matchLabels": {"type": "object",
                        "additionalProperties": {"type": "string"}},
        "matchExpressions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "operator"],
                "properties": {
                    "key": {"type": "string"},
                    "operator": {"enum": ["In", "NotIn", "Exists",
                                          "DoesNotExist"]},
                    "values": {"type": "array",
                               "items": {"type": "string"}},
                },
            },
        },
    },
}
_DURATION = {"type": "string",
             "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?"
                        r"(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?"
                        r"(([0-9]+)ms)?)$"}
SERVICEMONITOR_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "namespace": {"type": "string"},
                "labels": {"type": "object",
                           "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object",
                                "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "endpoints"],
            "properties": {
                "jobLabel": {"type": "string"},
                "selector": _LABEL_SELECTOR,
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "any": {"type": "boolean"},
                        "matchNames": {"type": "array",
                                       "items": {"type": "string"}},
                    },
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string"},
                            "scheme": {"enum": ["http", "https"]},
                            "interval": _DURATION,
                            "scrapeTimeout": _DURATION,
                            "honorLabels": {"type": "boolean"},
                        },
                    },
                },
            },
        },
    },
}


class Checker:
    def __init__(self):
        self.problems = []

    def fail(self, where, why):
        self.problems.append(f"{where}: {why}")


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for d in docs:
        d.setdefault("__file__", path)
    return docs


def name_of(doc):
    return f"{os.path.relpath(doc.get('__file__', '?'))}: " \
           f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def pod_spec_of(doc):
    kind = doc.get("kind")
    if kind == "Pod":
        return doc.get("spec", {}), doc.get("metadata", {})
    if kind in WORKLOAD_KINDS:
        t = doc.get("spec", {}).get("template", {})
        return t.get("spec", {}), t.get("metadata", {})
    if kind == "CronJob":
        t = doc["spec"]["jobTemplate"]["spec"]["template"]
        return t.get("spec", {}), t.get("metadata", {})
    return None, None


def strip_private(doc):
    return {k: v for k, v in doc.items() if not k.startswith("__")}


# ---- 1. schemas ----------------------------------------------------------

def check_schemas(ck, docs, versions):
    for doc in docs:
        where = name_of(doc)
        body = strip_private(doc)
        if doc.get("kind") == "ServiceMonitor":
            v = jsonschema.Draft202012Validator(SERVICEMONITOR_SCHEMA)
            for e in v.iter_errors(body):
                path = "/".join(str(p) for p in e.absolute_path)
                ck.fail(where, f"schema: {path}: {e.message}")
            continue
        if kubernetes_validate is None:
            ck.fail(where, "kubernetes-validate is not installed")
            continue
        for ver in versions:
            try:
                kubernetes_validate.validate(body, ver, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = "/".join(str(p) for p in e.absolute_path)
                ck.fail(where, f"schema {ver}: {path}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                ck.fail(where, f"schema {ver}: {e}")


# ---- 2. Pod Security Standards (restricted) + project rules --------------

def check_pod_security(ck, doc, project_version):
    spec, _ = pod_spec_of(doc)
    if spec is None:
        return
    where = name_of(doc)
    psc = spec.get("securityContext", {}) or {}
    containers = [("container", c) for c in spec.get("containers", [])]
    containers += [("initContainer", c)
                   for c in spec.get("initContainers", []) or []]
    containers += [("ephemeralContainer", c)
                   for c in spec.get("ephemeralContainers", []) or []]

    # baseline: host namespaces, host paths, host ports, privileged
    for f in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(f):
            ck.fail(where, f"PSS baseline: spec.{f} must not be true")
    for vol in spec.get("volumes", []) or []:
        types = [k for k in vol if k != "name"]
        for t in types:
            if t == "hostPath":
                ck.fail(where, f"PSS baseline: hostPath volume {vol['name']}")
            if t not in RESTRICTED_VOLUME_TYPES:
                ck.fail(where, f"PSS restricted: volume {vol['name']} of "
                               f"type {t} not allowed")
    for s in (psc.get("sysctls") or []):
        if s.get("name") not in SAFE_SYSCTLS:
            ck.fail(where, f"PSS baseline: unsafe sysctl {s.get('name')}")

    def seccomp_type(sc):
        return ((sc or {}).get("seccompProfile") or {}).get("type")

    def selinux_ok(sc, w):
        se = (sc or {}).get("seLinuxOptions") or {}
        if se.get("type", "") not in SELINUX_TYPES:
            ck.fail(w, f"PSS baseline: seLinuxOptions.type {se.get('type')}")
        if se.get("user") or se.get("role"):
            ck.fail(w, "PSS baseline: seLinuxOptions.user/role set")

    def apparmor_ok(sc, w):
        ap = (sc or {}).get("appArmorProfile") or {}
        if ap.get("type") == "Unconfined":
            ck.fail(w, "PSS baseline: appArmorProfile Unconfined")

    selinux_ok(psc, where)
    apparmor_ok(psc, where)
    pod_seccomp = seccomp_type(psc)
    if pod_seccomp == "Unconfined":
        ck.fail(where, "PSS: pod seccompProfile Unconfined")
    pod_nonroot = psc.get("runAsNonRoot")
    if psc.get("runAsUser") == 0:
        ck.fail(where, "PSS restricted: pod runAsUser 0")

    for what, c in containers:
        w = f"{where}: {what} {c.get('name')}"
        sc = c.get("securityContext", {}) or {}
        if sc.get("privileged"):
            ck.fail(w, "PSS baseline: privileged")
        for p in c.get("ports", []) or []:
            if p.get("hostPort"):
                ck.fail(w, f"PSS baseline: hostPort {p['hostPort']}")
        if sc.get("procMount", "Default") != "Default":
            ck.fail(w, "PSS baseline: procMount not Default")
        selinux_ok(sc, w)
        apparmor_ok(sc, w)
        # restricted
        if sc.get("allowPrivilegeEscalation") is not False:
            ck.fail(w, "PSS restricted: allowPrivilegeEscalation must be "
                       "false")
        nonroot = sc.get("runAsNonRoot", pod_nonroot)
        if nonroot is not True:
            ck.fail(w, "PSS restricted: runAsNonRoot must be true (pod or "
                       "container)")
        if sc.get("runAsUser") == 0:
            ck.fail(w, "PSS restricted: runAsUser 0")
        st = seccomp_type(sc) or pod_seccomp
        if st not in ("RuntimeDefault", "Localhost"):
            ck.fail(w, "PSS restricted: seccompProfile.type must be "
                       "RuntimeDefault or Localhost (pod or container)")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            ck.fail(w, "PSS restricted: capabilities.drop must include ALL")
        for a in caps.get("add") or []:
            if a != "NET_BIND_SERVICE":
                ck.fail(w, f"PSS restricted: capability {a} added")
        # this project's rules
        if what == "ephemeralContainer":
            continue
        if sc.get("readOnlyRootFilesystem") is not True:
            ck.fail(w, "readOnlyRootFilesystem must be true")
        res = c.get("resources") or {}
        for r in ("cpu", "memory"):
            if r not in (res.get("requests") or {}):
                ck.fail(w, f"resources.requests.{r} missing")
        if "memory" not in (res.get("limits") or {}):
            ck.fail(w, "resources.limits.memory missing")
        image = c.get("image", "")
        m = re.match(r"^(?P<name>[^@:]+(?::\d+/[^@:]+)?)"
                     r"(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$", image)
        if not m or not (m.group("tag") or m.group("digest")):
            ck.fail(w, f"image {image!r} is not pinned (tag or digest)")
        elif m.group("tag") == "latest":
            ck.fail(w, f"image {image!r}: 'latest' is not a pinned tag")
        elif (m.group("name").split("/")[-1] == "followcdc" and
              m.group("tag") != project_version):
            ck.fail(w, f"image {image!r}: tag must be the project version "
                       f"{project_version}")
        if doc.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c:
                    ck.fail(w, f"{probe} missing")
    if spec.get("enableServiceLinks") is not False:
        ck.fail(where, "enableServiceLinks must be false (FOLLOWCDC_* "
                       "service variables)")
    if spec.get("automountServiceAccountToken") is not False:
        ck.fail(where, "automountServiceAccountToken must be false (no API "
                       "access needed)")


# ---- 3. references -------------------------------------------------------

def selector_matches(sel, labels):
    if not sel:
        return False
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and labels.get(k) in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def check_references(ck, docs):
    workloads = [d for d in docs if pod_spec_of(d)[0] is not None]
    configmaps = {d["metadata"]["name"]: d for d in docs
                  if d.get("kind") == "ConfigMap"}
    services = [d for d in docs if d.get("kind") == "Service"]

    def pod_labels(d):
        return pod_spec_of(d)[1].get("labels", {}) or {}

    for d in workloads:
        where = name_of(d)
        spec, meta = pod_spec_of(d)
        sel = d.get("spec", {}).get("selector")
        if d.get("kind") != "Job" and sel and \
                not selector_matches(sel, pod_labels(d)):
            ck.fail(where, "spec.selector does not select its own template")
        vols = {v["name"]: v for v in spec.get("volumes", []) or []}
        for c in spec.get("containers", []):
            w = f"{where}: container {c['name']}"
            ports = {p.get("name") for p in c.get("ports", []) or []}
            for probe in ("livenessProbe", "readinessProbe",
                          "startupProbe"):
                p = (c.get(probe) or {}).get("httpGet")
                if p and isinstance(p.get("port"), str) and \
                        p["port"] not in ports:
                    ck.fail(w, f"{probe} port {p['port']} not a container "
                               f"port")
            for vm in c.get("volumeMounts", []) or []:
                v = vols.get(vm["name"])
                if v is None:
                    ck.fail(w, f"volumeMount {vm['name']}: no such volume")
                    continue
                if "configMap" in v and vm.get("subPath"):
                    cm = configmaps.get(v["configMap"]["name"])
                    if cm and vm["subPath"] not in cm.get("data", {}):
                        ck.fail(w, f"subPath {vm['subPath']} not a key of "
                                   f"ConfigMap {cm['metadata']['name']}")
            for e in c.get("env", []) or []:
                ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
                if ref:
                    cm = configmaps.get(ref["name"])
                    if cm is None:
                        ck.fail(w, f"env {e['name']}: ConfigMap "
                                   f"{ref['name']} not defined")
                    elif ref["key"] not in cm.get("data", {}):
                        ck.fail(w, f"env {e['name']}: key {ref['key']} not "
                                   f"in ConfigMap {ref['name']}")
        for v in vols.values():
            if "configMap" in v and v["configMap"]["name"] not in configmaps:
                ck.fail(where, f"volume {v['name']}: ConfigMap "
                               f"{v['configMap']['name']} not defined")

    for s in services:
        where = name_of(s)
        sel = s["spec"].get("selector") or {}
        hits = [w for w in workloads
                if selector_matches({"matchLabels": sel}, pod_labels(w))]
        if not hits:
            ck.fail(where, "selector matches no workload")
        for p in s["spec"].get("ports", []):
            tp = p.get("targetPort")
            if isinstance(tp, str):
                for w in hits:
                    names = {cp.get("name")
                             for c in pod_spec_of(w)[0]["containers"]
                             for cp in c.get("ports", []) or []}
                    if tp not in names:
                        ck.fail(where, f"targetPort {tp} not a port of "
                                       f"{name_of(w)}")
    for d in docs:
        where = name_of(d)
        if d.get("kind") == "PodDisruptionBudget":
            if not any(selector_matches(d["spec"]["selector"], pod_labels(w))
                       for w in workloads):
                ck.fail(where, "selector matches no workload")
        if d.get("kind") == "NetworkPolicy":
            if not any(selector_matches(d["spec"]["podSelector"],
                                        pod_labels(w)) for w in workloads):
                ck.fail(where, "podSelector matches no workload")
        if d.get("kind") == "ServiceMonitor":
            hit = [s for s in services
                   if selector_matches(d["spec"]["selector"],
                                       s["metadata"].get("labels", {}))]
            if not hit:
                ck.fail(where, "selector matches no Service")
            for ep in d["spec"]["endpoints"]:
                for s in hit:
                    if ep.get("port") not in {p.get("name")
                                              for p in s["spec"]["ports"]}:
                        ck.fail(where, f"endpoint port {ep.get('port')} not "
                                       f"a port of {name_of(s)}")


# ---- 4. producer rollout and drain ---------------------------------------

def pdb_allowed(pdb, replicas, healthy):
    """Evictions the PDB allows with `healthy` Ready pods (K8s rules:
    percentages of minAvailable and maxUnavailable round up)."""
    spec = pdb["spec"]

    def count(v):
        if isinstance(v, str) and v.endswith("%"):
            return -(-replicas * int(v[:-1]) // 100)
        return int(v)

    if "minAvailable" in spec:
        desired = count(spec["minAvailable"])
    else:
        desired = replicas - count(spec.get("maxUnavailable", 0))
    return max(0, healthy - desired)


def check_producer_rollout(ck, docs):
    dep = next((d for d in docs if d.get("kind") == "Deployment" and
                d["metadata"]["name"] == "followcdc-producer"), None)
    if dep is None:
        ck.fail("followcdc-producer", "Deployment missing")
        return
    where = name_of(dep)
    labels = pod_spec_of(dep)[1].get("labels", {})
    replicas = dep["spec"].get("replicas", 1)
    if replicas != 2:
        ck.fail(where, f"replicas {replicas}: one active + one standby is 2")
    st = dep["spec"].get("strategy", {})
    ru = st.get("rollingUpdate", {})
    if st.get("type", "RollingUpdate") != "RollingUpdate" or \
            str(ru.get("maxSurge")) != "0" or \
            str(ru.get("maxUnavailable")) != "1":
        ck.fail(where, "strategy must be RollingUpdate maxSurge 0, "
                       "maxUnavailable 1 (docs/kubernetes.md)")
    pdbs = [d for d in docs if d.get("kind") == "PodDisruptionBudget" and
            selector_matches(d["spec"]["selector"], labels)]
    if len(pdbs) != 1:
        ck.fail(where, f"{len(pdbs)} PodDisruptionBudgets select it, want 1")
        return
    pdb = pdbs[0]
    # one active + one standby, both Ready: a drain may evict one
    if pdb_allowed(pdb, replicas, healthy=replicas) < 1:
        ck.fail(name_of(pdb), "allows no eviction with every producer Ready:"
                              " a node drain would block")
    # both Ready is not required for a sick pod to be evicted
    if pdb["spec"].get("unhealthyPodEvictionPolicy") != "AlwaysAllow":
        ck.fail(name_of(pdb), "unhealthyPodEvictionPolicy must be "
                              "AlwaysAllow (a not-Ready pod never blocks a "
                              "drain)")
    rp = pod_spec_of(dep)[0]["containers"][0].get("readinessProbe", {})
    if (rp.get("httpGet") or {}).get("path") != "/readyz":
        ck.fail(where, "readinessProbe must be /readyz")


# ---- kustomize -----------------------------------------------------------

def check_kustomizations(ck, root):
    listed = set()
    for kf in glob.glob(os.path.join(root, "**", "kustomization.yaml"),
                        recursive=True):
        with open(kf, encoding="utf-8") as f:
            k = yaml.safe_load(f)
        kd = os.path.dirname(kf)
        if k.get("kind") not in ("Kustomization", "Component"):
            ck.fail(kf, f"kind {k.get('kind')}")
        known = {"apiVersion", "kind", "resources", "components", "labels",
                 "namespace", "images", "patches", "configMapGenerator",
                 "secretGenerator", "namePrefix", "nameSuffix",
                 "commonAnnotations", "replicas"}
        for key in k:
            if key not in known:
                ck.fail(kf, f"unexpected field {key}")
        for r in (k.get("resources") or []) + (k.get("components") or []):
            p = os.path.normpath(os.path.join(kd, r))
            if not os.path.exists(p):
                ck.fail(kf, f"{r}: no such file or directory")
            elif os.path.isfile(p):
                listed.add(p)
            elif not os.path.exists(os.path.join(p, "kustomization.yaml")):
                ck.fail(kf, f"{r}: directory without kustomization.yaml")
    for f in glob.glob(os.path.join(root, "**", "*.yaml"), recursive=True):
        if os.path.basename(f) != "kustomization.yaml" and \
                os.path.normpath(f) not in listed:
            ck.fail(f, "not listed in any kustomization.yaml")


def collect(root):
    docs = []
    for f in sorted(glob.glob(os.path.join(root, "**", "*.yaml"),
                              recursive=True)):
        if os.path.basename(f) == "kustomization.yaml":
            continue
        docs.extend(load_docs(f))
    return docs


def run_checks(docs, versions, project_version, root=None):
    ck = Checker()
    check_schemas(ck, docs, versions)
    for d in docs:
        check_pod_security(ck, d, project_version)
    check_references(ck, docs)
    check_producer_rollout(ck, docs)
    if root:
        check_kustomizations(ck, root)
    return ck.problems


# ---- 5. self-test --------------------------------------------------------

def _find(docs, kind, name):
    return next(d for d in docs if d.get("kind") == kind and
                d["metadata"]["name"] == name)


def _pc(docs):
    return _find(docs, "Deployment", "followcdc-producer")["spec"][
        "template"]["spec"]


MUTATIONS = [
    ("unknown field in a container",
     lambda ds: _pc(ds)["containers"][0].__setitem__("imagePullPolicyy",
                                                     "Always")),
    ("misspelt field in a ServiceMonitor endpoint",
     lambda ds: _find(ds, "ServiceMonitor", "followcdc")["spec"][
         "endpoints"][0].__setitem__("intervall", "30s")),
    ("wrong type (replicas as text)",
     lambda ds: _find(ds, "Deployment", "followcdc-consumer")["spec"]
     .__setitem__("replicas", "three")),
    ("runAsNonRoot removed",
     lambda ds: _pc(ds)["securityContext"].pop("runAsNonRoot")),
    ("allowPrivilegeEscalation removed",
     lambda ds: _pc(ds)["containers"][0]["securityContext"]
     .pop("allowPrivilegeEscalation")),
    ("capability added",
     lambda ds: _pc(ds)["containers"][0]["securityContext"]["capabilities"]
     .__setitem__("add", ["NET_ADMIN"])),
    ("seccomp removed",
     lambda ds: _find(ds, "Job", "followcdc-topics")["spec"]["template"][
         "spec"]["securityContext"].pop("seccompProfile")),
    ("hostPath volume",
     lambda ds: _pc(ds)["volumes"].append(
         {"name": "h", "hostPath": {"path": "/"}})),
    ("writable root file system",
     lambda ds: _pc(ds)["containers"][0]["securityContext"]
     .__setitem__("readOnlyRootFilesystem", False)),
    ("image latest",
     lambda ds: _pc(ds)["containers"][0].__setitem__("image",
                                                     "followcdc:latest")),
    ("image without tag",
     lambda ds: _pc(ds)["containers"][0].__setitem__("image", "followcdc")),
    ("service links on",
     lambda ds: _pc(ds).pop("enableServiceLinks")),
    ("no memory limit",
     lambda ds: _pc(ds)["containers"][0]["resources"].pop("limits")),
    ("Service selecting nothing",
     lambda ds: _find(ds, "Service", "followcdc-producer-metrics")["spec"][
         "selector"].__setitem__("app.kubernetes.io/component", "nope")),
    ("ConfigMap key missing",
     lambda ds: _find(ds, "ConfigMap", "followcdc")["data"]
     .pop("kafka-bootstrap-servers")),
    ("surge during the producer rollout",
     lambda ds: _find(ds, "Deployment", "followcdc-producer")["spec"][
         "strategy"]["rollingUpdate"].__setitem__("maxSurge", 1)),
    ("PDB that blocks drains",
     lambda ds: _find(ds, "PodDisruptionBudget", "followcdc-producer")[
         "spec"].__setitem__("maxUnavailable", 0)),
    ("PDB minAvailable 2",
     lambda ds: (_find(ds, "PodDisruptionBudget", "followcdc-producer")[
         "spec"].pop("maxUnavailable"),
         _find(ds, "PodDisruptionBudget", "followcdc-producer")["spec"]
         .__setitem__("minAvailable", 2))),
]


def self_test(docs, versions, project_version):
    failures = 0
    base = run_checks(docs, versions, project_version)
    if base:
        print("self-test: the manifests themselves have problems:")
        for p in base:
            print("  " + p)
        return 1
    for what, mutate in MUTATIONS:
        ds = copy.deepcopy(docs)
        mutate(ds)
        found = run_checks(ds, versions, project_version)
        if found:
            print(f"self-test: caught: {what}: {found[0]}")
        else:
            print(f"self-test: NOT caught: {what}")
            failures += 1
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="deploy/k8s")
    ap.add_argument("--k8s-versions", default="1.27,1.37")
    ap.add_argument("--project-version", required=True)
    ap.add_argument("--extra", action="append", default=[],
                    help="also check this rendered file (kubectl kustomize)")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    versions = a.k8s_versions.split(",")
    docs = collect(a.root)
    if a.self_test:
        return self_test(docs, versions, a.project_version)
    problems = run_checks(docs, versions, a.project_version, a.root)
    for extra in a.extra:
        problems += run_checks(load_docs(extra), versions,
                               a.project_version)
    for p in problems:
        print(p)
    kinds = sorted({d["kind"] for d in docs})
    print(f"k8s-check: {len(docs)} objects ({', '.join(kinds)}), "
          f"Kubernetes {', '.join(versions)}: "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
