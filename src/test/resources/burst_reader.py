#!/usr/bin/env python3
"""A plain-Python elbus reader for BurstIT: registers, optionally subscribes, prints READY, then
reads with recv() and checks frame by frame that COUNT data frames of TYPE arrive, each body
starting with PREFIX followed by a sequence number (u32 LE) counting up from 0. Prints
"OK COUNT" or "ERR reason" and exits. Pings are skipped.

usage: burst_reader.py ADDR NAME TYPE PREFIX_HEX COUNT [TOPIC]
  ADDR is HOST:PORT or a Unix socket path.
"""
import socket
import struct
import sys


def connect(addr):
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr)
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError("closed by the broker")
        b += chunk
    return b


def register(s, name):
    """The handshake as NAME; None when registered, else why not (plain_peer.py uses it too)."""
    if read_exact(s, 3) != b"\xeb\x01\x00":
        return "bad greeting"
    s.sendall(b"\xeb\x01\x00")
    if read_exact(s, 1) != b"\x01":
        return "greeting refused"
    n = name.encode()
    s.sendall(struct.pack("<H", len(n)) + n)
    if read_exact(s, 1) != b"\x01":
        return "registration refused"
    return None


def main():
    addr, name, ftype, prefix_hex, count = sys.argv[1:6]
    topic = sys.argv[6] if len(sys.argv) > 6 else ""
    ftype, count, prefix = int(ftype), int(count), bytes.fromhex(prefix_hex)
    s = connect(addr)
    failed = register(s, name)
    if failed:
        print("ERR " + failed, flush=True)
        return 1
    if topic:
        body = topic.encode()
        s.sendall(struct.pack("<IBI", 7, 0x02 | 1 << 6, len(body)) + body)
        if read_exact(s, 6) != b"\xfe" + struct.pack("<I", 7) + b"\x01":
            print("ERR subscribe not acknowledged", flush=True)
            return 1
    print("READY", flush=True)
    buf = bytearray()
    got = 0
    pos = 0
    plen = len(prefix)
    while got < count:
        try:
            chunk = s.recv(65536)
        except OSError as e:
            print("ERR after %d frames: %s" % (got, e), flush=True)
            return 1
        if not chunk:
            print("ERR closed by the broker after %d frames" % got, flush=True)
            return 1
        buf += chunk
        while got < count and len(buf) - pos >= 6:
            t = buf[pos]
            (length,) = struct.unpack_from("<I", buf, pos + 1)
            if t == 0:
                pos += 6
                continue
            if t != ftype:
                print("ERR frame %d has type 0x%02x" % (got, t), flush=True)
                return 1
            if len(buf) - pos < 6 + length:
                break
            body = pos + 6
            if buf[body:body + plen] != prefix:
                print("ERR frame %d: unexpected sender/topic" % got, flush=True)
                return 1
            (seq,) = struct.unpack_from("<I", buf, body + plen)
            if seq != got:
                print("ERR expected sequence %d, got %d" % (got, seq), flush=True)
                return 1
            got += 1
            pos = body + length
        del buf[:pos]
        pos = 0
    print("OK %d" % got, flush=True)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
