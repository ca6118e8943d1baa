#!/usr/bin/env bash
# Scenario 6 of the hostile clients (issue 17) against the stand-alone broker, the attacker in a
# process of its own (docs/reliability.md, "Hostile clients"): starts the jar with two event
# loops on a TCP port and a Unix socket, a healthy probe on each (a QoS 1 round trip to itself
# every 20 ms), and list_attack.py: 300 clients of 65,535-byte names, then ten pipelined
# client.list calls, `rounds` times. Prints the probe's figures (ms: n p50 p99 max) per window.
#   ./mvnw -B -q package -DskipTests && docs/bench/list.sh [rounds=3] [jar=target/elbus.jar]
set -u
cd "$(dirname "$0")/../.."
rounds=${1:-3}; jar=${2:-target/elbus.jar}
sock=$(mktemp -u /tmp/elbus-list.XXXXXX.sock); log=$(mktemp)
java -XX:+ExitOnOutOfMemoryError -jar "$jar" -B 127.0.0.1:17778 -B "$sock" -w 2 > "$log" 2>&1 &
pid=$!
for i in $(seq 100); do grep -q "broker started" "$log" && break; sleep 0.2; done
python3 docs/bench/list_attack.py "$sock" 127.0.0.1 17778 300 "$rounds" \
  | java -cp target/test-classes dev.elbus.bench.HealthyProbe 20 127.0.0.1:17778 "$sock"
kill $pid; wait $pid 2>/dev/null
rm -f "$log" "$sock"
