# RA back office: the one Makefile.
#
# Each program or test fixture lists its sources in a `module.mk` beside its code;
# this file turns those lists into rules. Flags come from pkg-config, per program,
# so that ca-signer links neither SMTP nor PC/SC.
#
#   make deps     install every Debian package the build, tests and demo need
#   make all      build every program into build/bin
#   make test     deps + all + unit and integration tests; ends "N passed, N failed"
#   make chaos    the chaos test for CHAOS_S seconds (default 600) of load and kills
#   make demo     deps + all + the main job end to end in var/demo
#   make bench    benchmarks with ratios against baselines measured in the same run
#   make asan     the same build with AddressSanitizer/UBSan, in build-asan/
#   make install  PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -g
WERROR  ?= $(if $(CI),-Werror,)
CFLAGS  += $(OPT) -std=gnu11 -Wall -Wextra $(WERROR) -Wno-deprecated-declarations \
           -fstack-protector-strong -D_FORTIFY_SOURCE=2 -D_GNU_SOURCE -MMD -MP -Ilib
LDFLAGS +=

BIN := $(BUILD)/bin
OBJ := $(BUILD)/obj

PROGRAMS :=
UNIT_TESTS :=
# Test fixtures and benchmark helpers: built with the rest, never installed.
NOINST := vpiv cs-perso-local ra-probe sign-bench smtp-fast
.DEFAULT_GOAL := all

include $(sort $(wildcard */module.mk tests/*/module.mk tests/fixtures/*/module.mk))

# $(call program,NAME,SOURCES,PKGS,DIR): one binary in DIR from SOURCES.
define program
$(1)_OBJS := $$(patsubst %.c,$(OBJ)/%.o,$(2))
$(4)/$(1): $$($(1)_OBJS)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(shell pkg-config --libs $(3)) $$($(1)_LIBS)
$$($(1)_OBJS): CFLAGS += $$(shell pkg-config --cflags $(3))
ALL_OBJS += $$($(1)_OBJS)
endef

$(foreach p,$(PROGRAMS),$(eval $(call program,$(p),$($(p)_SRCS),$($(p)_PKGS),$(BIN))))
$(foreach t,$(UNIT_TESTS),$(eval $(call program,$(t),$($(t)_SRCS),cmocka $($(t)_PKGS),$(BUILD)/tests)))

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

all: $(addprefix $(BIN)/,$(PROGRAMS)) $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))

deps:
	@tools/deps.sh

test: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(abspath $(BUILD)) tests/run.sh $(T)

CHAOS_S ?= 600
CHAOS_FORMS ?= 200
chaos: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(abspath $(BUILD)) RA_TOP=$(CURDIR) CHAOS_S=$(CHAOS_S) CHAOS_FORMS=$(CHAOS_FORMS) bash tests/integration/test_chaos.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(abspath $(BUILD)) tools/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(abspath $(BUILD)) bench/run.sh

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan \
	  OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined" all

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/ra/config
	install -m 0755 $(addprefix $(BIN)/,$(filter-out $(NOINST),$(PROGRAMS))) $(DESTDIR)$(PREFIX)/bin/
	cp -r config/. $(DESTDIR)$(PREFIX)/share/ra/config/

clean:
	rm -rf build build-asan

.PHONY: all deps test chaos demo bench asan install clean
-include $(ALL_OBJS:.o=.d)
