#!/usr/bin/env bash
# The reliability item-4 episode stand-alone (docs/performance.md, "A flood, a slow consumer and
# a bystander"): starts this broker or nats-server, runs SlowConsumerFairness against it, stops it.
#   ./mvnw -B -q package -DskipTests && docs/bench/fairness.sh [rounds=5] [w1|w2] [elbus|nats]
# w1: the server on CPU 0 with one event loop (nats: GOMAXPROCS=1), the harness on CPU 1;
# w2: two event loops (GOMAXPROCS=2), server and harness both on CPUs 0-1.
set -u
cd "$(dirname "$0")/../.."
rounds=${1:-5}; mode=${2:-w1}; target=${3:-elbus}
if [ "$mode" = w1 ]; then bcpu=0; ccpu=1; w=1; else bcpu=0,1; ccpu=0,1; w=2; fi
log=$(mktemp)
if [ "$target" = elbus ]; then
  taskset -c $bcpu java -XX:+ExitOnOutOfMemoryError -jar target/elbus.jar -B 127.0.0.1:17777 \
    -w $w -t 60 > "$log" 2>&1 &
  pid=$!; addr=127.0.0.1:17777; extra=
  for i in $(seq 100); do grep -q "broker started" "$log" && break; sleep 0.2; done
else
  conf=$(mktemp)
  printf 'listen: 127.0.0.1:14222\nmax_pending: 8MB\n' > "$conf"
  GOMAXPROCS=$w taskset -c $bcpu nats-server -c "$conf" > "$log" 2>&1 &
  pid=$!; addr=127.0.0.1:14222; extra=nats; sleep 1
fi
taskset -c $ccpu java -cp target/test-classes:target/elbus.jar dev.elbus.bench.SlowConsumerFairness \
  $addr "$rounds" $extra
kill $pid; wait $pid 2>/dev/null
rm -f "$log"
