# smime-milter build.  `make` builds everything into build/; `make check` runs every
# test twice: once on the normal build, once on an AddressSanitizer+UBSan build in
# build-asan/.  Sources are found by pattern, so adding a module, a tool or a test
# is adding a file.

BUILD    ?= build
SAN      ?=
CC       ?= cc
PKGS     := gmime-3.0 gnutls sqlite3 libpq libcurl jansson
# The daemon alone links libmilter and libmicrohttpd (its Prometheus endpoint).
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
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

.PHONY: all deps check check-build check-asan run clean bench fuzz sample-mail install uninstall deb programs
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
	$(CC) $(CPPFLAGS) -Imilter $(CFLAGS) $(MHD_CFLAGS) $(LDFLAGS) -o $@ $(MILTER_SRC) $(LIB) $(LDLIBS) -lmilter $(MHD_LIBS)

$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h) $(LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The floors of bench/run.sh: OpenSSL is linked only into those that measure it
# as the reference (and the null milter, whose crypto milter floor sets up the
# crypto limit's cases as crypto-limit does), libmilter only into the null milter.
$(BUILD)/bench/crypto-limit $(BUILD)/bench/cms-peers $(BUILD)/bench/null-milter: LDLIBS += $(shell pkg-config --libs libcrypto 2>/dev/null)
$(BUILD)/bench/null-milter: LDLIBS += -lmilter

# Some unit tests compile daemon sources in directly (test_spool: milter/spool.c;
# test_metrics: milter/metrics.c, which needs libmicrohttpd).
$(BUILD)/tests/test_metrics: CFLAGS += $(MHD_CFLAGS)
$(BUILD)/tests/test_metrics: LDLIBS += $(MHD_LIBS)
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

# Installation (FHS).  The daemon in sbin, the tools in bin; the configuration
# in SYSCONFDIR (default /etc: the daemon's built-in -c default is
# /etc/smime-milter.conf), an existing one never overwritten; the anchors
# directory SYSCONFDIR/smime-milter/anchors; the unit, rewritten for these paths;
# the state directory.  Nothing is built here that `make` did not build, and no
# user is made: see README (Install) or the Debian package (make deb).
PREFIX        ?= /usr/local
SBINDIR       ?= $(PREFIX)/sbin
BINDIR        ?= $(PREFIX)/bin
MANDIR        ?= $(PREFIX)/share/man
DOCDIR        ?= $(PREFIX)/share/doc/smime-milter
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var
UNITDIR       ?= $(PREFIX)/lib/systemd/system
INSTALL       ?= install
MANPAGES      := $(wildcard doc/*.1 doc/*.5 doc/*.8)
# The shipped files name /usr/sbin and /etc; installed elsewhere, they say where.
INSTALL_PATHS := sed -e 's|/usr/sbin/smime-milter|$(SBINDIR)/smime-milter|g' \
                     -e 's|/etc/smime-milter|$(SYSCONFDIR)/smime-milter|g'

# The installed programs alone (no tests, no cmocka): what a package builds.
programs: $(TOOLS) $(MILTER)

install: $(TOOLS) $(MILTER)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/smime-milter/anchors \
	    $(DESTDIR)$(LOCALSTATEDIR)/lib/smime-milter \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0755 $(MILTER) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	for m in $(MANPAGES); do \
	    $(INSTALL) -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit 1; done
	$(INSTALL_PATHS) doc/smime-milter.service > $(BUILD)/smime-milter.service
	$(INSTALL) -m 0644 $(BUILD)/smime-milter.service $(DESTDIR)$(UNITDIR)/
	$(INSTALL_PATHS) doc/smime-milter.conf.sample > $(BUILD)/smime-milter.conf
	$(INSTALL) -m 0644 $(BUILD)/smime-milter.conf $(DESTDIR)$(DOCDIR)/smime-milter.conf.sample
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/smime-milter.conf ]; then \
	    echo "kept $(DESTDIR)$(SYSCONFDIR)/smime-milter.conf (the new sample: $(DOCDIR)/smime-milter.conf.sample)"; \
	else \
	    $(INSTALL) -m 0644 $(BUILD)/smime-milter.conf $(DESTDIR)$(SYSCONFDIR)/smime-milter.conf; \
	fi
	$(INSTALL) -m 0644 README.md doc/lint-coverage.md doc/smime-telemetry-export.schema.json \
	    $(DESTDIR)$(DOCDIR)/

# Removes what install put there, except the configuration, the anchors and the
# state (an admin's data).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/smime-milter $(DESTDIR)$(UNITDIR)/smime-milter.service
	rm -f $(patsubst $(BUILD)/%,$(DESTDIR)$(BINDIR)/%,$(TOOLS))
	for m in $(MANPAGES); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#doc/}; done
	rm -rf $(DESTDIR)$(DOCDIR)

# The Debian package, built from this tree into ../ as Debian does (debian/).
deb:
	dpkg-buildpackage -us -uc -b
	@echo "built: $$(ls -t ../smime-milter_*.deb | head -1)"

clean:
	rm -rf build build-asan build-fuzz
