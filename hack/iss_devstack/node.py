"""A real Kubernetes node on this machine, joined to the devstack control plane.

Runs on the host, as processes of its own: Debian's containerd as a separate instance on its own
socket (CRI plugin on), the CNI bridge plugin with host-local addresses, kubelet, kube-proxy
(iptables mode), kube-scheduler, and CoreDNS serving `cluster.local` on the node address. Images
are imported into the node's containerd from `docker save` archives; nothing is pulled.

The node's address lives on a portless bridge (iss_devstack.nodenet); host services that listen
on 127.0.0.1 (the API server, Kafka) are reached from pods through iss_devstack.nodeforward.
Stopping removes every process, mount, cgroup, interface, iptables rule and sysctl change the
node made; `leftovers()` lists whatever is still there, and is what the tests check.

`make cluster-up` starts one (iss_devstack.cluster); `iss-devstack node-down` stops whichever
node runs on the machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from iss_devstack.apt import ensure_packages
from iss_devstack.controlplane import SERVICE_CLUSTER_IP_RANGE, ControlPlane
from iss_devstack.errors import DevstackError
from iss_devstack.gobuild import NodeBinaries, ensure_node_binaries
from iss_devstack.nodenet import (
    NODE_BRIDGE,
    POD_BRIDGE,
    NodeNetwork,
    iptables_rules,
    link_names,
    remove_node_rules,
)
from iss_devstack.pki import ensure_client_cert, kubeconfig_text
from iss_devstack.procs import Process, free_port, pid_file_alive, port_open, stop_pid_file
from iss_devstack.progress import step
from iss_devstack.settings import DevstackSettings

PROCESS_NAMES = (
    "containerd",
    "nodeforward",
    "kube-scheduler",
    "nodevolumes",
    "kubelet",
    "kube-proxy",
    "coredns",
)
"""Start order; they stop in reverse."""
CONTAINERD_NAMESPACE = "k8s.io"
"""The containerd namespace the CRI plugin uses: images imported there are the node's."""
CNI_BIN_DIR = Path("/usr/lib/cni")
NETNS_DIR = Path("/run/netns")
CGROUP_ROOT = Path("/sys/fs/cgroup")
KUBEPODS = "kubepods"
SHIM_SOCKETS = Path("/run/containerd/s")
CNI_RESULTS = Path("/var/lib/cni/results")
NODE_MARKER = Path("/run/iss-devstack/node")
"""Names the data dir of the node running on this machine: a stop from anywhere finds it."""
CONTAINER_LOG_LINKS = Path("/var/log/containers")
"""Where the kubelet links containers' logs (a fixed path; the logs are under the node)."""
START_TIMEOUT = 180.0
DNS_ROLE = "iss-devstack:node-dns"
VOLUMES_USER = "iss-devstack:node-volumes"
PACKAGES = {
    "/usr/bin/containerd": ["containerd"],
    "/usr/sbin/runc": ["runc"],
    str(CNI_BIN_DIR / "bridge"): ["containernetworking-plugins"],
    "/usr/sbin/iptables": ["iptables"],
}
KERNEL_SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)
"""The kubelet sets these on start; the node restores them on stop."""


@dataclass(frozen=True)
class NodeLayout:
    """Where one node keeps its state: everything under `data_dir`."""

    data_dir: Path

    @property
    def containerd_root(self) -> Path:
        return self.data_dir / "containerd" / "root"

    @property
    def containerd_state(self) -> Path:
        return self.data_dir / "containerd" / "state"

    @property
    def containerd_socket(self) -> Path:
        return self.data_dir / "run" / "containerd.sock"

    @property
    def kubelet_root(self) -> Path:
        return self.data_dir / "kubelet"

    @property
    def cni_conf_dir(self) -> Path:
        return self.data_dir / "cni" / "net.d"

    @property
    def ipam_dir(self) -> Path:
        return self.data_dir / "cni" / "ipam"

    @property
    def pod_logs(self) -> Path:
        """Containers' logs (the kubelet links each from /var/log/containers)."""
        return self.data_dir / "pod-logs"

    @property
    def config_dir(self) -> Path:
        return self.data_dir / "config"

    @property
    def saved_sysctls(self) -> Path:
        return self.data_dir / "run" / "sysctls.json"

    @property
    def netns_before(self) -> Path:
        """Network namespaces in /run/netns before the node started: not ours to remove."""
        return self.data_dir / "run" / "netns-before.json"

    def log_path(self, name: str) -> Path:
        return self.data_dir / "logs" / f"{name}.log"

    def pid_path(self, name: str) -> Path:
        return self.data_dir / "run" / f"{name}.pid"


class Node:
    """One node named `name` with its state in `data_dir`, joined to `controlplane`.

    `forwarded_ports`: host ports on 127.0.0.1 (besides the API server's) that pods reach on
    the node address, such as Kafka's node listener.
    """

    def __init__(
        self,
        settings: DevstackSettings,
        controlplane: ControlPlane,
        data_dir: Path,
        *,
        sandbox_image: str,
        forwarded_ports: Sequence[int] = (),
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.controlplane = controlplane
        self.layout = NodeLayout(data_dir)
        self.sandbox_image = sandbox_image
        self.forwarded_ports = list(forwarded_ports)
        self.name = name or settings.node_name
        self.binaries: NodeBinaries | None = None
        self._processes: dict[str, Process] = {}

    @classmethod
    def for_devstack(
        cls, settings: DevstackSettings, controlplane: ControlPlane, *, sandbox_image: str
    ) -> Node:
        """The node of `make cluster-up`: state under the devstack's state dir."""
        return cls(
            settings,
            controlplane,
            settings.state_dir / "node",
            sandbox_image=sandbox_image,
            forwarded_ports=[settings.kafka_node_port],
        )

    @property
    def address(self) -> str:
        return self.settings.node_address

    @property
    def network(self) -> NodeNetwork:
        return NodeNetwork(
            node_address=self.address,
            pod_cidr=self.settings.pod_cidr,
            service_cidr=SERVICE_CLUSTER_IP_RANGE,
            saved_forwarding=self.layout.data_dir / "run" / "ip_forward",
        )

    @property
    def dns_address(self) -> str:
        """The cluster DNS server pods are given (CoreDNS on the node address)."""
        return self.address

    # Lifecycle

    def start(self) -> None:
        """Check what the node needs, then bring it up; on any failure, remove what started."""
        self.check_prerequisites()
        self.binaries = ensure_node_binaries(self.settings)
        NODE_MARKER.parent.mkdir(parents=True, exist_ok=True)
        NODE_MARKER.write_text(str(self.layout.data_dir))
        try:
            with step(f"starting the Kubernetes node {self.name} on {self.address}"):
                self._prepare_dirs()
                self._save_sysctls()
                self.network.create()
                self._start_containerd()
                self._start_forwarder()
                self._start_scheduler()
                self._start_volumes()
                self._start_kubelet()
                self._start_kube_proxy()
                self._start_dns()
        except BaseException:
            self.stop()
            raise

    def check_prerequisites(self) -> None:
        """Packages (installed as root), no stale node, a control plane that advertises."""
        for provides, packages in PACKAGES.items():
            ensure_packages(packages, provides=provides)
        stale = self.leftovers()
        if stale:
            raise DevstackError(
                "a Kubernetes node from an earlier run is still here ("
                + "; ".join(stale[:6])
                + (" ..." if len(stale) > 6 else "")
                + "): stop it with `make cluster-down` "
                + "(or `.venv/bin/iss-devstack node-down` for a test run's node)"
            )
        if self.controlplane.advertise_address != self.address:
            raise DevstackError(
                f"the control plane advertises {self.controlplane.advertise_address}, not the "
                f"node address {self.address}: pods could not reach the API server"
            )
        if not port_open(int(self.controlplane.server.rsplit(":", 1)[1])):
            raise DevstackError(
                f"no API server answers on {self.controlplane.server}: start the control plane "
                "first (`make cluster-up` does both)"
            )

    def stop(self) -> list[str]:
        """Stop every node process and remove everything the node made; what was removed."""
        removed: list[str] = []
        other = recorded_node_dir()
        if other is not None and other != self.layout.data_dir:
            # A node another run started, in a folder of its own: stop that one too.
            removed += Node(
                self.settings, self.controlplane, other, sandbox_image=self.sandbox_image
            ).stop()
        for name in reversed(PROCESS_NAMES):
            process = self._processes.pop(name, None)
            if process is not None and process.alive():
                process.stop()
                removed.append(f"process {name}")
            elif stop_pid_file(self.layout.pid_path(name)):
                removed.append(f"process {name}")
        removed += self._cleanup_kube_proxy_rules()
        removed += self._kill_pods()
        removed += self._remove_runtime_files()
        removed += self._unmount()
        removed += self._remove_netns()
        removed += self._remove_cgroups()
        removed += self.network.remove()
        removed += remove_node_rules()
        removed += self._restore_sysctls()
        removed += self._remove_log_links()
        shutil.rmtree(self.layout.containerd_state, ignore_errors=True)
        shutil.rmtree(self.layout.ipam_dir, ignore_errors=True)
        if recorded_node_dir() == self.layout.data_dir:
            NODE_MARKER.unlink()
            with contextlib.suppress(OSError):
                NODE_MARKER.parent.rmdir()
        return removed

    def leftovers(self) -> list[str]:
        """What of a node (this one or an earlier one) is still on the machine."""
        found: list[str] = []
        other = recorded_node_dir()
        if other is not None and other != self.layout.data_dir:
            found.append(f"a node's state in {other}")
        found += [
            f"process {name}"
            for name in PROCESS_NAMES
            if pid_file_alive(self.layout.pid_path(name))
        ]
        found += [f"process {pid} ({what})" for pid, what in self._node_pids()]
        found += [f"mount {path}" for path in self._node_mounts()]
        found += [f"interface {name}" for name in link_names() if name in (NODE_BRIDGE, POD_BRIDGE)]
        found += [f"iptables {rule}" for rule in iptables_rules()]
        found += [f"cgroup {path}" for path in _kubepods_cgroups()]
        found += [f"log link {path}" for path in self._log_links()]
        found += [f"runtime file {path}" for path in self._runtime_files()]
        return found

    def running(self) -> list[str]:
        return [name for name, process in self._processes.items() if process.alive()]

    # Images

    def import_image(self, archive: Path) -> None:
        """Load a `docker save` archive into the node's containerd (what kubelet runs from)."""
        if not archive.is_file():
            raise DevstackError(f"no image archive at {archive}: build it with `make images`")
        self._ctr("images", "import", "--no-unpack=false", str(archive), timeout=600)

    def images(self) -> list[str]:
        """Names of the images the node's runtime has."""
        out = self._ctr("images", "list", "--quiet")
        return [line for line in out.splitlines() if line and not line.startswith("sha256:")]

    def ctr(self, *args: str, timeout: float = 120.0) -> str:
        """Run containerd's `ctr` against the node's runtime (namespace k8s.io)."""
        return self._ctr(*args, timeout=timeout)

    # Internals: start

    def _prepare_dirs(self) -> None:
        for path in (
            self.layout.containerd_root,
            self.layout.kubelet_root,
            self.layout.cni_conf_dir,
            self.layout.config_dir,
            self.layout.containerd_socket.parent,
        ):
            path.mkdir(parents=True, exist_ok=True)
        # Leases of pods that no longer exist would make host-local hand out fewer addresses.
        shutil.rmtree(self.layout.ipam_dir, ignore_errors=True)
        shutil.rmtree(self.layout.containerd_state, ignore_errors=True)
        existing = sorted(p.name for p in NETNS_DIR.glob("cni-*")) if NETNS_DIR.is_dir() else []
        self.layout.netns_before.write_text(json.dumps(existing))

    def _save_sysctls(self) -> None:
        if self.layout.saved_sysctls.exists():
            return
        values = {key: (Path("/proc/sys") / key).read_text() for key in KERNEL_SYSCTLS}
        self.layout.saved_sysctls.write_text(json.dumps(values))

    def _spawn(
        self, name: str, argv: Sequence[str | Path], env: dict[str, str] | None = None
    ) -> Process:
        process = Process(
            name=name,
            argv=[str(arg) for arg in argv],
            log_path=self.layout.log_path(name),
            pid_path=self.layout.pid_path(name),
            cwd=self.layout.data_dir,
            env=env or {},
        )
        process.start()
        self._processes[name] = process
        return process

    def _start_containerd(self) -> None:
        config = self.layout.config_dir / "containerd.toml"
        config.write_text(self._containerd_config())
        (self.layout.cni_conf_dir / "10-iss-node.conflist").write_text(self._cni_config())
        process = self._spawn("containerd", ["containerd", "--config", config])
        process.wait_until(
            lambda: self.layout.containerd_socket.is_socket() and bool(self._ctr("version")),
            START_TIMEOUT,
            f"containerd answers on {self.layout.containerd_socket}",
        )

    def _containerd_config(self) -> str:
        layout = self.layout
        cri = 'plugins."io.containerd.grpc.v1.cri"'
        return "\n".join(
            [
                "version = 2",
                f'root = "{layout.containerd_root}"',
                f'state = "{layout.containerd_state}"',
                'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", '
                '"io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", '
                '"io.containerd.snapshotter.v1.zfs"]',
                "[grpc]",
                f'  address = "{layout.containerd_socket}"',
                '[plugins."io.containerd.internal.v1.opt"]',
                f'  path = "{layout.data_dir / "containerd" / "opt"}"',
                f"[{cri}]",
                f'  sandbox_image = "{self.sandbox_image}"',
                # This machine refuses oom_score_adj -998 for the sandbox: runc fails without it.
                "  restrict_oom_score_adj = true",
                f"[{cri}.containerd]",
                '  snapshotter = "overlayfs"',
                '  default_runtime_name = "runc"',
                f"[{cri}.containerd.runtimes.runc]",
                '  runtime_type = "io.containerd.runc.v2"',
                f"[{cri}.containerd.runtimes.runc.options]",
                "  SystemdCgroup = false",
                # runc's state under ours, not in /run/containerd/runc.
                f'  Root = "{layout.containerd_state / "runc"}"',
                f"[{cri}.cni]",
                f'  bin_dir = "{CNI_BIN_DIR}"',
                f'  conf_dir = "{layout.cni_conf_dir}"',
                "  max_conf_num = 1",
                "",
            ]
        )

    def _cni_config(self) -> str:
        subnet = self.settings.pod_cidr
        gateway = _first_host(subnet)
        return json.dumps(
            {
                "cniVersion": "1.0.0",
                "name": "iss-node",
                "plugins": [
                    {
                        "type": "bridge",
                        "bridge": POD_BRIDGE,
                        "isGateway": True,
                        # No masquerading: pod traffic never leaves the machine (nodenet).
                        "ipMasq": False,
                        "hairpinMode": True,
                        "ipam": {
                            "type": "host-local",
                            "ranges": [[{"subnet": subnet, "gateway": gateway}]],
                            "routes": [{"dst": "0.0.0.0/0"}],
                            "dataDir": str(self.layout.ipam_dir),
                        },
                    }
                ],
            },
            indent=2,
        )

    def _start_forwarder(self) -> None:
        api_port = int(self.controlplane.server.rsplit(":", 1)[1])
        ports = [api_port, *self.forwarded_ports]
        process = self._spawn(
            "nodeforward",
            [sys.executable, "-m", "iss_devstack.nodeforward", self.address, *map(str, ports)],
        )
        process.wait_until(
            lambda: all(port_open(port, self.address) for port in ports),
            START_TIMEOUT,
            f"the node address forwards ports {ports}",
        )

    def _kubeconfig(self, name: str, user: str, group: str | None = None) -> Path:
        cert, key = ensure_client_cert(self.controlplane.pki, name, user=user, group=group)
        path = self.layout.config_dir / f"{name}.kubeconfig"
        path.write_text(
            kubeconfig_text(
                server=self.controlplane.server,
                ca_cert=self.controlplane.ca_cert,
                client_cert=cert,
                client_key=key,
                user=user,
            )
        )
        path.chmod(0o600)
        return path

    def _start_scheduler(self) -> None:
        kubeconfig = self._kubeconfig("kube-scheduler", "system:kube-scheduler")
        port = free_port()
        config = self.layout.config_dir / "kube-scheduler.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "kubescheduler.config.k8s.io/v1",
                    "kind": "KubeSchedulerConfiguration",
                    "clientConnection": {"kubeconfig": str(kubeconfig)},
                    "leaderElection": {"leaderElect": False},
                }
            )
        )
        process = self._spawn(
            "kube-scheduler",
            [
                self._bin().kube_scheduler,
                f"--config={config}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={self.layout.config_dir / 'scheduler-certs'}",
            ],
        )
        process.wait_until(
            lambda: _https_ok(f"https://127.0.0.1:{port}/healthz"),
            START_TIMEOUT,
            "kube-scheduler answers /healthz",
        )

    def _start_volumes(self) -> None:
        from iss_devstack.nodevolumes import STORAGE_CLASS

        kubeconfig = self._kubeconfig("node-volumes", VOLUMES_USER)
        self.controlplane.kubectl("apply", "-f", "-", input=_volumes_manifests())
        process = self._spawn(
            "nodevolumes",
            [
                sys.executable, "-m", "iss_devstack.nodevolumes",
                kubeconfig, self.layout.data_dir / "volumes",
            ],
        )  # fmt: skip
        process.wait_until(
            lambda: "provisioning" in self.layout.log_path("nodevolumes").read_text(),
            START_TIMEOUT,
            f"the {STORAGE_CLASS} provisioner runs",
        )

    def _start_kubelet(self) -> None:
        kubeconfig = self._kubeconfig("kubelet", f"system:node:{self.name}", group="system:nodes")
        healthz_port = free_port()
        config = self.layout.config_dir / "kubelet.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "kubelet.config.k8s.io/v1beta1",
                    "kind": "KubeletConfiguration",
                    "address": self.address,
                    "port": free_port(),
                    "readOnlyPort": 0,
                    "healthzBindAddress": "127.0.0.1",
                    "healthzPort": healthz_port,
                    "containerRuntimeEndpoint": f"unix://{self.layout.containerd_socket}",
                    # cgroup v1 without systemd here.
                    "cgroupDriver": "cgroupfs",
                    "failCgroupV1": False,
                    "failSwapOn": False,
                    "authentication": {
                        "anonymous": {"enabled": False},
                        "webhook": {"enabled": True},
                        "x509": {"clientCAFile": str(self.controlplane.ca_cert)},
                    },
                    "authorization": {"mode": "Webhook"},
                    "clusterDNS": [self.dns_address],
                    "clusterDomain": "cluster.local",
                    "resolvConf": str(self._resolv_conf()),
                    # Imported images have no registry to come back from: never collect them,
                    # and evict nothing for a nearly full disk of a development machine.
                    "imageGCHighThresholdPercent": 100,
                    "imageGCLowThresholdPercent": 99,
                    "evictionHard": {
                        "memory.available": "100Mi",
                        "nodefs.available": "1%",
                        "imagefs.available": "1%",
                    },
                    "serializeImagePulls": False,
                    "podLogsDir": str(self.layout.pod_logs),
                    "staticPodPath": "",
                }
            )
        )
        process = self._spawn(
            "kubelet",
            [
                self._bin().kubelet,
                f"--config={config}",
                f"--kubeconfig={kubeconfig}",
                f"--root-dir={self.layout.kubelet_root}",
                f"--cert-dir={self.layout.kubelet_root / 'pki'}",
                f"--hostname-override={self.name}",
                f"--node-ip={self.address}",
            ],
        )
        process.wait_until(self._node_ready, START_TIMEOUT, f"node {self.name} is Ready")
        # The devstack runs no node lifecycle controller, which would lift this taint.
        self.controlplane.kubectl(
            "taint", "nodes", self.name, "node.kubernetes.io/not-ready:NoSchedule-", check=False
        )

    def _resolv_conf(self) -> Path:
        """The upstream resolvers pods with dnsPolicy Default see: none (no route off here)."""
        path = self.layout.config_dir / "resolv.conf"
        path.write_text("options ndots:1\n")
        return path

    def _node_ready(self) -> bool:
        result = self.controlplane.kubectl(
            "get",
            "node",
            self.name,
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            check=False,
            timeout=20,
        )
        return result.returncode == 0 and result.stdout.strip() == "True"

    def _start_kube_proxy(self) -> None:
        kubeconfig = self._kubeconfig("kube-proxy", "system:kube-proxy")
        healthz = free_port()
        config = self.layout.config_dir / "kube-proxy.yaml"
        config.write_text(yaml.safe_dump(self._kube_proxy_config(kubeconfig, healthz)))
        process = self._spawn("kube-proxy", [self._bin().kube_proxy, f"--config={config}"])
        process.wait_until(
            lambda: _http_ok(f"http://127.0.0.1:{healthz}/healthz"),
            START_TIMEOUT,
            "kube-proxy answers /healthz",
        )

    def _kube_proxy_config(self, kubeconfig: Path, healthz: int) -> dict[str, object]:
        return {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "clientConnection": {"kubeconfig": str(kubeconfig)},
            "hostnameOverride": self.name,
            "mode": "iptables",
            "clusterCIDR": self.settings.pod_cidr,
            "bindAddress": "127.0.0.1",
            "healthzBindAddress": f"127.0.0.1:{healthz}",
            "metricsBindAddress": f"127.0.0.1:{free_port()}",
            # NodePorts on the node address only: no route_localnet, nothing on eth0.
            "nodePortAddresses": [f"{self.address}/32"],
            # Leave the host's conntrack sysctls alone.
            "conntrack": {
                "maxPerCore": 0,
                "tcpEstablishedTimeout": "0s",
                "tcpCloseWaitTimeout": "0s",
            },
        }

    def _start_dns(self) -> None:
        kubeconfig = self._kubeconfig("node-dns", "iss-devstack:node-dns")
        self.controlplane.kubectl("apply", "-f", "-", input=_dns_rbac())
        ready = free_port()
        corefile = self.layout.config_dir / "Corefile"
        corefile.write_text(
            "\n".join(
                [
                    "cluster.local:53 in-addr.arpa:53 {",
                    f"    bind {self.dns_address}",
                    "    errors",
                    f"    ready 127.0.0.1:{ready}",
                    "    kubernetes cluster.local in-addr.arpa {",
                    f"        kubeconfig {kubeconfig} iss-devstack",
                    "        pods insecure",
                    "        ttl 5",
                    "    }",
                    "    cache 5",
                    "}",
                    "",
                ]
            )
        )
        process = self._spawn(
            "coredns", [self._bin().coredns, "-conf", corefile, "-dns.port", "53"]
        )
        process.wait_until(
            lambda: _http_ok(f"http://127.0.0.1:{ready}/ready"),
            START_TIMEOUT,
            "CoreDNS has synced the cluster's Services",
        )

    # Internals: stop

    def _cleanup_kube_proxy_rules(self) -> list[str]:
        if not any("KUBE-" in rule for rule in iptables_rules()):
            return []
        binaries = self.binaries or ensure_node_binaries(self.settings)
        subprocess.run(
            [str(binaries.kube_proxy), "--cleanup"], capture_output=True, check=False, timeout=120
        )
        return ["kube-proxy's iptables rules"]

    def _node_pids(self) -> list[tuple[int, str]]:
        """Processes of the node's pods and of its containerd shims, found by cgroup and argv."""
        found: dict[int, str] = {}
        for directory in _kubepods_cgroups():
            procs = directory / "cgroup.procs"
            try:
                pids = procs.read_text().split()
            except OSError:
                continue
            for pid in pids:
                found[int(pid)] = f"in cgroup {directory.relative_to(CGROUP_ROOT)}"
        socket = str(self.layout.containerd_socket)
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and socket.encode() in argv:
                found[int(proc.name)] = "containerd shim"
        return sorted(found.items())

    def _kill_pods(self) -> list[str]:
        killed = []
        for _ in range(20):
            pids = self._node_pids()
            if not pids:
                break
            for pid, what in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(f"process {pid} ({what})")
                except ProcessLookupError:
                    pass
            time.sleep(0.25)
        return killed

    def _node_mounts(self) -> list[Path]:
        """Mounts under the node's state, and the network namespaces its pods had."""
        before = set(_read_json_list(self.layout.netns_before))
        roots = (str(self.layout.data_dir) + "/",)
        mounts: list[Path] = []
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            point = _unescape(line.split()[4])
            if point.startswith(roots) or (
                point.startswith(f"{NETNS_DIR}/cni-") and Path(point).name not in before
            ):
                mounts.append(Path(point))
        return mounts

    def _unmount(self) -> list[str]:
        removed = []
        for _ in range(5):
            mounts = self._node_mounts()
            if not mounts:
                break
            # Deepest first, so a mount on top of another goes before it.
            for point in sorted(set(mounts), key=lambda p: len(p.parts), reverse=True):
                result = subprocess.run(["umount", str(point)], capture_output=True, check=False)
                if result.returncode != 0:
                    result = subprocess.run(
                        ["umount", "--lazy", str(point)], capture_output=True, check=False
                    )
                if result.returncode == 0:
                    removed.append(f"mount {point}")
        return removed

    def _remove_netns(self) -> list[str]:
        before = set(_read_json_list(self.layout.netns_before))
        removed = []
        if NETNS_DIR.is_dir():
            for path in NETNS_DIR.glob("cni-*"):
                if path.name not in before and not any(
                    str(point) == str(path) for point in self._node_mounts()
                ):
                    path.unlink(missing_ok=True)
                    removed.append(f"netns {path.name}")
        return removed

    def _remove_cgroups(self) -> list[str]:
        removed = []
        for directory in sorted(_kubepods_cgroups(), key=lambda p: len(p.parts), reverse=True):
            try:
                directory.rmdir()
                removed.append(f"cgroup {directory.relative_to(CGROUP_ROOT)}")
            except OSError:
                pass
        return removed

    def _container_ids(self) -> list[str]:
        tasks = (
            self.layout.containerd_state / "io.containerd.runtime.v2.task" / CONTAINERD_NAMESPACE
        )
        return [path.name for path in tasks.iterdir()] if tasks.is_dir() else []

    def _runtime_files(self) -> list[Path]:
        """Files containerd 1.6 and libcni keep outside the node's state, for its containers.

        Shim sockets in /run/containerd/s are named by a hash of the containerd address, the
        namespace and the container id; CNI results are cached in /var/lib/cni/results.
        """
        found: list[Path] = []
        for container in self._container_ids():
            key = os.path.join(str(self.layout.containerd_socket), CONTAINERD_NAMESPACE, container)
            found.append(SHIM_SOCKETS / hashlib.sha256(key.encode()).hexdigest())
            found.append(CNI_RESULTS / f"iss-node-{container}-eth0")
            found.append(CNI_RESULTS / f"cni-loopback-{container}-lo")
        return [path for path in found if path.exists() or path.is_symlink()]

    def _remove_runtime_files(self) -> list[str]:
        removed = []
        for path in self._runtime_files():
            path.unlink(missing_ok=True)
            removed.append(f"runtime file {path}")
        return removed

    def _log_links(self) -> list[Path]:
        """The kubelet's links in /var/log/containers to this node's containers' logs."""
        if not CONTAINER_LOG_LINKS.is_dir():
            return []
        prefix = str(self.layout.pod_logs) + "/"
        return [
            link
            for link in CONTAINER_LOG_LINKS.iterdir()
            if link.is_symlink() and os.readlink(link).startswith(prefix)
        ]

    def _remove_log_links(self) -> list[str]:
        removed = []
        for link in self._log_links():
            link.unlink(missing_ok=True)
            removed.append(f"log link {link.name}")
        return removed

    def _restore_sysctls(self) -> list[str]:
        path = self.layout.saved_sysctls
        if not path.exists():
            return []
        for key, value in json.loads(path.read_text()).items():
            with contextlib.suppress(OSError):
                (Path("/proc/sys") / key).write_text(value)
        path.unlink()
        return ["kernel sysctls restored"]

    # Internals: clients

    def _bin(self) -> NodeBinaries:
        if self.binaries is None:
            self.binaries = ensure_node_binaries(self.settings)
        return self.binaries

    def _ctr(self, *args: str, timeout: float = 120.0) -> str:
        result = subprocess.run(
            [
                "ctr",
                "--address",
                str(self.layout.containerd_socket),
                "-n",
                CONTAINERD_NAMESPACE,
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise DevstackError(
                f"ctr {' '.join(args)} failed (exit {result.returncode}): "
                f"{(result.stdout + result.stderr).strip()[-2000:]}"
            )
        return result.stdout


def recorded_node_dir() -> Path | None:
    """The data dir of the node that last started on this machine and has not been stopped."""
    try:
        return Path(NODE_MARKER.read_text().strip())
    except FileNotFoundError:
        return None


def _kubepods_cgroups() -> list[Path]:
    """Every cgroup folder the kubelet made (cgroupfs driver, cgroup v1 hierarchies)."""
    found: list[Path] = []
    if not CGROUP_ROOT.is_dir():
        return found
    for hierarchy in CGROUP_ROOT.iterdir():
        top = hierarchy / KUBEPODS
        if top.is_dir():
            found.append(top)
            found += [p for p in top.rglob("*") if p.is_dir()]
    return found


def _first_host(cidr: str) -> str:
    import ipaddress

    return str(next(ipaddress.ip_network(cidr).hosts()))


def _read_json_list(path: Path) -> list[str]:
    try:
        return [str(item) for item in json.loads(path.read_text())]
    except (FileNotFoundError, ValueError):
        return []


def _unescape(field: str) -> str:
    """Mount points in mountinfo escape spaces and similar as octal (\\040)."""
    return field.encode().decode("unicode_escape") if "\\" in field else field


def _http_ok(url: str) -> bool:
    import urllib.request

    with urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)


def _https_ok(url: str) -> bool:
    import ssl
    import urllib.request

    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    # A self-signed serving certificate; this only asks whether the process is up.
    insecure.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url, timeout=2, context=insecure) as response:
        return bool(response.status == 200)


def _dns_rbac() -> str:
    """What CoreDNS's kubernetes plugin reads, granted to the node's DNS identity."""
    rules: list[dict[str, list[str]]] = [
        {"apiGroups": [""], "resources": ["services", "endpoints", "namespaces", "pods"],
         "verbs": ["list", "watch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
         "verbs": ["list", "watch"]},
    ]  # fmt: skip
    return yaml.safe_dump_all(_cluster_role(DNS_ROLE, rules))


def _volumes_manifests() -> str:
    """The node's default StorageClass, and what its provisioner may do."""
    from iss_devstack.nodevolumes import PROVISIONER, STORAGE_CLASS

    storage_class = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }
    rules: list[dict[str, list[str]]] = [
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["list", "get"]},
        {"apiGroups": [""], "resources": ["persistentvolumes"],
         "verbs": ["list", "get", "create", "delete"]},
    ]  # fmt: skip
    return yaml.safe_dump_all([storage_class, *_cluster_role(VOLUMES_USER, rules)])


def _cluster_role(user: str, rules: list[dict[str, list[str]]]) -> list[dict[str, object]]:
    role: dict[str, object] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": user},
        "rules": rules,
    }
    binding: dict[str, object] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": user},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": user},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }
    return [role, binding]
