#!/usr/bin/env bash
# Install what inflight needs to build, test and run its demo, on Debian or Ubuntu.
# Idempotent: installs only the packages that are missing, and says which.
set -euo pipefail

PACKAGES=(
	make gcc clang pkg-config binutils  # toolchain: gcc for userspace, clang for BPF; strip for tests
	bpftool                             # BPF skeletons and vmlinux.h
	libbpf-dev libelf-dev zlib1g-dev libzstd-dev  # libbpf (linked statically) and what it needs
	libjson-c-dev                       # JSON reports
	libcapstone-dev                     # decoding the Task finalizer to probe its pending path
	libcmocka-dev                       # C unit tests
	libclang-rt-14-dev                  # AddressSanitizer/UBSan and libFuzzer runtimes for clang builds (make fuzz)
	python3                             # test and demo workloads
	python3-aiohttp                     # a real library in the tests: client sessions never closed
	iproute2                            # ss: ground truth for connection tests
	procps                              # ps, pgrep in tests
	gdb                                 # holds inflight ps mid-read while a test reuses its target's PID
	libcap2-bin                         # capsh: inflight doctor tested without a capability
	bpftrace                            # make bench compares against it
	nghttp2-client                      # h2load: make bench's open-loop load on its aiohttp service
	lintian                             # make deb's package checked as Debian checks its own
	debootstrap                         # the tests' Debian roots: unstable's CPython 3.13-3.15, Debian 11 (tools/debian-root.sh)
	chromium                            # renders inflight trend's HTML report headless in the tests
	prometheus                          # promtool for the alert rules; a scrape round trip in the tests
	prometheus-node-exporter            # its textfile collector serves the metrics in that test
	python3-prometheus-client           # the tests check the OpenMetrics output with its strict parser
	jq                                  # the docs' examples pipe reports and snapshots through it (test_doc_examples)
)

# Services these packages would start (and enable) on a build machine: the tests
# start their own, on loopback, and stop them.
SERVICES=(prometheus.service prometheus-node-exporter.service)

missing=()
for pkg in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "inflight: missing build dependencies: ${missing[*]}" >&2
	echo "inflight: run 'sudo $0' to install them with apt-get" >&2
	exit 2
fi

echo "inflight: installing build dependencies with apt-get: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Debian's policy-rc.d protocol: exit status 101 forbids maintainer scripts to start services.
# Only where the machine has none of its own, and removed again.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	own_policy=true
fi
trap '$own_policy && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# and none of them enabled for the next boot either (systemctl works without a running systemd)
if command -v systemctl >/dev/null; then
	for unit in "${SERVICES[@]}"; do
		if systemctl list-unit-files "$unit" 2>/dev/null | grep -q "^$unit"; then
			if [ -d /run/systemd/system ]; then
				systemctl stop "$unit" >/dev/null 2>&1 || true
			fi
			systemctl disable "$unit" >/dev/null 2>&1 || true
			systemctl mask "$unit" >/dev/null 2>&1 || true
		fi
	done
fi
