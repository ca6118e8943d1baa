#!/usr/bin/env python3
"""Scenario 6 of the hostile clients (issue 17, docs/reliability.md), as a process of its own.

Registers N clients named NNNN.aaa... (65,535 bytes) on a Unix socket, then one caller on TCP
sends ten pipelined .broker client.list calls in one write and reads the ten replies. Writes
`window flood-R` before the calls and `window quiet-R` after the replies on stdout (for
dev.elbus.bench.HealthyProbe on its stdin), and `ATTACK ...` figures on stderr.

    list_attack.py UNIX_SOCKET HOST PORT [clients=300] [rounds=3]
"""
import socket
import struct
import sys
import time


def handshake(s, name):
    greeting = recv(s, 3)
    s.sendall(greeting)
    assert recv(s, 1) == b'\x01', 'greeting refused'
    nb = name.encode()
    s.sendall(struct.pack('<H', len(nb)) + nb)
    code = recv(s, 1)
    assert code == b'\x01', 'registration refused: %r' % code


def recv(s, k):
    b = bytearray()
    while len(b) < k:
        c = s.recv(k - len(b))
        if not c:
            raise EOFError('closed by the broker')
        b += c
    return bytes(b)


def main():
    unix, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 300
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    out = sys.stdout
    for r in range(1, rounds + 1):
        clients = []
        for i in range(n):
            s = socket.socket(socket.AF_UNIX)
            s.connect(unix)
            name = 'list%d-%04d.' % (r, i)
            handshake(s, name + 'a' * (65535 - len(name)))
            clients.append(s)
        caller = socket.create_connection((host, port))
        caller.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        handshake(caller, 'list-caller-%d' % r)
        time.sleep(1.0)
        print('window flood-%d' % r, file=out, flush=True)
        time.sleep(0.3)
        calls = b''
        for i in range(1, 11):
            body = b'.broker\x00\x01' + struct.pack('<I', i) + b'client.list\x00'
            calls += struct.pack('<IBI', i, 0x12, len(body)) + body
        t0 = time.time()
        caller.sendall(calls)
        biggest = got = 0
        while got < 10:
            h = recv(caller, 6)
            if h[0] == 0:
                continue  # a ping
            length = struct.unpack('<I', h[1:5])[0]
            recv(caller, length)
            biggest = max(biggest, length)
            got += 1
        print('ATTACK round %d: 10 client.list with %d clients of 65,535-byte names answered in '
              '%.0f ms, largest reply %d bytes' % (r, n, (time.time() - t0) * 1000, biggest),
              file=sys.stderr, flush=True)
        time.sleep(0.3)
        print('window quiet-%d' % r, file=out, flush=True)
        for s in clients:
            s.close()
        caller.close()
        time.sleep(1.0)
    print('stop', file=out, flush=True)


if __name__ == '__main__':
    main()
