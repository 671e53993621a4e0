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
	bpftrace                            # make bench compares against it
	nghttp2-client                      # h2load: make bench's open-loop load on its aiohttp service
	debootstrap                         # the Debian unstable root with CPython 3.13-3.15 (tools/unstable-root.sh)
	chromium                            # renders inflight trend's HTML report headless in the tests
)

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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
