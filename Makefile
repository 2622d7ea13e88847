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
LIBS_wsrecv        = $(LWS_LIBS)
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

# The suite runs twice: on the normal build and under ASan + UBSan.
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

install: all install-scripts install-man install-service
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

# The unit runs the installed camrec.sh; the example settings file is for
# /etc/camrec/camrec.json (camrec-config(5)).
install-service:
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(EXAMPLEDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/camrec.service >$(DESTDIR)$(UNITDIR)/camrec.service
	chmod 644 $(DESTDIR)$(UNITDIR)/camrec.service
	install -m 644 examples/camrec.json $(DESTDIR)$(EXAMPLEDIR)/camrec.json

clean:
	rm -rf bin obj build-san

.PHONY: all deps check check-san demo bench lint install install-scripts install-man install-service clean
