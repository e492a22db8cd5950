#!/usr/bin/env bash
# Starts moto (the AWS API emulator) on a loopback port for trying `exposure collect` by hand,
# optionally seeded with the test estate (tests/collect/seed.py). The tests start their own.
#
#   scripts/moto-server.sh [--seed] [PORT]     (default port 5000; Ctrl-C stops it)
#
# then, in another shell:
#   AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true \
#     exposure collect --endpoint-url http://127.0.0.1:5000 --region eu-west-1 --region eu-central-1 --output snap
set -euo pipefail
cd "$(dirname "$0")/.."

seed=false
if [ "${1:-}" = "--seed" ]; then seed=true; shift; fi
port="${1:-5000}"

command -v moto_server >/dev/null || {
  echo "moto is not installed: python3 -m pip install 'moto[server]'" >&2
  exit 2
}

moto_server -H 127.0.0.1 -p "$port" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 100); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2)" "$port" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

if $seed; then
  python3 tests/collect/seed.py "http://127.0.0.1:$port" >/dev/null
  echo "seeded: a two-region estate (eu-west-1, eu-central-1)" >&2
fi
echo "moto listening on http://127.0.0.1:$port (Ctrl-C stops it)" >&2
wait "$pid"
