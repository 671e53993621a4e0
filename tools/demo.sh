#!/usr/bin/env bash
# make demo: start the bundled demo service, trace it for a few seconds with
# inflight, print the report, and stop the service.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "inflight: the demo loads BPF programs into the kernel: run it as root ('sudo make demo')" >&2
	exit 2
fi

python3 tools/demo_service.py &
service=$!
trap 'kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true' EXIT
sleep 1

echo "+ ./inflight trace -p $service --duration 8 --interval 2" >&2
./inflight trace -p "$service" --duration 8 --interval 2
