# SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
# inflight: one Makefile, every intermediate under $(OUTPUT), quiet unless V=1.

VERSION := 0.1.0
OUTPUT ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
PREFIX ?= /usr/local
# systemd reads units from /usr/local/lib/systemd/system too
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
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
INCLUDES := -Iinclude $(patsubst %/,-I%,$(USER_DIRS)) -I$(OUTPUT)/skel -I$(OUTPUT)/gen
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(WARNINGS) $(INCLUDES) -D_GNU_SOURCE -DINFLIGHT_VERSION='"$(VERSION)"' \
	-MMD -MP $(EXTRA_CFLAGS)
# The release binary is linked fully static, glibc included: it runs on hosts whose
# userland is older than the build machine's (Debian 11's glibc 2.31, say), with the
# BPF objects inside it (skeletons). inflight resolves no user or host names, so
# static glibc's NSS limits do not reach it.
RELEASE_LIBS := -static -Wl,--start-group -lbpf -lelf -lz -lzstd -ljson-c -lcapstone -lpthread \
	-Wl,--end-group
# The sanitized build and the tests stay dynamic (the sanitizers' runtimes need it), with
# libbpf, libelf, zlib, zstd, json-c and capstone linked statically all the same.
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
.PHONY: FORCE all deps test-root symbol-builds check unit fuzz fuzz-smoke integration demo bench install deb \
	clean

all: inflight

deps:
	$(Q)bash tools/install-deps.sh

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "inflight: $(VMLINUX_BTF) not found: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF=y is needed)" >&2; exit 2; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/skel $(OUTPUT)/gen $(OUTPUT)/obj $(OUTPUT)/san $(OUTPUT)/san/tests:
	$(Q)mkdir -p $@

# The commit inflight --version names: checked on every make, the header rewritten only when
# it changed, so a new commit rebuilds version.o alone. Tags are left out (--exclude): the
# revision is always the commit's. Outside a git checkout: unknown.
GIT_REV_CMD := if [ -e .git ]; then git describe --always --dirty --abbrev=12 --exclude='*' \
	2>/dev/null || echo unknown; else echo unknown; fi
$(OUTPUT)/gen/git_rev.h: FORCE | $(OUTPUT)/gen
	$(Q)line="#define INFLIGHT_GIT_REV \"$$($(GIT_REV_CMD))\""; \
	if [ "$$(cat $@ 2>/dev/null)" != "$$line" ]; then \
		printf '  %-8s %s\n' GEN "$@ ($$line)"; echo "$$line" > $@; fi

$(OUTPUT)/obj/cli/version.o $(OUTPUT)/san/cli/version.o: $(OUTPUT)/gen/git_rev.h

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
	$(Q)$(CC) $(CFLAGS) $^ $(RELEASE_LIBS) $(EXTRA_LDFLAGS) -o $@

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

# Fuzzing: libFuzzer harnesses (tests/fuzz/<target>.c) over the parsers of what the target
# controls, each linked with the library objects it needs only, built with clang.
FUZZ_TARGETS := elf_image x86_code proc_maps proc_net proc_cgroup container_name config \
	task_snapshot snapshot warn_text
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_DIR := $(OUTPUT)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g $(WARNINGS) $(INCLUDES) -Itests/fuzz -D_GNU_SOURCE \
	-DINFLIGHT_VERSION='"$(VERSION)"' -MMD -MP $(FUZZ_SAN)
FUZZ_LIBS := -Wl,-Bstatic -lelf -lz -lzstd -ljson-c -lcapstone -Wl,-Bdynamic -lpthread
FUZZ_LIB_elf_image := sys/elf_image cpython/cpython_layout cpython/task_type_finder
FUZZ_LIB_x86_code := sys/x86_code
FUZZ_LIB_proc_maps := sys/proc_maps
FUZZ_LIB_proc_net := sys/proc_net
FUZZ_LIB_proc_cgroup := sys/proc_cgroup sys/small_file
FUZZ_LIB_container_name := sys/container_name
FUZZ_LIB_config := cli/config
# warn_funnel.c's discovery is linked but not run: the target's text alone is fuzzed
FUZZ_LIB_warn_text := cpython/warn_funnel cpython/py_objects cpython/py_containers \
	cpython/code_lines cpython/cpython_layout cpython/python_target cpython/file_facts \
	cpython/task_type_finder sys/memory_source sys/elf_image sys/proc_maps sys/x86_code sys/mapped_file
# decompressed snapshots are capped at 256 MiB (SNAPSHOT_MAX_JSON_BYTES); a fuzz input
# of a few KiB inflates to a few MiB at most
FUZZ_LIB_snapshot := trend/snapshot trend/trend report/trend_text report/trend_html report/utf8
FUZZ_LIB_task_snapshot := cpython/task_snapshot cpython/py_objects cpython/py_containers \
	cpython/code_lines cpython/cpython_layout cpython/python_target cpython/file_facts \
	cpython/task_type_finder sys/memory_source sys/elf_image sys/proc_maps sys/x86_code sys/mapped_file
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
# Run each target on its committed corpus (tests/fuzz/corpus/), its generated seeds, and what
# it found before (build/fuzz/corpus/): $(1) the target, $(2) the working corpus, $(3) seconds.
FUZZ_RUN = mkdir -p $(2) $(FUZZ_DIR)/artifacts/$(1) && \
	$(FUZZ_DIR)/$(1) -max_total_time=$(3) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/$(1)/ $(2) \
		$$(ls -d tests/fuzz/corpus/$(1) $(FUZZ_DIR)/seed/$(1) 2>/dev/null)

$(FUZZ_DIR)/obj/%.o: user/%.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

define FUZZ_BIN
$(FUZZ_DIR)/$(1): tests/fuzz/$(1).c $(patsubst %,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_$(1)))
	$$(call msg,FUZZER,$$@)
	$$(Q)$$(CLANG) $$(FUZZ_CFLAGS) -fsanitize=fuzzer $$(filter %.c %.o,$$^) $$(FUZZ_LIBS) -o $$@
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_BIN,$(t))))

# Generated seeds: a small ELF shared object (with and without symbols) and an executable,
# and a memory image per CPython version.
FUZZ_SEEDS := $(addprefix $(FUZZ_DIR)/seed/elf_image/,seed.so seed-stripped.so seed-exec) \
	$(FUZZ_DIR)/seed/task_snapshot/.done
ELF_SEED_FLAGS := -O1 -nostdlib -Wl,--build-id=none -Wl,-z,noseparate-code

$(FUZZ_DIR)/seed/elf_image/seed.so: tests/fuzz/seed_elf.c
	$(call msg,SEED,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(ELF_SEED_FLAGS) -shared -fPIC $< -o $@

$(FUZZ_DIR)/seed/elf_image/seed-stripped.so: $(FUZZ_DIR)/seed/elf_image/seed.so
	$(call msg,SEED,$@)
	$(Q)strip -o $@ $<

$(FUZZ_DIR)/seed/elf_image/seed-exec: tests/fuzz/seed_elf.c
	$(call msg,SEED,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(ELF_SEED_FLAGS) -static $< -o $@

$(FUZZ_DIR)/task_snapshot_seed: tests/fuzz/task_snapshot_seed.c user/cpython/cpython_layout.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -O1 -g $(WARNINGS) $(INCLUDES) -Itests/fuzz -D_GNU_SOURCE $^ -o $@

$(FUZZ_DIR)/seed/task_snapshot/.done: $(FUZZ_DIR)/task_snapshot_seed
	$(call msg,SEED,$(@D))
	$(Q)mkdir -p $(@D)
	$(Q)$< $(@D) && touch $@

# As long as asked: FUZZ_SECONDS per target (FUZZ_TARGETS="x86_code" for one).
fuzz: $(FUZZ_BINS) $(FUZZ_SEEDS)
	$(Q)set -e; for t in $(FUZZ_TARGETS); do echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
		$(call FUZZ_RUN,$$t,$(FUZZ_DIR)/corpus/$$t,$(FUZZ_SECONDS)); done

# For make check: every seed, then FUZZ_SMOKE_SECONDS per target from a fresh corpus; a crash fails.
fuzz-smoke: $(FUZZ_BINS) $(FUZZ_SEEDS)
	$(Q)set -e; for t in $(FUZZ_TARGETS); do echo "== fuzz-smoke $$t ($(FUZZ_SMOKE_SECONDS) s)"; \
		rm -rf $(FUZZ_DIR)/smoke/$$t; \
		$(call FUZZ_RUN,$$t,$(FUZZ_DIR)/smoke/$$t,$(FUZZ_SMOKE_SECONDS)) 2>$(FUZZ_DIR)/smoke-$$t.log || \
		{ tail -n 60 $(FUZZ_DIR)/smoke-$$t.log; exit 1; }; \
		grep -h '^stat::number_of_executed_units\|^#.*DONE' $(FUZZ_DIR)/smoke-$$t.log; done

integration: inflight $(OUTPUT)/san/inflight
	$(Q)python3 tests/integration/run.py --inflight $(OUTPUT)/san/inflight

# The Debian roots the tests run programs in (outside the repository): unstable's
# CPython 3.13-3.15, which they also trace, and Debian 11, where the static inflight
# and its package must run
test-root: deps
	$(Q)bash tools/debian-root.sh sid
	$(Q)bash tools/debian-root.sh bullseye

# CPython 3.14 and 3.15 with symbols, from Debian's source packages; the tests use them when built
symbol-builds: test-root
	$(Q)bash tools/cpython-symbol-builds.sh

check: deps test-root
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
	$(Q)$(MAKE) --no-print-directory integration
	$(Q)$(MAKE) --no-print-directory bench QUICK=1

# A benchmark, not a test: traced/untraced medians, tracer CPU and memory.
# QUICK=1 is the CI-sized run that keeps it from rotting; BASE=PATH, another inflight (a
# change's base) that the rows of processes of one interpreter build also run.
bench: deps inflight
	$(Q)python3 tools/bench/run.py --inflight ./inflight --json $(OUTPUT)/bench.json $(if $(QUICK),--quick) $(if $(BASE),--base-inflight $(BASE))

demo: deps
	$(Q)$(MAKE) --no-print-directory inflight
	$(Q)bash tools/demo.sh

# the sweep's units run the inflight installed here: their ExecStart names $(PREFIX)/sbin
install: inflight
	install -D -m 0755 inflight $(DESTDIR)$(PREFIX)/sbin/inflight
	install -D -m 0644 man/inflight.8 $(DESTDIR)$(PREFIX)/share/man/man8/inflight.8
	install -D -m 0644 tools/completion/inflight.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/inflight
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	sed 's|^ExecStart=/usr/local/sbin/inflight |ExecStart=$(PREFIX)/sbin/inflight |' \
		tools/systemd/inflight-sweep.service > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/inflight-sweep.service
	install -m 0644 tools/systemd/inflight-sweep.timer $(DESTDIR)$(SYSTEMD_UNIT_DIR)/

# The Debian package: ./inflight and the files under tools/, packed by tools/deb/build.sh.
DEB := $(OUTPUT)/inflight_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null || echo amd64).deb
deb: $(DEB)

$(DEB): inflight $(wildcard tools/deb/* tools/systemd/* tools/completion/*) man/inflight.8 \
		README.md $(wildcard docs/*.md) LICENSE | $(OUTPUT)
	$(call msg,DEB,$@)
	$(Q)bash tools/deb/build.sh $(VERSION) inflight $@

clean:
	rm -rf $(OUTPUT) inflight

-include $(wildcard $(OUTPUT)/obj/*/*.d $(OUTPUT)/san/*/*.d $(FUZZ_DIR)/obj/*/*.d $(FUZZ_DIR)/*.d)
