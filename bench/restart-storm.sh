#!/usr/bin/env bash
# Measures reconnect storms by hand: a fresh server (cheap hashes, default limits otherwise), USERS
# simulated users of 'parley-bench reconnect', then a graceful restart (SIGTERM, started again on
# the same port and data) and a crash (SIGKILL, started again). Prints the generator's lines (one
# per storm, then the summary) and, per storm, the server's CPU from its start to the storm's end.
# Each storm's accepted probe messages go to OUT_DIR/probe-ids.txt, to be held against the
# database (messages.client_id) message by message.
#
#   bench/restart-storm.sh USERS [OUT_DIR] [-- parley-bench reconnect options...]
#   SERVER_OPTS="-Xms2g -Xmx2g" bench/restart-storm.sh 10000 /tmp/storm-10k
#
# SERVER_OPTS: the server's JVM options and -Dparley.server.* settings (default -Xms2g -Xmx2g).
# SERVER_ARGS: more server arguments, e.g. "--plaintext" (then pass --plaintext to the generator too).
# RESTART_OPTS: JVM options added for the servers started after a restart only, e.g.
# "-Dparley.server.password-hash-iterations=600000" for the default hash cost, which the first
# server's import of USERS accounts would take hours to pay.
# PARLEY_NO_CDS=1: the servers start without the class-data-sharing archive built with the jar.
# Both processes need USERS file descriptors and more (ulimit -n).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
users="${1:?usage: restart-storm.sh USERS [OUT_DIR] [-- reconnect options...]}"
shift
out="$(mktemp -d)"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  out="$1"
  shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
mkdir -p "$out"
rm -rf "$out/data"
rm -f "$out/probe-ids.txt"
: >"$out/server.log"
read -r -a server_opts <<<"${SERVER_OPTS:--Xms2g -Xmx2g}"
read -r -a server_args <<<"${SERVER_ARGS:-}"
read -r -a restart_opts <<<"${RESTART_OPTS:-}"
"$root/bin/ensure-jar" server "$root/server/target/parley-server.jar"
"$root/bin/ensure-jar" bench "$root/bench/target/parley-bench.jar"
"$root/bin/parley-bench" credentials --clients "$users" --out "$out/accounts.txt" 2>/dev/null
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
ticks="$(getconf CLK_TCK)"
started=0
server_pid=
bench_pid=

cleanup() {
  [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true
}
trap cleanup EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# CPU seconds (user + system) the server has used since it started.
cpu() { awk -v t="$ticks" '{ sub(/.*\) /, ""); split($0, f, " "); printf "%.2f", (f[12] + f[13]) / t }' "/proc/$1/stat"; }
say() { echo "restart-storm: $*" | tee -a "$out/driver.log" >&2; }
# Waits for an extended regular expression in a file, as long as the generator and the server run.
await() {
  until grep -qE "$2" "$1"; do
    kill -0 "$bench_pid" 2>/dev/null || { say "the generator stopped"; cat "$out/bench.err" >&2; exit 1; }
    if ! kill -0 "$server_pid" 2>/dev/null; then
      local status=0
      wait "$server_pid" || status=$?
      server_pid=
      say "the server stopped by itself, exit status $status (143: SIGTERM, 130: SIGINT, 70: a core actor stopped)"
      tail -20 "$out/server.log" >&2
      exit 1
    fi
    sleep 0.1
  done
}

start_server() {
  local t0
  t0="$(now)"
  local more=()
  [ "$started" -gt 0 ] && more=(${restart_opts[@]+"${restart_opts[@]}"})
  # Started as an operator starts it (with the class-data-sharing archive built with the jar).
  JAVA_OPTS="-Dparley.server.password-hash-iterations=1000 ${server_opts[*]} ${more[*]}" \
    "$root/bin/parley-server" "$port" 60 3600 \
    --credentials "$out/accounts.txt" --data-dir "$out/data" ${server_args[@]+"${server_args[@]}"} \
    >>"$out/server.log" 2>&1 &
  server_pid=$!
  started=$((started + 1))
  until [ "$(grep -c "listening on" "$out/server.log")" -ge "$started" ]; do
    kill -0 "$server_pid" || { say "the server did not start"; tail "$out/server.log" >&2; exit 1; }
    sleep 0.05
  done
  server_cpu_at_start="$(cpu "$server_pid")"
  say "server $started (pid $server_pid) listening after $(since "$t0") s, ${server_cpu_at_start} s of CPU"
}

storm_over() {
  await "$out/bench.err" "storm $1 (settled|did not settle)"
  say "storm $1 over: the server used $(awk -v a="$server_cpu_at_start" -v b="$(cpu "$server_pid")" \
    'BEGIN { printf "%.1f", b - a }') s of CPU since it listened; load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

start_server
: >"$out/bench.err"
"$root/bin/parley-bench" reconnect --port "$port" --clients "$users" --restarts 2 \
  --duration 3600 --json "$out/result.json" --probe-ids "$out/probe-ids.txt" "$@" >"$out/bench.out" 2>"$out/bench.err" &
bench_pid=$!

await "$out/bench.err" "waiting for restart 1"
say "$users users logged in; SIGTERM (load average $(cut -d' ' -f1-3 /proc/loadavg))"
t0="$(now)"
kill -TERM "$server_pid"
wait "$server_pid" || true
say "the server exited $(since "$t0") s after SIGTERM"
start_server
storm_over 1

await "$out/bench.err" "waiting for restart 2"
say "SIGKILL"
kill -KILL "$server_pid"
wait "$server_pid" 2>/dev/null || true
start_server
storm_over 2

wait "$bench_pid"
bench_pid=
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
cat "$out/bench.out"
say "all output in $out"
