#!/bin/sh
# Two-node clusters side by side on loopback (docs/performance.md, "Cluster"): two elbus
# brokers in cluster mode (target/elbus.jar) and two nats-server nodes joined by routes
# (nats-n1.conf, nats-n2.conf), measured by dev.elbus.bench.ClusterBench with the same
# raw-socket code. The four servers share CPU 0, the harness runs on CPU 1; every round runs
# elbus then nats (interleaved), round 0 is the warm-up. Prints CLUSTER-BENCH lines, then the
# medians of rounds 1.. with min-max and the elbus/nats ratios (ClusterBench summary).
#   ./mvnw -B -q package -DskipTests && docs/cluster/bench.sh [rounds=5] [messages=1000000] [trips=20000]
set -e
cd "$(dirname "$0")/../.."
ROUNDS=${1:-5}
MSGS=${2:-1000000}
TRIPS=${3:-20000}
CP=target/test-classes:target/elbus.jar
T=$(mktemp -d)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM

node() { # elbus node N (1 or 2)
  taskset -c 0 java -Xmx512m -XX:+ExitOnOutOfMemoryError -jar target/elbus.jar -w 1 -t 60 \
    -B "127.0.0.1:1770$1" -B "$T/n$1.sock" --cluster-name "bench-$$" --cluster-host 127.0.0.1 \
    --cluster-port "1571$1" --cluster-bus-port 0 --cluster-node "n$1" \
    --cluster-members 127.0.0.1:15711,127.0.0.1:15712 > "$T/elbus-n$1.log" 2>&1 &
  PIDS="$PIDS $!"
  for i in $(seq 300); do grep -q "broker started" "$T/elbus-n$1.log" && return; sleep 0.1; done
  echo "elbus node $1 did not start:"; cat "$T/elbus-n$1.log"; exit 1
}
node 1
node 2
taskset -c 0 nats-server -c docs/cluster/nats-n1.conf -l "$T/nats-n1.log" & PIDS="$PIDS $!"
taskset -c 0 nats-server -c docs/cluster/nats-n2.conf -l "$T/nats-n2.log" & PIDS="$PIDS $!"
sleep 2
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$T/bench.log"
for r in $(seq 0 "$ROUNDS"); do
  echo "# round $r $( [ "$r" = 0 ] && echo '(warm-up)')" | tee -a "$T/bench.log"
  taskset -c 1 java -cp "$CP" dev.elbus.bench.ClusterBench elbus 127.0.0.1:17701 127.0.0.1:17702 "$MSGS" "$TRIPS" 100 1 | tee -a "$T/bench.log"
  taskset -c 1 java -cp "$CP" dev.elbus.bench.ClusterBench nats 127.0.0.1:14221 127.0.0.1:14222 "$MSGS" "$TRIPS" 100 1 | tee -a "$T/bench.log"
  echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$T/bench.log"
done
java -cp "$CP" dev.elbus.bench.ClusterBench summary "$T/bench.log"
