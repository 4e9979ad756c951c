"""The local node's host network: its address, its pod bridge's guard rails, and their removal.

The node runs on the host (see docs/deploy.md for why), so its address lives on a bridge of its
own with no ports: a local address, never routed anywhere. The Service range is routed to that
same portless bridge, so a Service address kube-proxy did not rewrite is dropped here instead of
following the default route off the machine. Forwarded pod traffic may only stay on the pod
bridge (a rule in a chain of our own), and pods reach the host only through the node address.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from iss_devstack.errors import DevstackError
from iss_devstack.procs import run

NODE_BRIDGE = "iss-node0"
"""Holds the node address; no ports, so nothing sent to it leaves the machine."""
POD_BRIDGE = "iss-cni0"
"""The CNI bridge plugin's bridge, which the pods' veths join."""
GUARD_CHAIN = "ISS-NODE-GUARD"
"""Our FORWARD rules: pod traffic forwarded anywhere but the pod bridge is dropped."""
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")


@dataclass(frozen=True)
class NodeNetwork:
    """The addresses the node uses: its own, its pods', and the Service range."""

    node_address: str
    pod_cidr: str
    service_cidr: str
    saved_forwarding: Path
    """Where the host's ip_forward value is kept while the node runs, to restore it on stop."""

    def create(self) -> None:
        """Bridge with the node address, the Service route, the guard chain, forwarding on."""
        try:
            _ip("link", "add", NODE_BRIDGE, "type", "bridge")
            _ip("addr", "add", f"{self.node_address}/32", "dev", NODE_BRIDGE)
            _ip("link", "set", NODE_BRIDGE, "up")
            _ip("route", "add", self.service_cidr, "dev", NODE_BRIDGE)
            _iptables("-N", GUARD_CHAIN)
            _iptables("-A", GUARD_CHAIN, "-i", POD_BRIDGE, "-o", POD_BRIDGE, "-j", "RETURN")
            _iptables("-A", GUARD_CHAIN, "-i", POD_BRIDGE, "-j", "DROP")
            _iptables("-A", GUARD_CHAIN, "-o", POD_BRIDGE, "!", "-s", self.pod_cidr, "-j", "DROP")
            _iptables("-I", "FORWARD", "1", "-j", GUARD_CHAIN)
            if not self.saved_forwarding.exists():
                self.saved_forwarding.parent.mkdir(parents=True, exist_ok=True)
                self.saved_forwarding.write_text(IP_FORWARD.read_text())
            # Pod-to-Service traffic is routed by the host after kube-proxy rewrites it.
            IP_FORWARD.write_text("1\n")
        except BaseException:
            self.remove()
            raise

    def remove(self) -> list[str]:
        """Undo `create` and delete the pod bridge with any veth left on it; what was removed."""
        removed: list[str] = []
        for veth in attached_links(POD_BRIDGE):
            if _ip_ok("link", "del", veth):
                removed.append(f"veth {veth}")
        for bridge in (POD_BRIDGE, NODE_BRIDGE):
            if _ip_ok("link", "del", bridge):
                removed.append(f"bridge {bridge}")
        while _iptables_ok("-D", "FORWARD", "-j", GUARD_CHAIN):
            removed.append(f"FORWARD jump to {GUARD_CHAIN}")
        if _iptables_ok("-F", GUARD_CHAIN) and _iptables_ok("-X", GUARD_CHAIN):
            removed.append(f"iptables chain {GUARD_CHAIN}")
        if self.saved_forwarding.exists():
            IP_FORWARD.write_text(self.saved_forwarding.read_text())
            self.saved_forwarding.unlink()
            removed.append("ip_forward restored")
        return removed


def link_names() -> list[str]:
    """Every network interface of the host's namespace."""
    out = run(["ip", "-j", "link", "show"], what="ip link show")
    return [str(link["ifname"]) for link in json.loads(out or "[]")]


def attached_links(bridge: str) -> list[str]:
    """Interfaces enslaved to a bridge (none if it does not exist)."""
    result = subprocess.run(
        ["ip", "-j", "link", "show", "master", bridge], capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not result.stdout.strip():
        return []
    return [str(link["ifname"]).split("@")[0] for link in json.loads(result.stdout)]


NODE_CHAIN_MARKS = ("KUBE-", "CNI-", "ISS-NODE-")
TABLES = ("filter", "nat", "mangle", "raw")


def remove_node_rules() -> list[str]:
    """Delete every rule that jumps to a node chain, then the chains, in IPv4 and IPv6.

    kube-proxy's `--cleanup` removes its own; the kubelet's (KUBE-FIREWALL,
    KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT) and anything a cut-short run left go here.
    """
    removed: list[str] = []
    for command in ("iptables", "ip6tables"):
        for table in TABLES:
            result = subprocess.run(
                [f"{command}-save", "-t", table], capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                continue
            chains = [
                line[1:].split()[0]
                for line in result.stdout.splitlines()
                if line.startswith(":") and line[1:].startswith(NODE_CHAIN_MARKS)
            ]
            for line in result.stdout.splitlines():
                if line.startswith("-A ") and any(
                    f"-j {chain}" in line or f"-g {chain}" in line for chain in chains
                ):
                    args = shlex.split(line)[1:]
                    if args[0] not in chains:
                        delete = [command, "-w", "-t", table, "-D", *args]
                        if subprocess.run(delete, capture_output=True, check=False).returncode == 0:
                            removed.append(f"{command} -t {table} {line}")
            for chain in chains:
                subprocess.run(
                    [command, "-w", "-t", table, "-F", chain], capture_output=True, check=False
                )
            for chain in chains:
                gone = subprocess.run(
                    [command, "-w", "-t", table, "-X", chain], capture_output=True, check=False
                )
                if gone.returncode == 0:
                    removed.append(f"{command} -t {table} chain {chain}")
    return removed


def iptables_rules() -> list[str]:
    """The host's IPv4 and IPv6 rules (iptables-save lines) that belong to the node.

    KUBE-* chains are kube-proxy's; CNI-* the CNI plugins'; ISS-NODE-* ours.
    """
    found: list[str] = []
    for save in ("iptables-save", "ip6tables-save"):
        result = subprocess.run([save], capture_output=True, text=True, check=False)
        found += [
            line
            for line in result.stdout.splitlines()
            if not line.startswith("#") and any(mark in line for mark in NODE_CHAIN_MARKS)
        ]
    return found


def _ip(*args: str) -> None:
    run(["ip", *args], what=f"ip {' '.join(args)}")


def _ip_ok(*args: str) -> bool:
    return subprocess.run(["ip", *args], capture_output=True, check=False).returncode == 0


def _iptables(*args: str) -> None:
    try:
        run(["iptables", "-w", *args], what=f"iptables {' '.join(args)}")
    except FileNotFoundError as error:
        raise DevstackError("iptables is missing: run `apt-get install -y iptables`") from error


def _iptables_ok(*args: str) -> bool:
    result = subprocess.run(["iptables", "-w", *args], capture_output=True, check=False)
    return result.returncode == 0
