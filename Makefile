# flowmon: `make` builds build/flowmon, `make test` installs what is missing
# (when root), builds and runs every test, `make run` installs the build
# packages that are missing (when root), builds and starts the daemon on a
# local data dir. Libraries come from Debian through pkg-config.

VERSION	:= 0.1.0
CC	?= cc
B	?= build
CFLAGS	?= -O2 -g
LDFLAGS	?=

PKGS	 = libmicrohttpd libcjson yaml-0.1 libcurl
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wwrite-strings -Wformat=2 -Wvla
ifneq ($(CI),)
WARN	+= -Werror
endif
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS	:= $(shell pkg-config --libs check 2>/dev/null)
ALL_CFLAGS	 = -std=c11 -D_GNU_SOURCE -DFLOWMON_VERSION='"$(VERSION)"' \
		   $(WARN) $(PKG_CFLAGS) -Isrc $(CFLAGS)
LIBS		 = $(PKG_LIBS) -lpthread

SRCS	:= $(filter-out src/main.c,$(wildcard src/*.c))
OBJS	:= $(SRCS:src/%.c=$(B)/%.o) $(B)/shortcuts_builtin.o
HDRS	:= $(wildcard src/*.h)
CHECKS	:= $(patsubst tests/%.c,$(B)/%,$(wildcard tests/check_*.c))

SAN_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	     -fno-sanitize-recover=undefined

.PHONY: all run test deps deps-build unit integration asan valgrind clean bench soak fuzz install e2e

all: $(B)/flowmon

$(B)/%.o: src/%.c $(HDRS) | $(B)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The built-in shortcut table is etc/shortcuts.yaml, compiled in as bytes.
$(B)/gen/shortcuts_builtin.c: etc/shortcuts.yaml | $(B)
	@mkdir -p $(@D)
	{ echo '/* generated from etc/shortcuts.yaml: do not edit */'; \
	  echo '#include "shortcuts.h"'; \
	  echo 'const char shortcuts_builtin[] = {'; \
	  od -An -v -tx1 $< | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00 };'; \
	  echo 'const size_t shortcuts_builtin_len = sizeof(shortcuts_builtin) - 1;'; \
	} > $@.tmp && mv $@.tmp $@

$(B)/shortcuts_builtin.o: $(B)/gen/shortcuts_builtin.c src/shortcuts.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libflowmon.a: $(OBJS)
	rm -f $@
	ar rcs $@ $^

$(B)/flowmon: $(B)/main.o $(B)/libflowmon.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/check_%: tests/check_%.c $(wildcard tests/*.h) $(B)/libflowmon.a
	$(CC) $(ALL_CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(B)/libflowmon.a \
	    $(CHECK_LIBS) $(LIBS)

$(B):
	mkdir -p $(B)

# The build packages first (installed as root; otherwise a missing one
# stops here, before any compiling, with the command that installs it),
# then a new make: pkg-config's flags are read when make starts.
run: deps-build
	$(MAKE) $(B)/flowmon
	mkdir -p var
	$(B)/flowmon --listen 127.0.0.1:8080 --data-dir ./var

# Installs the Debian packages the build and the tests need (when root);
# deps-build only those the build needs (.ci/deps.sh says which).
deps:
	@sh .ci/deps.sh test

deps-build:
	@sh .ci/deps.sh build

unit: $(CHECKS)
	@sh tests/run-checks.sh $(CHECKS)

integration: $(B)/flowmon
	@FLOWMON=$(abspath $(B)/flowmon) sh tests/run-integration.sh

# Everything again under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	$(MAKE) B=build-asan CFLAGS="$(SAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" unit integration

# The integration scenario under valgrind: no leak, no invalid access.
valgrind: $(B)/flowmon
	@FLOWMON=$(abspath $(B)/flowmon) FLOWMON_WRAP="valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file=$(abspath $(B))/valgrind.%p.log" \
	    sh tests/run-integration.sh tests/it_core.sh tests/it_shortcuts.sh

test: deps
	$(MAKE) all unit integration
	$(MAKE) asan
	$(MAKE) valgrind
	$(MAKE) fuzz FUZZ_SECONDS=5
	@echo "make test: all suites passed"

# End to end on a real Docker engine (tests/e2e_swarm.sh, as root): both
# images with both builders, a one-node swarm, the stacks of compose/ with
# local images only, flowmon reading Docker itself. dockerd is started and
# the swarm made when none runs, and both undone at the end. Where no
# engine can start it says so loudly and exits 77 (the environment's
# E2E_NO_ENGINE_RC instead: .ci/run sets 0).
e2e:
	@bash tests/e2e_swarm.sh

# libFuzzer (clang): every tests/fuzz/fuzz_*.c for FUZZ_SECONDS each, built
# into build-fuzz/; make test runs each for 5 s.
FUZZ_SECONDS ?= 60
fuzz:
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# Crash consistency, long run: 100 rounds of storm, SIGKILL and restart,
# then 50 rounds of storm and SIGKILL of the active daemon with a --standby
# one taking over (make test runs 10 and 3 rounds as tests/it_crash.sh, in
# integration and asan).
soak: $(B)/flowmon
	@SOAK_ROUNDS=100 STANDBY_ROUNDS=50 FLOWMON=$(abspath $(B)/flowmon) bash tests/it_crash.sh

# Benchmarks (not part of make test): figures in bench/README.md.
bench: $(B)/flowmon
	FLOWMON=$(abspath $(B)/flowmon) bash bench/run.sh

PREFIX	?= /usr/local
install: $(B)/flowmon
	install -D -m 0755 $(B)/flowmon $(DESTDIR)$(PREFIX)/bin/flowmon
	install -D -m 0644 flowmon.8 $(DESTDIR)$(PREFIX)/share/man/man8/flowmon.8

clean:
	rm -rf build build-asan build-fuzz
