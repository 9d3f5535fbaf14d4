# bt*: a BitTorrent client as small Unix tools. Plain GNU make.
#
#   make            build every tool into $(BUILD)/bin (default build/bin)
#   make check      install missing test dependencies, build, run all tests
#   make demo       the main job, end to end, on loopback
#   make asan       build with AddressSanitizer and UBSan into build-asan/
#   make check-asan the test suite against the sanitized build
#   make check-long the long suites: chaos and scale (tests/long/)
#   make fuzz       build the libFuzzer targets into build-fuzz/
#   make bench      the benchmarks (large payloads, slow)
#   make install    PREFIX=/usr/local DESTDIR= : binaries, man pages and
#                   the shell library of bittorrent (in share/bt)

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SHAREDIR ?= $(PREFIX)/share/bt
BUILD	?= build
CC	?= cc
CFLAGS	?= -O2 -g
WARN	= -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -Wpointer-arith -Wformat=2
PKGS	= libcurl libcrypto libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcurl -lcrypto -lseccomp)
ALL_CPPFLAGS = -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SANFLAGS)
ALL_LDFLAGS = -Wl,--as-needed $(LDFLAGS) $(SANFLAGS)

TOOLS	:= $(patsubst %/main.c,%,$(wildcard */main.c))
SCRIPTS	:= $(filter-out %.sh %.1 %.5 %.bash,$(wildcard scripts/*))
SHLIBS	:= $(wildcard scripts/*.bash)
LIB_OBJ	:= $(patsubst %.c,$(BUILD)/%.o,$(wildcard lib/*.c))
UNITS	:= $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
BINS	:= $(foreach t,$(TOOLS),$(BUILD)/bin/$(t))
MANS	:= $(wildcard */*.[1-9])

all: deps
	@$(MAKE) --no-print-directory bins

bins: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libbt.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

define tool_rule
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(1)/*.c)) $(BUILD)/libbt.a
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(PKG_LIBS) $$(LDLIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

$(BUILD)/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libbt.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# Test drivers (tests/tools/*.c): built with the unit tests, never installed.
TESTTOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/bin/%,$(wildcard tests/tools/*.c))
$(BUILD)/tests/bin/%: $(BUILD)/tests/tools/%.o $(BUILD)/libbt.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

units: $(UNITS) $(TESTTOOLS) $(BUILD)/test-bin/btpeer $(BUILD)/test-bin/btverify

# btpeer with its test hooks compiled in (-DBT_TEST_HOOKS: the sandbox
# test's escape attempts). Built beside the units, never installed.
$(BUILD)/hooks/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -DBT_TEST_HOOKS $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/test-bin/btpeer: $(patsubst %.c,$(BUILD)/hooks/%.o,$(wildcard btpeer/*.c)) $(BUILD)/libbt.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# btverify with its test hook (a file truncated under the mapped hash).
$(BUILD)/test-bin/btverify: $(patsubst %.c,$(BUILD)/hooks/%.o,$(wildcard btverify/*.c)) $(BUILD)/libbt.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

deps:
	@sh scripts/deps.sh build

deps-test:
	@sh scripts/deps.sh test

check: deps-test
	$(MAKE) all units
	$(MAKE) fuzz
	BUILD=$(BUILD) sh tests/run.sh

asan:
	$(MAKE) BUILD=build-asan CC=clang \
	    SANFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer' \
	    all units

check-asan: deps-test asan
	BUILD=build-asan sh tests/run.sh

# The long suites (chaos, scale, choking, rate limits: real peers paced
# on purpose, minutes each): tests/long/*.bats, with the same summary line.
check-long: deps-test
	$(MAKE) all units
	BUILD=$(BUILD) SUITES=long sh tests/run.sh

# libFuzzer targets: each tests/fuzz/fuzz_NAME.c against lib/, built by clang.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz: $(FUZZ_BIN)
build-fuzz/%: tests/fuzz/%.c $(wildcard lib/*.c lib/*.h tests/fuzz/*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) -o $@ $< \
	    $(wildcard lib/*.c) $(PKG_LIBS)

demo: deps-test all
	sh scripts/demo.sh

# Every benchmark, 1 GiB, 3 rounds: 20-30 minutes on 2 cores. One of them:
# make bench BENCH_ONLY=download (see scripts/bench.sh).
bench: deps-test all
	sh scripts/bench.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	for b in $(BINS) $(SCRIPTS); do install -m 755 $$b $(DESTDIR)$(BINDIR)/; done
	mkdir -p $(DESTDIR)$(SHAREDIR)
	for l in $(SHLIBS); do install -m 644 $$l $(DESTDIR)$(SHAREDIR)/; done
	for m in $(MANS); do s=$${m##*.}; mkdir -p $(DESTDIR)$(MANDIR)/man$$s; \
	    install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done

clean:
	rm -rf build build-asan build-fuzz

.SECONDARY:

.PHONY: all bins units deps deps-test check check-long asan check-asan fuzz demo bench install clean
