# SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
# inflight: one Makefile, every intermediate under $(OUTPUT), quiet unless V=1.

VERSION := 0.1.0
OUTPUT ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
PREFIX ?= /usr/local
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/skel/%.skel.h,$(BPF_SRCS))

# user/ is split by concern, one folder each; headers are included by name
USER_DIRS := $(sort $(dir $(wildcard user/*/*.c user/*/*.h)))
USER_SRCS := $(wildcard user/*/*.c)
LIB_SRCS := $(filter-out user/cli/main.c,$(USER_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)

WARNINGS := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wformat=2 -Wstrict-prototypes
INCLUDES := -Iinclude $(patsubst %/,-I%,$(USER_DIRS)) -I$(OUTPUT)/skel
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(WARNINGS) $(INCLUDES) -D_GNU_SOURCE -DINFLIGHT_VERSION='"$(VERSION)"' \
	-MMD -MP $(EXTRA_CFLAGS)
# libbpf, libelf, zlib, zstd, json-c and capstone linked statically: the binary does not
# depend on the host's versions of them.
LIBS := -Wl,-Bstatic -lbpf -lelf -lz -lzstd -ljson-c -lcapstone -Wl,-Bdynamic -lpthread
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test-root symbol-builds check unit integration demo bench install clean

all: inflight

deps:
	$(Q)bash tools/install-deps.sh

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "inflight: $(VMLINUX_BTF) not found: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF=y is needed)" >&2; exit 2; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/skel $(OUTPUT)/obj $(OUTPUT)/san $(OUTPUT)/san/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard include/*.h) $(wildcard bpf/*.bpf.h) $(OUTPUT)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -I$(OUTPUT) -Wall -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUTPUT)/skel/%.skel.h: $(OUTPUT)/bpf/%.bpf.o | $(OUTPUT)/skel
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# Release objects
$(OUTPUT)/obj/%.o: user/%.c $(SKELS) | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

inflight: $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(USER_SRCS))
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) $(EXTRA_LDFLAGS) -o $@

# Sanitized objects: the tests run these.
$(OUTPUT)/san/%.o: user/%.c $(SKELS) | $(OUTPUT)/san
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) -c $< -o $@

$(OUTPUT)/san/inflight: $(patsubst user/%.c,$(OUTPUT)/san/%.o,$(USER_SRCS))
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(SAN_FLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/san/tests/%: tests/unit/%.c $(patsubst user/%.c,$(OUTPUT)/san/%.o,$(LIB_SRCS)) | $(OUTPUT)/san/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) $(filter %.c %.o,$^) $(LIBS) -lcmocka -o $@

UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/san/tests/%,$(UNIT_SRCS))

# the CPython layout table against each installed CPython's headers (skips those not installed)
unit: $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done
	$(Q)echo "== tests/unit/layout_offsets.sh"; bash tests/unit/layout_offsets.sh $(OUTPUT)/layout $(CC)

integration: inflight $(OUTPUT)/san/inflight
	$(Q)python3 tests/integration/run.py --inflight $(OUTPUT)/san/inflight

# Debian unstable's CPython 3.13-3.15, which the tests also trace (outside the repository)
test-root: deps
	$(Q)bash tools/unstable-root.sh

# CPython 3.14 and 3.15 with symbols, from Debian's source packages; the tests use them when built
symbol-builds: test-root
	$(Q)bash tools/cpython-symbol-builds.sh

check: deps test-root
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory integration
	$(Q)$(MAKE) --no-print-directory bench QUICK=1

# A benchmark, not a test: traced/untraced medians, tracer CPU and memory.
# QUICK=1 is the CI-sized run that keeps it from rotting.
bench: deps inflight
	$(Q)python3 tools/bench/run.py --inflight ./inflight --json $(OUTPUT)/bench.json $(if $(QUICK),--quick)

demo: deps
	$(Q)$(MAKE) --no-print-directory inflight
	$(Q)bash tools/demo.sh

install: inflight
	install -D -m 0755 inflight $(DESTDIR)$(PREFIX)/sbin/inflight
	install -D -m 0644 man/inflight.8 $(DESTDIR)$(PREFIX)/share/man/man8/inflight.8

clean:
	rm -rf $(OUTPUT) inflight

-include $(wildcard $(OUTPUT)/obj/*/*.d $(OUTPUT)/san/*/*.d)
