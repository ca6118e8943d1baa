#!/usr/bin/env bash
# Scenario 8 of the hostile clients (issue 17) against the stand-alone broker, the attacker in a
# process of its own (docs/reliability.md, "Hostile clients"): starts the jar with two event
# loops on a TCP port and a Unix socket, a healthy probe on each (a QoS 1 round trip to itself
# every 20 ms), then floods the TCP port with silent sockets `rounds` times, 2 s apart, and
# prints the probe's round-trip figures (ms: n p50 p99 max) per flood (and 0.5 s after it) and
# quiet window, and over all floods (flood*).
#   ./mvnw -B -q package -DskipTests && docs/bench/flood.sh [rounds=5] [count=10050]
# BCPU / FCPU: CPUs (taskset) of the broker and probe / of the flood, e.g. BCPU=1 FCPU=0 gives
# the attacker a core of its own; WORKERS: the broker's event loops (2); TARGET=nats floods and
# probes a nats-server instead; JAR: the broker's jar (target/elbus.jar); ARGS: more broker
# arguments, e.g. ARGS="-c rate0.yaml" with `handshake_rate: 0` in it switches accept pacing off.
set -u
cd "$(dirname "$0")/../.."
rounds=${1:-5}; count=${2:-10050}
# CPUs of the broker and the probe, and of the flood (default: all of them, shared)
bcpu=${BCPU:-0-$(($(nproc) - 1))}; fcpu=${FCPU:-$bcpu}; workers=${WORKERS:-2}
sock=$(mktemp -u /tmp/elbus-flood.XXXXXX.sock); log=$(mktemp); fifo=$(mktemp -u); mkfifo "$fifo"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "${TARGET:-elbus}" = nats ]; then
  # the same flood against nats-server (GOMAXPROCS = WORKERS), probed over its text protocol
  GOMAXPROCS=$workers taskset -c "$bcpu" nats-server -a 127.0.0.1 -p 17777 > "$log" 2>&1 &
  pid=$!; sleep 1; probed="nats://127.0.0.1:17777"
else
  taskset -c "$bcpu" java -XX:+ExitOnOutOfMemoryError -jar "${JAR:-target/elbus.jar}" ${ARGS:-} -B 127.0.0.1:17777 \
    -B "$sock" -w "$workers" > "$log" 2>&1 &
  pid=$!; probed="127.0.0.1:17777 $sock"
  for i in $(seq 100); do grep -q "broker started" "$log" && break; sleep 0.2; done
fi
taskset -c "$bcpu" java -cp target/test-classes dev.elbus.bench.HealthyProbe 20 $probed < "$fifo" &
probe=$!
exec 3>"$fifo"
sleep 3
for r in $(seq "$rounds"); do
  echo "window flood-$r" >&3
  taskset -c "$fcpu" java -cp target/test-classes dev.elbus.bench.SilentFlood 127.0.0.1 17777 "$count"
  sleep 0.5  # the broker closes what the flood left open
  echo "window quiet-$r" >&3
  sleep 1.5
done
echo stop >&3; exec 3>&-
wait $probe
echo "broker log: $(grep -c 'max_handshakes' "$log") max_handshakes warnings," \
  "$(grep -c 'handshake_rate' "$log") handshake_rate warnings"
kill $pid; wait $pid 2>/dev/null
rm -f "$log" "$fifo" "$sock"
