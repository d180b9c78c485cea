# recio_migrate: PGXS build of a C++17 PostgreSQL extension.
#
# One version number (EXTVERSION) feeds the control file and META.json;
# `make check-version` (run by the test command) fails when they disagree or
# when no script reaches it.  The base install script stays
# recio_migrate--0.1.0.sql; each release adds an update script
# recio_migrate--A--B.sql, and test/integration/upgrade.sh checks that an
# upgraded installation equals a fresh one.

EXTENSION  = recio_migrate
EXTVERSION = 0.3.0

MODULE_big = recio_migrate
# src/module.cpp (the entry points) and one folder per feature (STYLE.md):
# every .cpp under src/ is part of the module
OBJS = $(patsubst %.cpp,%.o,$(sort $(wildcard src/*.cpp src/*/*.cpp)))

# Install scripts live beside the regression inputs in sql/; the test list is
# therefore explicit and test/run_tests.sh checks that none is forgotten.
DATA = $(wildcard sql/$(EXTENSION)--*.sql)
REGRESS = \
	setup \
	fdw_options \
	fdw_security \
	fdw_import \
	fdw_types \
	fdw_errors \
	fdw_pushdown \
	fdw_snapshot \
	fdw_recio_files \
	parity_checksum \
	parity \
	migrate_profile \
	migrate_runs \
	bloat \
	retention
REGRESS_OPTS = --inputdir=. --outputdir=results --load-extension=$(EXTENSION)

SHLIB_LINK += -lsqlite3 -lstdc++
PG_CPPFLAGS = -I$(srcdir)/src
PG_CXXFLAGS = -std=c++17 -fno-strict-aliasing -Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-register $(RECIO_WERROR)
# -MMD -MP: each object records the headers it was built from (src/x/y.d),
# so a changed header rebuilds every object that includes it.
PG_CXXFLAGS += -MMD -MP
# CI (and the test command) build with -Werror; a developer can override.
RECIO_WERROR ?= -Werror

# Debian's PostgreSQL is built with LLVM JIT, so PGXS would also compile every
# source file to LLVM bitcode with clang for inlining into JIT-compiled
# expressions.  Our code runs inside FDW callbacks, never inside JIT-compiled
# expressions, so the bitcode buys nothing; switch it off deliberately.
override with_llvm = no

EXTRA_CLEAN = results regression.diffs regression.out $(OBJS:.o=.d)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
-include $(OBJS:.o=.d)

.PHONY: test demo check-version bench fuzz
test:
	bash test/run_tests.sh

demo:
	bash test/demo.sh

# every benchmark script, one after the other (each takes the install lock)
bench:
	for b in bench bench_migrate bench_retention bench_bloat; do bash test/$$b.sh || exit 1; done

# the long differential converter test and corrupt-file fuzzing (takes the install lock)
fuzz:
	bash test/fuzz/run_fuzz.sh

check-version:
	@grep -q "default_version = '$(EXTVERSION)'" $(EXTENSION).control || { echo "control file version != $(EXTVERSION)"; exit 1; }
	@grep -q '"version": "$(EXTVERSION)"' META.json || { echo "META.json version != $(EXTVERSION)"; exit 1; }
	@ls sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--*--$(EXTVERSION).sql 2>/dev/null | grep -q . || { echo "no install or update script reaches $(EXTVERSION)"; exit 1; }
