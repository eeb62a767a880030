# smime-milter build.  `make` builds everything into build/; `make check` runs every
# test twice: once on the normal build, once on an AddressSanitizer+UBSan build in
# build-asan/.  Sources are found by pattern, so adding a module, a tool or a test
# is adding a file.

BUILD    ?= build
SAN      ?=
CC       ?= cc
PKGS     := gmime-3.0 gnutls sqlite3 libpq libcurl jansson
OPTFLAGS ?= -O2

CPPFLAGS += -Iinclude -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
CFLAGS   += -std=c11 -Wall -Wextra -Werror -g $(OPTFLAGS) -fno-strict-aliasing \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
# libunbound (CAA lookups) directly: its .pc file requires libevent's, which the
# -dev package does not pull in; the header alone decides (caa_unbound.c).
LDLIBS   += $(if $(wildcard /usr/include/unbound.h),-lunbound)

ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC   := $(sort $(wildcard src/*/*.c))
LIB_OBJ   := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC))
LIB       := $(BUILD)/libsmime.a
TOOL_SRC  := $(sort $(wildcard tools/*.c))
TOOLS     := $(patsubst tools/%.c,$(BUILD)/%,$(TOOL_SRC))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNITS     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
HEADERS   := $(wildcard include/smime/*/*.h)
# The daemon: every milter/*.c is linked into one binary with libmilter.
MILTER_SRC := $(sort $(wildcard milter/*.c))
MILTER     := $(if $(MILTER_SRC),$(BUILD)/smime-milter)
BENCHES    := $(patsubst bench/%.c,$(BUILD)/bench/%,$(sort $(wildcard bench/*.c)))

.PHONY: all deps check check-build check-asan run clean bench fuzz sample-mail
all: $(LIB) $(TOOLS) $(MILTER) $(UNITS) $(BENCHES)

$(BUILD)/obj/%.o: src/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%: tools/%.c $(LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/smime-milter: $(MILTER_SRC) $(wildcard milter/*.h) $(LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Imilter $(CFLAGS) $(LDFLAGS) -o $@ $(MILTER_SRC) $(LIB) $(LDLIBS) -lmilter

$(BUILD)/bench/%: bench/%.c $(LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# Some unit tests compile daemon sources in directly (test_spool: milter/spool.c).
$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(HEADERS) $(wildcard tests/unit/*.h milter/*.c milter/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

deps:
	@sh tools/deps.sh

# Runs the unit tests and tests/check-*.sh against one build directory.
check-build: all
	@sh tests/run.sh $(BUILD)

check-asan:
	$(MAKE) BUILD=build-asan SAN=1 OPTFLAGS=-O1 check-build

check: deps
	$(MAKE) check-build
	$(MAKE) check-asan

run: deps all
	@sh tools/run.sh $(BUILD)

bench: deps all
	@sh bench/run.sh $(BUILD)

# libFuzzer targets (clang, ASan+UBSan) in build-fuzz/: FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
fuzz: deps
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

sample-mail:
	sh tools/make-sample-mail.sh sample-mail

clean:
	rm -rf build build-asan build-fuzz
