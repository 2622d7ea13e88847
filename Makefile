# camrec: small tools that record video from WebSocket cameras.
# The one place the version is written; the scripts read it too.
VERSION  := $(shell cat VERSION)
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
UNITDIR  ?= $(PREFIX)/lib/systemd/system
EXAMPLEDIR ?= $(PREFIX)/share/camrec
CC       ?= cc
CFLAGS   ?= -g -O2
override CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib \
                     -DCAMREC_VERSION='"$(VERSION)"'
# SAN=1 builds everything with AddressSanitizer and UBSan into build-san/.
ifeq ($(SAN),1)
override CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
O ?= build-san
else
O ?= .
endif

LWS_LIBS     = $(shell pkg-config --libs libwebsockets 2>/dev/null || echo -lwebsockets)
JANSSON_LIBS = $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)

# Libraries each tool links beyond lib/libcamrec.a.
LIBS_wsrecv        = $(LWS_LIBS) $(JANSSON_LIBS)
LIBS_camsim        = $(LWS_LIBS) -lm
LIBS_sessionwriter = $(JANSSON_LIBS)
LIBS_sessionrecover = $(JANSSON_LIBS)
LIBS_fpsest        = $(JANSSON_LIBS) -lm
LIBS_mux           = $(JANSSON_LIBS)
LIBS_frameparse    = $(JANSSON_LIBS)
LIBS_ctl           = $(JANSSON_LIBS)
LIBS_liverelay     = $(LWS_LIBS) $(JANSSON_LIBS)
LIBS_camconf       = $(JANSSON_LIBS)
LIBS_hookrun       = $(JANSSON_LIBS)
LIBS_prune         = $(JANSSON_LIBS) -lm
LIBS_metrics       = $(LWS_LIBS) $(JANSSON_LIBS)

TOOLS   = $(notdir $(wildcard cmd/*))
PROGS   = $(addprefix $(O)/bin/,$(TOOLS))
SCRIPTS = $(wildcard scripts/*.sh scripts/hooks/*.sh)
LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(patsubst lib/%.c,$(O)/obj/lib/%.o,$(LIB_SRC))
HEADERS = $(wildcard lib/*.h)
MANS    = $(wildcard man/*.[1-9])

all: $(PROGS)

$(O)/obj/lib/%.o: lib/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(O)/obj/lib/version.o: VERSION

$(O)/obj/libcamrec.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

define tool_rule
$(O)/bin/$(1): $(wildcard cmd/$(1)/*.c) $(wildcard cmd/$(1)/*.h) $(O)/obj/libcamrec.a $(HEADERS)
	@mkdir -p $(O)/bin
	$(CC) $(CFLAGS) $(LDFLAGS) -o $$@ $(wildcard cmd/$(1)/*.c) $(O)/obj/libcamrec.a $$(LIBS_$(1)) $(LDLIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

deps:
	@scripts/deps.sh

# Fuzzing (clang's libFuzzer): each fuzz/fuzz_NAME.c against lib/, built
# with ASan + UBSan into $(O)/fuzz/. make fuzz runs each for FUZZ_SECONDS
# (default 60) on its corpus in tests/fuzz/NAME/, which it grows;
# fuzz-replay runs just the corpus (make check does, via tests/fuzz.bats).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS   = -g -O1 -std=c11 -D_GNU_SOURCE -Ilib -Wall -Wextra -Werror \
                -DCAMREC_VERSION='"$(VERSION)"' -DREC_READ_CHUNK=4096 \
                -DINDEX_START_BYTES=4096 \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZERS  = $(patsubst fuzz/%.c,$(O)/fuzz/%,$(wildcard fuzz/fuzz_*.c))
FUZZ_LIB = $(patsubst lib/%.c,$(O)/fuzz/lib/%.o,$(LIB_SRC))

$(O)/fuzz/lib/%.o: lib/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# Harnesses of a tool's own parser compile its files in (FUZZSRC_name).
FUZZSRC_fuzz_ctl     = cmd/ctl/parse.c cmd/ctl/status.c cmd/ctl/escape.c
FUZZSRC_fuzz_segment = cmd/frameparse/segment.c
FUZZSRC_fuzz_frameparse = cmd/frameparse/segment.c
FUZZSRC_fuzz_conf    = cmd/camconf/schema.c cmd/camconf/jsonpos.c
FUZZSRC_fuzz_session = cmd/prune/scan.c cmd/prune/tree.c cmd/wsrecv/reclist.c
FUZZINC_fuzz_ctl     = -Icmd/ctl
FUZZINC_fuzz_segment = -Icmd/frameparse
FUZZINC_fuzz_frameparse = -Icmd/frameparse
FUZZINC_fuzz_conf    = -Icmd/camconf
FUZZINC_fuzz_session = -Icmd/prune -Icmd/wsrecv
FUZZINC_fuzz_wsctl   = -Icmd/wsrecv

.SECONDARY: $(FUZZ_LIB)
.SECONDEXPANSION:
$(O)/fuzz/%: fuzz/%.c fuzz/fuzz.h $(FUZZ_LIB) $$(FUZZSRC_$$*)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZINC_$*) -fsanitize=fuzzer -o $@ $< $(FUZZSRC_$*) \
		$(FUZZ_LIB) $(JANSSON_LIBS) $(LWS_LIBS) -lm

fuzz-build: $(FUZZERS)

fuzz: fuzz-build
	for f in $(FUZZERS); do n=$${f##*/fuzz_}; mkdir -p tests/fuzz/$$n && \
		$$f -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=2 -print_final_stats=1 tests/fuzz/$$n || exit 1; done

# SIGKILL to a random recorder process, a restart, every session checked;
# SOAK_ROUNDS rounds (an hour or more on a shared 2-core machine).
SOAK_ROUNDS ?= 100
SOAK_SECONDS ?= 1800
soak: all
	CAMREC_BIN=$(abspath $(O))/bin KILLSOAK_SECONDS=$(SOAK_SECONDS) bench/killsoak.sh $(SOAK_ROUNDS) 3

fuzz-replay: fuzz-build
	for f in $(FUZZERS); do n=$${f##*/fuzz_}; $$f -runs=0 tests/fuzz/$$n || exit 1; done

# The suite runs twice, at the same time: on the normal build and under
# ASan + UBSan (tests/check).
check: deps lint
	$(MAKE) all
	$(MAKE) SAN=1 all
	tests/check

check-san: deps
	$(MAKE) SAN=1 all
	CAMREC_BIN=$(CURDIR)/build-san/bin tests/run

demo: deps
	$(MAKE) all
	scripts/demo.sh

bench: deps
	$(MAKE) all
	bench/run

# The man pages and every shell script; no network, no build.
lint:
	mandoc -Tlint -W warning $(MANS)
	shellcheck $(SCRIPTS) tests/*.bash tests/run tests/check .ci/run

install: all install-scripts install-man install-web install-service
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)

# Installed scripts carry the version number: they have no VERSION file
# beside them.
install-scripts:
	install -d $(DESTDIR)$(BINDIR)
	for s in $(SCRIPTS); do \
		sed 's/^camrec_version=$$/camrec_version=$(VERSION)/' $$s >$(DESTDIR)$(BINDIR)/$$(basename $$s) && \
		chmod 755 $(DESTDIR)$(BINDIR)/$$(basename $$s) || exit 1; done

install-man:
	for m in $(MANS); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s || exit 1; done

# The console page, and jmuxer when deps.sh installed it beside the page.
WEBDIR ?= $(PREFIX)/share/camrec/web
JMUXER  = web/node_modules/jmuxer/dist/jmuxer.min.js
install-web:
	install -d $(DESTDIR)$(WEBDIR)
	install -m 644 $(wildcard web/*.html web/*.js web/*.css web/*.png) $(DESTDIR)$(WEBDIR)
	if [ -f $(JMUXER) ]; then install -d $(DESTDIR)$(WEBDIR)/node_modules/jmuxer/dist && \
		install -m 644 $(JMUXER) $(DESTDIR)$(WEBDIR)/node_modules/jmuxer/dist; fi

# The unit runs the installed camrec.sh; the example settings file is for
# /etc/camrec/camrec.json (camrec-config(5)).
install-service:
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(EXAMPLEDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/camrec.service >$(DESTDIR)$(UNITDIR)/camrec.service
	chmod 644 $(DESTDIR)$(UNITDIR)/camrec.service
	install -m 644 examples/camrec.json $(DESTDIR)$(EXAMPLEDIR)/camrec.json

clean:
	rm -rf bin obj build-san

.PHONY: fuzz fuzz-build fuzz-replay soak
.PHONY: all deps check check-san demo bench lint install install-scripts install-man install-web install-service clean
