#!/usr/bin/env python3
"""A plain-socket elbus client in Python for ServerTlsIT: what the upstream Python client does on
the wire, without TLS. Registers as NAME, subscribes to TOPIC (QoS 1), prints READY, then prints
the next two data frames it receives ("PUBLISH sender topic payload" or "MESSAGE sender payload"),
sends a direct message "hello from python" to TARGET with QoS 1, waits for its ack and prints
"OK". Pings are skipped. Any failure prints "ERR reason".

usage: plain_peer.py HOST:PORT NAME TOPIC TARGET
"""
import struct
import sys

# beside this script (ServerTlsIT copies both): the same handshake as BurstIT's reader
from burst_reader import connect, read_exact, register


def next_frame(s):
    """(type, body) of the next frame that is not a ping; acks come as (0xFE, opid+code)."""
    while True:
        head = read_exact(s, 6)
        t = head[0]
        if t == 0:
            continue  # ping: six zero bytes
        if t == 0xFE:
            return t, head[1:6]
        (length,) = struct.unpack_from("<I", head, 1)
        return t, read_exact(s, length)


def main():
    addr, name, topic, target = sys.argv[1:5]
    s = connect(addr)
    s.settimeout(30)
    failed = register(s, name)
    if failed:
        print("ERR " + failed, flush=True)
        return 1
    body = topic.encode()
    s.sendall(struct.pack("<IBI", 1, 0x02 | 1 << 6, len(body)) + body)
    if next_frame(s) != (0xFE, struct.pack("<I", 1) + b"\x01"):
        print("ERR subscribe not acknowledged", flush=True)
        return 1
    print("READY", flush=True)
    got = 0
    while got < 2:
        t, body = next_frame(s)
        if t == 0x01:
            sender, tp, payload = body.split(b"\x00", 2)
            print("PUBLISH %s %s %s" % (sender.decode(), tp.decode(), payload.decode()),
                  flush=True)
        elif t == 0x12:
            sender, payload = body.split(b"\x00", 1)
            print("MESSAGE %s %s" % (sender.decode(), payload.decode()), flush=True)
        else:
            print("ERR unexpected frame type 0x%02x" % t, flush=True)
            return 1
        got += 1
    msg = target.encode() + b"\x00" + b"hello from python"
    s.sendall(struct.pack("<IBI", 2, 0x12 | 1 << 6, len(msg)) + msg)
    if next_frame(s) != (0xFE, struct.pack("<I", 2) + b"\x01"):
        print("ERR message not acknowledged", flush=True)
        return 1
    print("OK", flush=True)
    s.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # one line for the test's assertion message
        print("ERR %s" % e, flush=True)
        sys.exit(1)
