# recio_migrate: PGXS build of a C++17 PostgreSQL extension.
#
# One version number (EXTVERSION) feeds the control file and META.json;
# `make check-version` (run by the test command) fails when they disagree or
# when no script reaches it.  The current SQL lives in per-feature sources
# under sql/src/ (pgvector's model: one source of truth); the full install
# script recio_migrate--$(EXTVERSION).sql is built from them (and git-ignored).
# Released scripts (recio_migrate--0.1.0.sql and the update scripts
# recio_migrate--A--B.sql) are frozen; each release adds an update script, and
# test/integration/upgrade.sh checks that an upgraded installation equals a
# fresh one.

EXTENSION  = recio_migrate
EXTVERSION = 0.4.0

MODULE_big = recio_migrate
# src/module.cpp (the entry points) and one folder per feature (STYLE.md):
# every .cpp under src/ is part of the module
OBJS = $(patsubst %.cpp,%.o,$(sort $(wildcard src/*.cpp src/*/*.cpp)))

# Install scripts live beside the regression inputs in sql/; the test list is
# therefore explicit and test/run_tests.sh checks that none is forgotten.
# the order of the sources is the order of creation (migrate uses parity's
# table type; privileges come last)
SQL_SOURCES = $(addprefix sql/src/,fdw.sql parity.sql migrate.sql retention.sql bloat.sql schema.sql carried_schema.sql sync.sql snapshot.sql export.sql privileges.sql)
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
REGRESS = \
	setup \
	fdw_options \
	fdw_security \
	fdw_import \
	fdw_types \
	fdw_errors \
	fdw_pushdown \
	fdw_pushdown_any \
	fdw_estimate \
	fdw_snapshot \
	fdw_recio_files \
	parity_checksum \
	parity \
	parity_duplicates \
	privilege_before_lock \
	migrate_profile \
	migrate_runs \
	migrate_ledger \
	bloat \
	search_path_safety \
	retention \
	on_error_types \
	import_names \
	migrate_types \
	schema_plan \
	check_references \
	schema_carry \
	migrate_targets \
	sync \
	snapshot \
	cutover_check \
	fdw_write \
	fdw_write_formats \
	parity_types \
	privileges
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
	for b in bench bench_explain bench_migrate bench_retention bench_bloat; do bash test/$$b.sh || exit 1; done

$(DATA_built): $(SQL_SOURCES) Makefile
	{ printf '%s\n' '/* $(EXTENSION) $(EXTVERSION): built by the Makefile from sql/src/; edit the sources there */' \
	    '\echo Use "CREATE EXTENSION $(EXTENSION)" to load this file. \quit'; \
	  for f in $(SQL_SOURCES); do printf '\n-- %s\n' "$$f"; cat "$$f"; done; } > $@

# the long differential converter test and corrupt-file fuzzing (takes the install lock)
fuzz:
	bash test/fuzz/run_fuzz.sh

check-version: $(DATA_built)
	@grep -q "default_version = '$(EXTVERSION)'" $(EXTENSION).control || { echo "control file version != $(EXTVERSION)"; exit 1; }
	@grep -q '"version": "$(EXTVERSION)"' META.json || { echo "META.json version != $(EXTVERSION)"; exit 1; }
	@ls sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--*--$(EXTVERSION).sql 2>/dev/null | grep -q . || { echo "no install or update script reaches $(EXTVERSION)"; exit 1; }
