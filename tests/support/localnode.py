"""The local Kubernetes node for tests: a control plane that advertises the node address, the
node joined to it, and the locally built images loaded into it.

One node can run on a machine at a time (it owns the node address and its bridges), so the
fixtures that use these helpers start it for one module or package and stop it afterwards.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

from iss_devstack.controlplane import ControlPlane
from iss_devstack.node import Node
from iss_devstack.settings import DevstackSettings


def image_archives(
    settings: DevstackSettings, local_images: dict[str, str], names: list[str]
) -> dict[str, Path]:
    """`docker save` archives of the named images of the `local_images` fixture."""
    from iss_devstack.images import export

    return {name: export(local_images[name], settings) for name in names}


def start_node(
    settings: DevstackSettings,
    data_dir: Path,
    archives: dict[str, Path],
    forwarded_ports: list[int] | None = None,
) -> tuple[ControlPlane, Node]:
    """A fresh control plane and node in `data_dir`, with the archives imported."""
    from iss_devstack.images import ref

    controlplane = ControlPlane(
        settings, data_dir / "controlplane", advertise_address=settings.node_address
    )
    controlplane.start()
    node = Node(
        settings,
        controlplane,
        data_dir / "node",
        sandbox_image=ref("pause"),
        forwarded_ports=forwarded_ports or [],
    )
    try:
        node.start()
        for archive in archives.values():
            node.import_image(archive)
    except BaseException:
        node.stop()
        controlplane.stop()
        raise
    return controlplane, node


def resolve(server: str, name: str, timeout: float = 3.0) -> list[str]:
    """IPv4 addresses a DNS server gives for `name` (an A query over UDP); [] when none."""
    query = struct.pack(">HHHHHH", 0x1A2B, 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(part)]) + part.encode() for part in name.split(".")) + b"\0"
    query += struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(query, (server, 53))
        reply = sock.recv(4096)
    answers = struct.unpack(">H", reply[6:8])[0]
    offset = len(query)
    found = []
    for _ in range(answers):
        offset = _skip_name(reply, offset)
        rtype, _, _, length = struct.unpack(">HHIH", reply[offset : offset + 10])
        offset += 10
        if rtype == 1 and length == 4:
            found.append(socket.inet_ntoa(reply[offset : offset + 4]))
        offset += length
    return found


def _skip_name(message: bytes, offset: int) -> int:
    """The offset after a (possibly compressed) domain name in a DNS message."""
    while True:
        length = message[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:
            return offset + 2
        offset += 1 + length
