#!/usr/bin/env bash
# The Debian unstable root with CPython 3.13-3.15 (make test-root): tools/debian-root.sh sid.
# Usage: tools/unstable-root.sh [--print]
exec bash "$(dirname "$0")/debian-root.sh" sid "$@"
