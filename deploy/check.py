#!/usr/bin/env python3
"""Checks that deploy/ matches what the services really read and serve.

No cluster runs here, so the manifests are checked against the sources:
each Deployment runs a program the Dockerfile builds with a config file it
copies; every env name it sets is a placeholder of that config (or of one
of them, for the shared ConfigMap); the port it sets is the containerPort
its probes and Service use; readiness is on the servers' health path (read
from kratos-transport) and liveness is not (it answers 503 while the App
drains); the grace period outlasts preStop plus the App's stop timeout
(read from kratos-core); Secrets, ConfigMaps, Services, Kustomize resources,
images and Istio hosts refer to things that exist.

    python3 deploy/check.py              # exits 1 naming every mismatch
    python3 deploy/check.py --self-test  # shows that broken manifests fail
"""

import copy
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "deploy" / "k8s" / "base"
CONF_DIR = "/etc/shop/"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


def health_path():
    source = (ROOT / "kratos-transport/src/http/server.rs").read_text()
    return re.search(r'pub const HEALTH_PATH: &str = "([^"]+)";', source).group(1)


def stop_timeout_seconds():
    source = (ROOT / "kratos-core/src/app/builder.rs").read_text()
    return int(re.search(r"stop_timeout: Duration::from_secs\((\d+)\)", source).group(1))


def metrics_path():
    source = (ROOT / "examples" / "support" / "mod.rs").read_text()
    return re.search(r'\.handle\(\s*"(/[^"]*)",\s*axum::routing::get\(move \|\| std::future::ready\(metrics', source).group(1)


def examples():
    manifest = (ROOT / "Cargo.toml").read_text()
    return set(re.findall(r'\[\[example\]\]\s*name = "([^"]+)"', manifest))


def load_all(directory):
    """Every resource of every manifest in `directory`, by (kind, name)."""
    resources = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                resources[(doc["kind"], doc["metadata"]["name"])] = (path.name, doc)
    return resources


def placeholders(config_text):
    return {name for name, _ in PLACEHOLDER.findall(config_text)}


def port_variable(config, section, key):
    """The env variable that sets the port of `section.key` (`0.0.0.0:${USER_HTTP_PORT:8001}`)."""
    found = PLACEHOLDER.findall(str(config.get(section, {}).get(key, "")))
    # The host comes first (`${BIND_HOST:…}`), the port last.
    return found[-1][0] if found else None


def check(resources, dockerfile):
    errors = []
    err = errors.append
    built = set(re.findall(r"--example (\w+)", dockerfile))
    copied = set(re.findall(r"target/release/examples/(\w+)", dockerfile))
    if "COPY examples/configs/ /etc/shop/" not in dockerfile:
        err("Dockerfile: examples/configs/ is not copied to /etc/shop/")
    if not re.search(r"^USER (?!0\b|root\b)\S+", dockerfile, re.M):
        err("Dockerfile: the runtime image does not run as a non-root USER")
    exposed = {int(p) for line in re.findall(r"^EXPOSE (.+)$", dockerfile, re.M) for p in line.split()}
    health, stop, metrics = health_path(), stop_timeout_seconds(), metrics_path()
    secrets = {name: doc for (kind, name), (_, doc) in resources.items() if kind == "Secret"}
    configmaps = {name: doc for (kind, name), (_, doc) in resources.items() if kind == "ConfigMap"}
    services = {name: doc for (kind, name), (_, doc) in resources.items() if kind == "Service"}
    all_placeholders = set()
    for path in (ROOT / "examples" / "configs").glob("*.yaml"):
        all_placeholders |= placeholders(path.read_text())

    for (kind, name), (file, doc) in resources.items():
        if kind != "Deployment":
            continue
        where = f"{file}: Deployment {name}"
        spec = doc["spec"]["template"]["spec"]
        container = spec["containers"][0]
        command = container.get("command", [])
        program = command[0].rsplit("/", 1)[-1] if command else ""
        if program not in examples():
            err(f"{where}: runs `{program}`, which is no [[example]] of Cargo.toml")
        if program not in built or program not in copied:
            err(f"{where}: the Dockerfile does not build and copy `{program}`")
        if "--conf" not in command or not command[command.index("--conf") + 1].startswith(CONF_DIR):
            err(f"{where}: no `--conf {CONF_DIR}…` in its command")
            continue
        conf_file = ROOT / "examples" / "configs" / command[command.index("--conf") + 1][len(CONF_DIR):]
        if not conf_file.exists():
            err(f"{where}: its config {conf_file.relative_to(ROOT)} does not exist")
            continue
        conf_text = conf_file.read_text()
        config = yaml.safe_load(conf_text)
        reads = placeholders(conf_text)
        env = {e["name"]: e for e in container.get("env", [])}
        for var, entry in env.items():
            if var not in reads:
                err(f"{where}: sets {var}, which {conf_file.name} never reads")
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref["key"] not in secrets.get(ref["name"], {}).get("stringData", {}):
                err(f"{where}: {var} from secret {ref['name']}/{ref['key']}, which does not exist")
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef", {}).get("name")
            if ref not in configmaps:
                err(f"{where}: envFrom configMap {ref}, which does not exist")
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        for port_name in ports:
            sections = [s for s in config if isinstance(config[s], dict) and port_name in config[s]]
            variable = port_variable(config, sections[0], port_name) if sections else None
            if variable is None:
                err(f"{where}: port {port_name}: {conf_file.name} has no {port_name} address with a port variable")
            elif variable not in env:
                err(f"{where}: port {port_name}: {variable} is not set, so the service listens on its default")
            elif int(env[variable]["value"]) != ports[port_name]:
                err(f"{where}: port {port_name}: {variable}={env[variable]['value']} but containerPort {ports[port_name]}")
            if ports[port_name] not in exposed:
                err(f"{where}: port {ports[port_name]} is not EXPOSEd by the Dockerfile")
        annotations = doc["spec"]["template"]["metadata"].get("annotations", {})
        if annotations.get("prometheus.io/scrape") == "true":
            if annotations.get("prometheus.io/path") != metrics:
                err(f"{where}: Prometheus scrapes {annotations.get('prometheus.io/path')!r}, the programs serve {metrics!r}")
            if str(ports.get("http")) != annotations.get("prometheus.io/port"):
                err(f"{where}: Prometheus scrapes port {annotations.get('prometheus.io/port')!r}, the HTTP server is on {ports.get('http')!r}")
        ready = container.get("readinessProbe", {}).get("httpGet", {})
        if ready.get("path") != health:
            err(f"{where}: readiness probes {ready.get('path')!r}, the servers answer {health!r}")
        if ready.get("port") not in ports and ready.get("port") not in ports.values():
            err(f"{where}: readiness probes port {ready.get('port')!r}, which the container does not open")
        live = container.get("livenessProbe", {})
        if live.get("httpGet", {}).get("path") == health:
            err(f"{where}: liveness on {health} would kill the pod while it drains (503)")
        live_port = (live.get("tcpSocket") or live.get("httpGet") or {}).get("port")
        if live_port not in ports and live_port not in ports.values():
            err(f"{where}: liveness probes port {live_port!r}, which the container does not open")
        pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        pause = int(pre_stop[-1]) if pre_stop and pre_stop[-1].isdigit() else 0
        grace = spec.get("terminationGracePeriodSeconds", 30)
        if grace <= pause + stop:
            err(f"{where}: terminationGracePeriodSeconds {grace} <= preStop {pause} s + stop timeout {stop} s")
        service = services.get(name)
        if service is None:
            err(f"{where}: no Service {name}")
            continue
        if not service["spec"]["selector"].items() <= doc["spec"]["template"]["metadata"]["labels"].items():
            err(f"{where}: Service {name} selects labels the pods do not have")
        for port in service["spec"]["ports"]:
            if port["targetPort"] not in ports:
                err(f"{where}: Service {name} targets port {port['targetPort']!r}, which the container does not name")

    for name, doc in configmaps.items():
        for var in doc.get("data", {}):
            if var not in all_placeholders:
                err(f"ConfigMap {name}: {var} is read by no config file")
        endpoint = doc.get("data", {}).get("ETCD_ENDPOINT")
        if endpoint:
            host, port = re.match(r"https?://([^:/]+):(\d+)", endpoint).groups()
            target = services.get(host)
            if target is None or int(port) not in [p["port"] for p in target["spec"]["ports"]]:
                err(f"ConfigMap {name}: ETCD_ENDPOINT {endpoint} names no Service port")
    return errors


def check_kustomize_and_istio(resources):
    errors = []
    base = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    for resource in base["resources"]:
        if not (BASE / resource).exists():
            errors.append(f"kustomization.yaml: {resource} does not exist")
    images = {d["spec"]["template"]["spec"]["containers"][0]["image"].split(":")[0]
              for (k, _), (_, d) in resources.items() if k == "Deployment"}
    for overlay in (ROOT / "deploy" / "k8s" / "overlays").glob("*/kustomization.yaml"):
        spec = yaml.safe_load(overlay.read_text())
        for resource in spec.get("resources", []):
            if not (overlay.parent / resource).exists():
                errors.append(f"{overlay.relative_to(ROOT)}: {resource} does not exist")
        for image in spec.get("images", []):
            if image["name"] not in images:
                errors.append(f"{overlay.relative_to(ROOT)}: image {image['name']} is used by no Deployment")
        for replica in spec.get("replicas", []):
            if ("Deployment", replica["name"]) not in resources:
                errors.append(f"{overlay.relative_to(ROOT)}: replicas of {replica['name']}, no such Deployment")
    for path in (ROOT / "deploy" / "k8s" / "istio").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            hosts = doc["spec"].get("hosts", []) + [doc["spec"].get("host")]
            for host in filter(None, hosts):
                if ("Service", host) not in resources:
                    errors.append(f"{path.name}: host {host} is no Service")
            for route in doc["spec"].get("http", []):
                for dest in route["route"]:
                    service = resources.get(("Service", dest["destination"]["host"]))
                    port = dest["destination"].get("port", {}).get("number")
                    if service and port not in [p["port"] for p in service[1]["spec"]["ports"]]:
                        errors.append(f"{path.name}: {dest['destination']['host']}:{port} is no Service port")
    return errors


def run(resources, dockerfile):
    return check(resources, dockerfile) + check_kustomize_and_istio(resources)


def self_test(resources, dockerfile):
    """Each broken copy of the manifests must fail the check."""

    def container(res, name):
        return res[("Deployment", name)][1]["spec"]["template"]["spec"]["containers"][0]

    def probe_path(res):
        container(res, "gateway")["readinessProbe"]["httpGet"]["path"] = "/healthz"

    def port(res):
        container(res, "user")["ports"][0]["containerPort"] = 8080

    def env_name(res):
        container(res, "order")["env"][0]["name"] = "ORDER_PORT"

    def liveness(res):
        container(res, "chat")["livenessProbe"] = {"httpGet": {"path": "/health", "port": "http"}}

    def scrape_port(res):
        res[("Deployment", "product")][1]["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] = "9000"

    def secret(res):
        res[("Secret", "shop-secrets")][1]["stringData"] = {}

    failures = 0
    for breaks in (probe_path, port, env_name, liveness, scrape_port, secret):
        broken = copy.deepcopy(resources)
        breaks(broken)
        found = run(broken, dockerfile)
        if not found:
            print(f"self-test: breaking {breaks.__name__} went unnoticed")
            failures += 1
        else:
            print(f"self-test: {breaks.__name__} caught: {found[0]}")
    if "EXPOSE" in dockerfile and not run(resources, dockerfile.replace("EXPOSE 8000 9000", "EXPOSE 8000")):
        print("self-test: a port missing from EXPOSE went unnoticed")
        failures += 1
    return failures


def main():
    resources = load_all(BASE)
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    if "--self-test" in sys.argv:
        sys.exit(1 if self_test(resources, dockerfile) else 0)
    errors = run(resources, dockerfile)
    for error in errors:
        print(f"deploy check: {error}")
    if errors:
        sys.exit(1)
    deployments = sum(1 for kind, _ in resources if kind == "Deployment")
    print(f"deploy check: {deployments} Deployments match their programs, configs, ports, probes and scrape annotations")


if __name__ == "__main__":
    main()
