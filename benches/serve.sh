#!/usr/bin/env bash
# Throughput of `kuaibao serve`'s feed path against nginx serving the same
# all.xml bytes statically: (a) full body, no compression, (b) 304 on
# If-None-Match. Needs wrk and nginx (Debian: apt-get install wrk nginx).
#
#   benches/serve.sh [duration=30s] [items=100]
#
# ROUNDS=n (default 1) repeats the four runs n times, alternating servers,
# and reports the median: on shared cores one run is noisy.
set -euo pipefail

DURATION=${1:-30s}
ITEMS=${2:-100}
THREADS=2
CONNS=64
NGINX_PORT=${NGINX_PORT:-18089}
ROUNDS=${ROUNDS:-1}

cd "$(dirname "$0")/.."
cargo build --release --quiet --example serve_bench
WORK=$(mktemp -d /tmp/kuaibao-bench.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

"${CARGO_TARGET_DIR:-target}/release/examples/serve_bench" "$WORK/kb" "$ITEMS" >"$WORK/kb.out" 2>"$WORK/kb.err" &
PIDS+=($!)
for _ in $(seq 1 300); do
    grep -q '^file=' "$WORK/kb.out" 2>/dev/null && break
    sleep 0.1
done
KB_PORT=$(sed -n 's/^port=//p' "$WORK/kb.out")
KB_ETAG=$(sed -n 's/^etag=//p' "$WORK/kb.out")
FILE=$(sed -n 's/^file=//p' "$WORK/kb.out")
BYTES=$(sed -n 's/^bytes=//p' "$WORK/kb.out")
cat "$WORK/kb.err"

mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    etag on;
    types { application/atom+xml xml; }
    client_body_temp_path $WORK/nginx/tmp;
    proxy_temp_path $WORK/nginx/tmp;
    fastcgi_temp_path $WORK/nginx/tmp;
    uwsgi_temp_path $WORK/nginx/tmp;
    scgi_temp_path $WORK/nginx/tmp;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $(dirname "$(dirname "$FILE")");
    }
}
EOF
# nginx workers run as an unprivileged user: mktemp's 0700 would hide the file.
chmod -R a+rX "$WORK"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
PIDS+=($!)
sleep 0.5

KB_URL="http://127.0.0.1:$KB_PORT/feeds/all.xml"
NG_URL="http://127.0.0.1:$NGINX_PORT/feeds/all.xml"
NG_ETAG=$(curl -sI "$NG_URL" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
# Same bytes on both sides, or the comparison means nothing.
cmp <(curl -s "$KB_URL") <(curl -s "$NG_URL") || { cat "$WORK/nginx/logs/error.log"; exit 1; }
echo "all.xml: $BYTES bytes, $ITEMS items; kuaibao ETag $KB_ETAG, nginx ETag $NG_ETAG"
echo "wrk -t$THREADS -c$CONNS -d$DURATION (nginx: worker_processes auto; kuaibao: tokio multi-thread; $(nproc) cores shared with wrk)"

rps() { wrk -t$THREADS -c$CONNS -d"$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
KBF=(); NGF=(); KB3=(); NG3=()
for round in $(seq 1 "$ROUNDS"); do
    KBF+=("$(rps "$KB_URL")")
    NGF+=("$(rps "$NG_URL")")
    KB3+=("$(rps -H "If-None-Match: $KB_ETAG" "$KB_URL")")
    NG3+=("$(rps -H "If-None-Match: $NG_ETAG" "$NG_URL")")
    echo "round $round: full kuaibao ${KBF[-1]} nginx ${NGF[-1]}; 304 kuaibao ${KB3[-1]} nginx ${NG3[-1]}"
done
KB_FULL=$(median "${KBF[@]}")
NG_FULL=$(median "${NGF[@]}")
KB_304=$(median "${KB3[@]}")
NG_304=$(median "${NG3[@]}")
# Sanity: the 304 runs really were 304s.
curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $KB_ETAG" "$KB_URL" | grep -q 304
curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $NG_ETAG" "$NG_URL" | grep -q 304

echo "median of $ROUNDS round(s), requests/sec:"
printf '%-10s %14s %14s %8s\n' case kuaibao nginx ratio
printf '%-10s %14s %14s %8.2f\n' full "$KB_FULL" "$NG_FULL" "$(echo "$KB_FULL / $NG_FULL" | bc -l)"
printf '%-10s %14s %14s %8.2f\n' 304 "$KB_304" "$NG_304" "$(echo "$KB_304 / $NG_304" | bc -l)"
