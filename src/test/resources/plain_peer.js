#!/usr/bin/env node
// A plain-socket elbus client in Node.js (no packages): what the upstream Node.js client does on
// the wire, written apart from this project's Java code, like plain_peer.py. Registers as NAME,
// subscribes to TOPIC (QoS 1), prints READY, then prints the next two data frames it receives
// ("PUBLISH sender topic payload" or "MESSAGE sender payload"), sends a direct message
// "hello from node" to TARGET with QoS 1, waits for its ack and prints "OK". Pings are skipped.
// Any failure prints "ERR reason" and exits 1.
//
// usage: plain_peer.js HOST:PORT|/path.sock NAME TOPIC TARGET
'use strict';
const net = require('net');

const [addr, name, topic, target] = process.argv.slice(2, 6);

function fail(why) {
  process.stdout.write('ERR ' + why + '\n', () => process.exit(1));
}

// a byte reader over the socket's data events: want(n) resolves with the next n bytes
let pending = Buffer.alloc(0);
let waiter = null;
function pump() {
  if (waiter && pending.length >= waiter.n) {
    const w = waiter;
    waiter = null;
    const out = pending.subarray(0, w.n);
    pending = pending.subarray(w.n);
    w.resolve(Buffer.from(out));
  }
}
function want(n) {
  return new Promise((resolve) => {
    waiter = { n, resolve };
    pump();
  });
}

const sock = addr.startsWith('/') ? net.createConnection(addr)
  : net.createConnection(Number(addr.slice(addr.lastIndexOf(':') + 1)),
    addr.slice(0, addr.lastIndexOf(':')));
sock.setNoDelay && sock.setNoDelay(true);
sock.setTimeout(30000, () => fail('timed out'));
sock.on('data', (d) => {
  pending = Buffer.concat([pending, d]);
  pump();
});
sock.on('error', (e) => fail(e.message));
sock.on('close', () => { if (waiter) fail('closed by the broker'); });

function frame(opId, type, qos, body) {
  const h = Buffer.alloc(9);
  h.writeUInt32LE(opId, 0);
  h.writeUInt8(type | (qos << 6), 4);
  h.writeUInt32LE(body.length, 5);
  return Buffer.concat([h, body]);
}

function ackOf(opId, code) {
  const b = Buffer.alloc(6);
  b.writeUInt8(0xfe, 0);
  b.writeUInt32LE(opId, 1);
  b.writeUInt8(code, 5);
  return b;
}

// the next frame that is not a ping: {type, body}; acks come as {type: 0xfe, body: opid+code}
async function nextFrame() {
  for (;;) {
    const head = await want(6);
    const t = head[0];
    if (t === 0) continue; // ping: six zero bytes
    if (t === 0xfe) return { type: t, body: head.subarray(1, 6), raw: head };
    return { type: t, body: await want(head.readUInt32LE(1)) };
  }
}

async function main() {
  if (!(await want(3)).equals(Buffer.from([0xeb, 0x01, 0x00]))) return fail('bad greeting');
  sock.write(Buffer.from([0xeb, 0x01, 0x00]));
  if ((await want(1))[0] !== 0x01) return fail('greeting refused');
  const n = Buffer.from(name, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16LE(n.length, 0);
  sock.write(Buffer.concat([len, n]));
  if ((await want(1))[0] !== 0x01) return fail('registration refused');

  sock.write(frame(1, 0x02, 1, Buffer.from(topic, 'utf8')));
  let f = await nextFrame();
  if (f.type !== 0xfe || !f.raw.equals(ackOf(1, 0x01))) return fail('subscribe not acknowledged');
  process.stdout.write('READY\n');
  for (let got = 0; got < 2; got++) {
    f = await nextFrame();
    const parts = (k) => {
      const out = [];
      let from = 0;
      for (let i = 0; i < k; i++) {
        const z = f.body.indexOf(0, from);
        out.push(f.body.subarray(from, z).toString('utf8'));
        from = z + 1;
      }
      out.push(f.body.subarray(from).toString('utf8'));
      return out;
    };
    if (f.type === 0x01) {
      const [sender, tp, payload] = parts(2);
      process.stdout.write(`PUBLISH ${sender} ${tp} ${payload}\n`);
    } else if (f.type === 0x12) {
      const [sender, payload] = parts(1);
      process.stdout.write(`MESSAGE ${sender} ${payload}\n`);
    } else {
      return fail('unexpected frame type 0x' + f.type.toString(16));
    }
  }
  sock.write(frame(2, 0x12, 1, Buffer.concat([Buffer.from(target, 'utf8'), Buffer.from([0]),
    Buffer.from('hello from node', 'utf8')])));
  f = await nextFrame();
  if (f.type !== 0xfe || !f.raw.equals(ackOf(2, 0x01))) return fail('message not acknowledged');
  process.stdout.write('OK\n', () => {
    waiter = null;
    sock.end();
    process.exit(0);
  });
}

main().catch((e) => fail(e.message));
