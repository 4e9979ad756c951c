"""A real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager.

Started the way controller-runtime's envtest starts one, plus kube-controller-manager so that
Deployments get ReplicaSets and rollouts happen. No scheduler and no kubelet: pods stay Pending.

`python -m iss_devstack.controlplane` runs one in the foreground until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType

from iss_devstack.errors import DevstackError
from iss_devstack.gobuild import Binaries, ensure_binaries
from iss_devstack.pki import ADMIN_USER, CONTROLLER_MANAGER_USER, Pki, ensure_pki, kubeconfig_text
from iss_devstack.procs import Process, free_port, port_open, stop_pid_file
from iss_devstack.progress import say, step
from iss_devstack.settings import DevstackSettings

__all__ = ["Binaries", "CommandFailed", "ControlPlane", "ensure_binaries", "main"]

SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
CONTROLLERS = (
    "clusterrole-aggregation-controller",
    "cronjob-controller",
    "deployment-controller",
    "endpoints-controller",
    "endpointslice-controller",
    "garbage-collector-controller",
    "job-controller",
    "namespace-controller",
    "persistentvolumeclaim-protection-controller",
    "replicaset-controller",
    "root-ca-certificate-publisher-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "statefulset-controller",
    "ttl-after-finished-controller",
)
"""What runs without nodes. Scheduling, node and cloud controllers have nothing to act on."""
NODE_CONTROLLERS = (
    "persistentvolume-binder-controller",
    "persistentvolume-protection-controller",
)
"""Added when a node joins: its PersistentVolumeClaims get bound (iss_devstack.nodevolumes)."""
PROCESS_NAMES = ("etcd", "kube-apiserver", "kube-controller-manager")
START_TIMEOUT = 180.0
"""Generous: the machines that run the tests share two cores between many jobs."""
COMMAND_TIMEOUT = 300.0


class CommandFailed(subprocess.CalledProcessError):
    """A kubectl or helm command failed; the message carries what it printed."""

    def __str__(self) -> str:
        output = f"{self.stdout or ''}{self.stderr or ''}".strip()
        return f"{super().__str__()}\n{output}"


class ControlPlane:
    """One control plane with its data, certificates, logs and kubeconfig under `data_dir`.

    Ports left as None are picked free when the control plane starts.
    """

    def __init__(
        self,
        settings: DevstackSettings,
        data_dir: Path,
        *,
        etcd_port: int | None = None,
        apiserver_port: int | None = None,
        advertise_address: str | None = None,
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.etcd_port = etcd_port
        self.apiserver_port = apiserver_port
        self.advertise_address = advertise_address
        """With a node: the address pods reach the API server on (the `kubernetes` Service)."""
        self.binaries: Binaries | None = None
        self._processes: dict[str, Process] = {}
        self._etcd_peer_port: int | None = None

    @classmethod
    def for_tests(cls, settings: DevstackSettings, data_dir: Path) -> ControlPlane:
        """A control plane on free ports, with everything in `data_dir` (a temporary folder)."""
        return cls(settings, data_dir)

    @classmethod
    def for_devstack(cls, settings: DevstackSettings) -> ControlPlane:
        """The control plane of `make up`: fixed ports, state kept between runs."""
        return cls(
            settings,
            settings.state_dir / "controlplane",
            etcd_port=settings.etcd_port,
            apiserver_port=settings.apiserver_port,
        )

    # Where things are

    @property
    def pki(self) -> Pki:
        return Pki(self.data_dir / "pki")

    @property
    def kubeconfig(self) -> Path:
        """Administrator (system:masters) credentials for kubectl, helm and client libraries."""
        return self.data_dir / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self._port('apiserver_port')}"

    @property
    def ca_cert(self) -> Path:
        """The CA that signed the API server's serving certificate."""
        return self.pki.ca_cert

    @property
    def env(self) -> dict[str, str]:
        """Environment for clients: KUBECONFIG, PATH with kubectl and helm first, helm homes.

        Every cache and config folder points into the data dir, so nothing writes to ~.
        """
        binaries = self._binaries()
        path = os.pathsep.join(
            [*(str(d) for d in binaries.path_dirs), os.environ.get("PATH", os.defpath)]
        )
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "PATH": path,
            "KUBECACHEDIR": str(self.data_dir / "kube-cache"),
            "HELM_CACHE_HOME": str(self.data_dir / "helm" / "cache"),
            "HELM_CONFIG_HOME": str(self.data_dir / "helm" / "config"),
            "HELM_DATA_HOME": str(self.data_dir / "helm" / "data"),
        }

    def log_path(self, name: str) -> Path:
        return self.data_dir / "logs" / f"{name}.log"

    def pid_path(self, name: str) -> Path:
        return self.data_dir / "run" / f"{name}.pid"

    # Lifecycle

    def start(self) -> None:
        """Build or reuse the binaries, then start etcd, the API server, the controllers."""
        self.binaries = ensure_binaries(self.settings)
        if self.etcd_port is None:
            self.etcd_port = free_port()
        if self.apiserver_port is None:
            self.apiserver_port = free_port()
        for what, port, setting in (
            ("etcd", self.etcd_port, "ISS_DEVSTACK_ETCD_PORT"),
            ("kube-apiserver", self.apiserver_port, "ISS_DEVSTACK_APISERVER_PORT"),
        ):
            if port_open(port):
                raise DevstackError(
                    f"port {port} for {what} is taken; stop what listens there "
                    f"(`make down` if it is an earlier stack) or choose another with {setting}"
                )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ensure_pki(self.pki.directory)
        self.kubeconfig.write_text(
            kubeconfig_text(
                server=self.server,
                ca_cert=self.pki.ca_cert,
                client_cert=self.pki.admin_cert,
                client_key=self.pki.admin_key,
                user=ADMIN_USER,
            )
        )
        self.kubeconfig.chmod(0o600)
        try:
            with step(f"starting the Kubernetes control plane on {self.server}"):
                self._start_etcd()
                self._start_apiserver()
                self._start_controller_manager()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the processes this object started, newest first."""
        for name in reversed(PROCESS_NAMES):
            process = self._processes.pop(name, None)
            if process is not None:
                process.stop()

    def stop_recorded(self) -> list[str]:
        """Stop a control plane another process started in this data dir, by its pid files.

        Returns the names of the processes that were still running.
        """
        self.stop()
        return [name for name in reversed(PROCESS_NAMES) if stop_pid_file(self.pid_path(name))]

    def kill(self, name: str) -> None:
        """SIGKILL one process (etcd or kube-apiserver), as a crash would; see `revive`."""
        process = self._processes.pop(name)
        if process.popen is not None:
            process.popen.kill()
            process.popen.wait()

    def revive(self, name: str) -> None:
        """Start a killed process again on its old port and data, and wait until it serves."""
        starts = {"etcd": self._start_etcd, "kube-apiserver": self._start_apiserver}
        starts[name]()

    def send_signal(self, name: str, sig: signal.Signals) -> None:
        """Signal one process: SIGSTOP freezes it (sockets stay open), SIGCONT thaws it."""
        popen = self._processes[name].popen
        if popen is not None:
            popen.send_signal(sig)

    def running(self) -> list[str]:
        """Names of the processes this object started that are still alive."""
        return [name for name, process in self._processes.items() if process.alive()]

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Clients

    def kubectl(
        self,
        *args: str,
        input: str | None = None,
        check: bool = True,
        timeout: float = COMMAND_TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl as the administrator; with check, a failure raises CommandFailed."""
        return self._run([str(self._binaries().kubectl), *args], input, check, timeout)

    def helm(
        self, *args: str, check: bool = True, timeout: float = COMMAND_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """Run helm against this control plane; with check, a failure raises CommandFailed."""
        return self._run([str(self._binaries().helm), *args], None, check, timeout)

    def create_namespace(self, name: str, timeout: float = 60.0) -> None:
        """Create a namespace and wait for its `default` ServiceAccount, so pods are admitted."""
        self.kubectl("create", "namespace", name)
        deadline = time.monotonic() + timeout
        while self._api_status(f"/api/v1/namespaces/{name}/serviceaccounts/default") != 200:
            if time.monotonic() > deadline:
                raise DevstackError(
                    f"namespace {name} got no default ServiceAccount within {timeout:.0f}s; "
                    f"is kube-controller-manager running? See "
                    f"{self.log_path('kube-controller-manager')}"
                )
            time.sleep(0.2)

    def delete_namespace(self, name: str) -> None:
        """Delete a namespace without waiting for its finalization."""
        self.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")

    # Internals

    def _port(self, attribute: str) -> int:
        port: int | None = getattr(self, attribute)
        if port is None:
            raise DevstackError("the control plane has not been started: call start() first")
        return port

    def _binaries(self) -> Binaries:
        if self.binaries is None:
            self.binaries = ensure_binaries(self.settings)
        return self.binaries

    def _run(
        self, argv: list[str], input_text: str | None, check: bool, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            argv,
            input=input_text,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise CommandFailed(result.returncode, argv, result.stdout, result.stderr)
        return result

    def _spawn(self, name: str, argv: Sequence[str | Path]) -> Process:
        process = Process(
            name=name,
            argv=[str(arg) for arg in argv],
            log_path=self.log_path(name),
            pid_path=self.pid_path(name),
            cwd=self.data_dir,
        )
        process.start()
        self._processes[name] = process
        return process

    def _start_etcd(self) -> None:
        binaries = self._binaries()
        client_url = f"http://127.0.0.1:{self._port('etcd_port')}"
        if self._etcd_peer_port is None:
            self._etcd_peer_port = free_port()
        peer_url = f"http://127.0.0.1:{self._etcd_peer_port}"
        process = self._spawn(
            "etcd",
            [
                binaries.etcd,
                "--name=devstack",
                f"--data-dir={self.data_dir / 'etcd'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=devstack={peer_url}",
                # A throwaway development store: losing it on a power cut is fine.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )

        def healthy() -> bool:
            with urllib.request.urlopen(f"{client_url}/health", timeout=2) as response:
                return bool(json.load(response).get("health") == "true")

        process.wait_until(healthy, START_TIMEOUT, f"etcd answers on {client_url}")

    def _start_apiserver(self) -> None:
        binaries = self._binaries()
        pki = self.pki
        process = self._spawn(
            "kube-apiserver",
            [
                binaries.kube_apiserver,
                f"--etcd-servers=http://127.0.0.1:{self._port('etcd_port')}",
                "--bind-address=127.0.0.1",
                *self._advertise_flags(),
                f"--secure-port={self._port('apiserver_port')}",
                f"--cert-dir={self.data_dir / 'apiserver-certs'}",
                f"--tls-cert-file={pki.serving_cert}",
                f"--tls-private-key-file={pki.serving_key}",
                f"--client-ca-file={pki.ca_cert}",
                "--authorization-mode=Node,RBAC",
                f"--service-account-issuer={self.server}",
                f"--service-account-key-file={pki.service_account_pub}",
                f"--service-account-signing-key-file={pki.service_account_key}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                "--allow-privileged=true",
                # `kubectl logs` and `exec` on a node's pods: the API server calls the kubelet.
                f"--kubelet-client-certificate={pki.admin_cert}",
                f"--kubelet-client-key={pki.admin_key}",
                # The node's name resolves nowhere; its address is what the API server dials.
                "--kubelet-preferred-address-types=InternalIP",
                # The ServiceAccount admission plugin stays on (unlike envtest): the
                # controller manager creates each namespace's default ServiceAccount.
                "--profiling=false",
            ],
        )
        process.wait_until(
            lambda: self._api_status("/readyz") == 200,
            START_TIMEOUT,
            f"{self.server}/readyz answers ok",
        )

    def _controllers(self) -> tuple[str, ...]:
        return CONTROLLERS if self.advertise_address is None else CONTROLLERS + NODE_CONTROLLERS

    def _advertise_flags(self) -> list[str]:
        if self.advertise_address is None:
            # No endpoints for the `kubernetes` Service: a loopback address is invalid there,
            # and nothing in a pod-less cluster would reach it.
            return ["--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none"]
        # The node forwards this address to the loopback listener (iss_devstack.nodeforward).
        return [f"--advertise-address={self.advertise_address}", "--endpoint-reconciler-type=lease"]

    def _start_controller_manager(self) -> None:
        binaries = self._binaries()
        pki = self.pki
        kubeconfig = self.data_dir / "controller-manager.kubeconfig"
        kubeconfig.write_text(
            kubeconfig_text(
                server=self.server,
                ca_cert=pki.ca_cert,
                client_cert=pki.controller_manager_cert,
                client_key=pki.controller_manager_key,
                user=CONTROLLER_MANAGER_USER,
            )
        )
        kubeconfig.chmod(0o600)
        port = free_port()
        process = self._spawn(
            "kube-controller-manager",
            [
                binaries.kube_controller_manager,
                f"--kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={self.data_dir / 'controller-manager-certs'}",
                f"--service-account-private-key-file={pki.service_account_key}",
                f"--root-ca-file={pki.ca_cert}",
                "--use-service-account-credentials=true",
                "--leader-elect=false",
                f"--controllers={','.join(self._controllers())}",
                "--profiling=false",
            ],
        )
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        # Its serving certificate is self-signed; this only asks whether it is up.
        insecure.verify_mode = ssl.CERT_NONE

        def healthy() -> bool:
            url = f"https://127.0.0.1:{port}/healthz"
            with urllib.request.urlopen(url, timeout=2, context=insecure) as response:
                return bool(response.status == 200)

        process.wait_until(healthy, START_TIMEOUT, "kube-controller-manager answers /healthz")
        # The first namespace's ServiceAccount shows the controllers really act.
        process.wait_until(
            lambda: self._api_status("/api/v1/namespaces/default/serviceaccounts/default") == 200,
            START_TIMEOUT,
            "the default namespace has its default ServiceAccount",
        )

    def _api_status(self, path: str) -> int:
        """HTTP status of a GET as the administrator; 0 if the server does not answer."""
        context = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        context.load_cert_chain(str(self.pki.admin_cert), str(self.pki.admin_key))
        try:
            with urllib.request.urlopen(
                f"{self.server}{path}", timeout=5, context=context
            ) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the control plane in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m iss_devstack.controlplane",
        description="Run a local Kubernetes control plane (etcd, kube-apiserver, "
        "kube-controller-manager) until interrupted.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="state, logs and kubeconfig (default: <state_dir>/controlplane)",
    )
    parser.add_argument(
        "--stop",
        action="store_true",
        help="stop a control plane that another process started in the data dir, then exit",
    )
    options = parser.parse_args(argv)
    settings = DevstackSettings()
    controlplane = ControlPlane.for_devstack(settings)
    if options.data_dir is not None:
        controlplane.data_dir = options.data_dir.resolve()
    if options.stop:
        stopped = controlplane.stop_recorded()
        say(f"stopped {', '.join(stopped)}" if stopped else "no control plane was running")
        return 0

    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    try:
        controlplane.start()
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        print(f"kubeconfig: {controlplane.kubeconfig}")
        print(f"export KUBECONFIG={controlplane.kubeconfig}")
        print(f"export PATH={controlplane.env['PATH']}")
        say("running; Ctrl-C stops it")
        sys.stdout.flush()
        while not stopping:
            dead = [name for name in PROCESS_NAMES if name not in controlplane.running()]
            if dead:
                say(f"{', '.join(dead)} exited; see {controlplane.log_path(dead[0])}")
                return 1
            time.sleep(0.5)
        return 0
    except DevstackError as error:
        say(str(error))
        return 1
    finally:
        with step("stopping the Kubernetes control plane"):
            controlplane.stop()


if __name__ == "__main__":
    sys.exit(main())
