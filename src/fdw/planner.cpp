/*
 * planner.cpp: GetForeignRelSize / GetForeignPaths / GetForeignPlan /
 * ExplainForeignScan for recio_sqlite, and the SQLite-side description of a
 * foreign table (affinities, collations, indexes, row key, row count) that
 * pushdown and costing rely on.
 */
#include "fdw/planner.h"

extern "C" {
#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "catalog/pg_am.h"
}

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>
#include <cstring>

#include "fdw/deparse.h"
#include "fdw/scan.h"
#include "fdw/options.h"
#include "sqlite/affinity.h"
#include "fdw/connection.h"
#include "sqlite/connection_cache.h"
#include "sqlite/schema.h"
#include "sqlite/sql_text.h"

namespace recio {
namespace {

/* Bytes a SQLite table row takes at least besides one header byte per column (cell pointer, sizes, rowid). */
constexpr double kMinRowBytes = 4;
/* Bytes a column takes in a typical legacy row (numbers and short text), for estimates from the file size. */
constexpr double kTypicalColumnBytes = 8;

using sqlite::Affinity;
using sqlite::affinity_of;
using sqlite::Connection;

struct Shape {
    bool is_view = false;
    std::vector<sqlite::ColumnInfo> columns;
    std::vector<std::string> indexed; /* leading index columns */
};

bool iequals(const std::string& a, const char* b)
{
    return sqlite3_stricmp(a.c_str(), b) == 0;
}

Shape describe_sqlite_table(Connection& conn, const char* table)
{
    Shape shape;
    sqlite::ObjectKind kind;
    if (!sqlite::find_object(conn, table, &kind))
        throw Error(ERRCODE_FDW_TABLE_NOT_FOUND,
                    format("SQLite table \"%s\" does not exist in file \"%s\"", table, conn.path), {},
                    "Check the foreign table's \"table\" option; SQLite names are case-insensitive.");
    shape.is_view = kind == sqlite::ObjectKind::View;
    shape.columns = sqlite::table_columns(conn, table);
    if (!shape.is_view) {
        sqlite::Statement st(conn,
                             "SELECT ii.name FROM pragma_index_list(?1) AS il, pragma_index_info(il.name) AS ii "
                             "WHERE ii.seqno = 0");
        st.bind(1, table);
        while (st.step())
            if (st.text(0))
                shape.indexed.emplace_back(st.text(0));
    }
    return shape;
}

/* SQLite expression that names a row in messages: the rowid, the primary key, or none. */
std::string row_key(Connection& conn, const char* table, const Shape& shape, KeyKind* kind)
{
    *kind = KeyKind::None;
    if (shape.is_view)
        return {};
    for (const char* alias : {"rowid", "_rowid_", "oid"}) {
        bool shadowed = false;
        for (const auto& c : shape.columns)
            shadowed |= iequals(c.name, alias);
        if (shadowed)
            continue;
        std::string sql = format("SELECT %s FROM %s LIMIT 0", alias, sqlite::quote_ident(table).c_str());
        sqlite3_stmt* probe = sqlite::try_prepare(conn, sql.c_str());
        sqlite3_finalize(probe);
        if (probe) {
            *kind = KeyKind::Rowid;
            return alias;
        }
        break; /* WITHOUT ROWID: no alias works */
    }
    std::vector<const sqlite::ColumnInfo*> pk;
    for (const auto& c : shape.columns)
        if (c.pk > 0)
            pk.push_back(&c);
    if (pk.empty())
        return {};
    std::sort(pk.begin(), pk.end(), [](auto a, auto b) { return a->pk < b->pk; });
    std::string expr;
    for (auto* c : pk) {
        if (!expr.empty())
            expr += " || ', ' || ";
        expr += "quote(" + sqlite::quote_ident(c->name.c_str()) + ")";
    }
    *kind = KeyKind::PrimaryKey;
    return expr;
}

/*
 * Rows in the table by SQLite's ANALYZE (sqlite_stat1), or -1.  The first
 * number of each stat is the rows its index covers (or the table's, for the
 * row with no index); a partial index covers fewer, so the largest is taken.
 * A damaged file may hold NULL or junk there: such rows are skipped.
 */
double stat1_rows(Connection& conn, const char* table)
{
    sqlite3_stmt* st = sqlite::try_prepare(conn, "SELECT stat FROM sqlite_stat1 WHERE tbl = ?1 COLLATE NOCASE");
    if (!st)
        return -1; /* no sqlite_stat1 in the file */
    sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
    double rows = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char* stat = sqlite3_column_text(st, 0);
        if (stat && isdigit(stat[0]))
            rows = std::max(rows, strtod(reinterpret_cast<const char*>(stat), nullptr));
    }
    sqlite3_finalize(st);
    return rows;
}

/* Bytes in the file: page_count * page_size of the read snapshot. */
double file_bytes(Connection& conn)
{
    sqlite::Statement st(conn, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    return st.step() ? static_cast<double>(st.int64_value(0)) : 0;
}

/*
 * Rows of a rowid table from its smallest and largest rowid: two b-tree
 * descents, whatever the table's size.  Exact for a table that was only
 * appended to; deleted rows or sparse keys make it high, so it is capped by
 * what the file could hold at a few bytes per row.
 */
double rowid_rows(Connection& conn, const RelInfo* info)
{
    std::string table = sqlite::quote_ident(info->table);
    std::string sql = format("SELECT (SELECT min(%s) FROM %s), (SELECT max(%s) FROM %s)", info->key_expr, table.c_str(),
                             info->key_expr, table.c_str());
    sqlite::Statement st(conn, sql.c_str());
    if (!st.step() || sqlite3_column_type(st.handle(), 1) == SQLITE_NULL)
        return 0; /* empty table */
    double span = static_cast<double>(st.int64_value(1)) - static_cast<double>(st.int64_value(0)) + 1;
    double most = file_bytes(conn) / (kMinRowBytes + info->natts);
    return std::min(span, most);
}

/*
 * Rows in the SQLite table for the planner, without reading the table:
 * sqlite_stat1 when SQLite's ANALYZE ran, else the rowid range, else (WITHOUT
 * ROWID tables, views) the file's size over a typical row size.  Cached on
 * the connection until another connection commits to the file.
 */
double estimate_sqlite_rows(Connection& conn, const RelInfo* info)
{
    double rows;
    if (sqlite::cached_row_estimate(conn, info->table, &rows))
        return rows;
    rows = stat1_rows(conn, info->table);
    if (rows < 0 && info->key_kind == KeyKind::Rowid)
        rows = rowid_rows(conn, info);
    if (rows < 0)
        rows = std::ceil(file_bytes(conn) / (kMinRowBytes + kTypicalColumnBytes * info->natts));
    sqlite::cache_row_estimate(conn, info->table, rows);
    return rows;
}

/* Collation of a column of a real table (views report none). */
bool binary_collation(Connection& conn, const char* table, const char* column)
{
    const char* coll = nullptr;
    if (sqlite3_table_column_metadata(conn.db, "main", table, column, nullptr, &coll, nullptr, nullptr, nullptr) !=
        SQLITE_OK)
        return false;
    return coll && sqlite3_stricmp(coll, "BINARY") == 0;
}

PushClass push_class(Oid pgtype, Affinity aff, bool binary, OnError on_error)
{
    if (on_error == OnError::Null)
        return PushClass::Never;
    switch (pgtype) {
    case INT2OID:
    case INT4OID:
    case INT8OID:
    case FLOAT8OID:
        return aff == Affinity::Integer || aff == Affinity::Real || aff == Affinity::Numeric ? PushClass::Number
                                                                                             : PushClass::None;
    case TEXTOID:
        return aff == Affinity::Text && binary ? PushClass::Text : PushClass::None;
    default:
        return PushClass::None;
    }
}

}  // namespace

RelInfo* describe_relation(Oid relid)
{
    Oid serverid = pg::call([&] { return GetForeignTable(relid)->serverid; });
    TableOptions topts = table_options(relid);
    Connection& conn = server_connection(serverid);
    Shape shape = describe_sqlite_table(conn, topts.table);

    auto* info = static_cast<RelInfo*>(pg::alloc_zero(sizeof(RelInfo)));
    info->serverid = serverid;
    info->relid = relid;
    info->table = pg::strdup(topts.table);
    std::string key = row_key(conn, topts.table, shape, &info->key_kind);
    info->key_expr = key.empty() ? nullptr : pg::strdup(key.c_str());

    Relation rel = pg::call([&] { return table_open(relid, NoLock); });
    TupleDesc desc = RelationGetDescr(rel);
    info->natts = desc->natts;
    info->cols = static_cast<ColumnInfo*>(pg::alloc_zero(sizeof(ColumnInfo) * (desc->natts + 1)));
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped)
            continue;
        ColumnOptions copts = column_options(relid, att->attnum, NameStr(att->attname));
        OnError on_error = copts.on_error_set ? copts.on_error : topts.on_error;
        const sqlite::ColumnInfo* sc = nullptr;
        for (const auto& c : shape.columns)
            if (iequals(c.name, copts.column_name))
                sc = &c;
        ColumnInfo& ci = info->cols[i];
        ci.sqlite_name = pg::strdup(copts.column_name);
        if (!sc) {
            ci.push = PushClass::None; /* the query will fail at prepare with a clear message */
            continue;
        }
        bool binary = !shape.is_view && binary_collation(conn, topts.table, sc->name.c_str());
        ci.push = push_class(att->atttypid, affinity_of(sc->declared.c_str()), binary, on_error);
        for (const auto& ix : shape.indexed)
            ci.indexed |= iequals(ix, sc->name.c_str());
        if (sc->pk == 1 && info->key_kind == KeyKind::Rowid && affinity_of(sc->declared.c_str()) == Affinity::Integer &&
            iequals(sc->declared, "INTEGER"))
            ci.indexed = true; /* INTEGER PRIMARY KEY: the rowid itself */
    }
    pg::call([&] { table_close(rel, NoLock); });
    info->sqlite_rows = -1;
    return info;
}

namespace {

/* Per-row cost of reading a SQLite row and converting it, in cpu_tuple_cost units. */
constexpr double kSqliteRowCost = 0.005;
constexpr double kStartupCost = 10.0;

void classify_conditions(PlannerInfo* root, RelOptInfo* baserel, RelInfo* info)
{
    pg::call([&] {
        ListCell* lc;
        foreach (lc, baserel->baserestrictinfo) {
            RestrictInfo* ri = static_cast<RestrictInfo*>(lfirst(lc));
            if (is_shippable(root, baserel, info, ri->clause))
                info->remote_conds = lappend(info->remote_conds, ri);
            else
                info->local_conds = lappend(info->local_conds, ri);
        }
        info->all_conds_remote = info->local_conds == NIL;
    });
}

Cost scan_cost(RelInfo* info, double rows_out)
{
    return kStartupCost + info->sqlite_rows * kSqliteRowCost + rows_out * cpu_tuple_cost;
}

void add_sorted_paths(PlannerInfo* root, RelOptInfo* baserel, RelInfo* info, double rows, Cost total)
{
    List* useful = root->query_pathkeys;
    if (useful == NIL)
        return;
    ListCell* lc;
    foreach (lc, useful)
        if (!shippable_sort_expr(root, baserel, info, static_cast<PathKey*>(lfirst(lc))))
            return;
    /* An index on the leading key lets SQLite return rows in order at little cost. */
    Expr* lead = shippable_sort_expr(root, baserel, info, static_cast<PathKey*>(linitial(useful)));
    Var* v = reinterpret_cast<Var*>(lead);
    while (IsA(v, RelabelType))
        v = reinterpret_cast<Var*>(reinterpret_cast<RelabelType*>(v)->arg);
    bool indexed = info->cols[v->varattno - 1].indexed;
    double n = info->sqlite_rows > 2 ? info->sqlite_rows : 2;
    Cost sort = indexed ? n * kSqliteRowCost : 2.0 * cpu_operator_cost * n * std::log2(n);
    add_path(baserel, reinterpret_cast<Path*>(create_foreignscan_path(root, baserel, nullptr, rows,
                                                                      kStartupCost + (indexed ? 0 : sort), total + sort,
                                                                      useful, baserel->lateral_relids, nullptr, NIL)));
}

struct EcCallbackArg {
    Var* column;
};

bool ec_matches_column(PlannerInfo*, RelOptInfo*, EquivalenceClass*, EquivalenceMember* em, void* arg)
{
    Var* col = static_cast<EcCallbackArg*>(arg)->column;
    Expr* e = em->em_expr;
    while (IsA(e, RelabelType))
        e = reinterpret_cast<RelabelType*>(e)->arg;
    if (!IsA(e, Var))
        return false;
    Var* v = reinterpret_cast<Var*>(e);
    return v->varno == col->varno && v->varattno == col->varattno && v->varlevelsup == 0;
}

/*
 * Parameterized paths: a join clause "our_column = outer_expr" that SQLite
 * can evaluate lets the inner side of a nested loop fetch only matching rows
 * (SQLite uses its index when the column has one).
 */
void add_parameterized_paths(PlannerInfo* root, RelOptInfo* baserel, RelInfo* info)
{
    List* clauses = NIL;
    ListCell* lc;
    foreach (lc, baserel->joininfo) {
        RestrictInfo* ri = static_cast<RestrictInfo*>(lfirst(lc));
        if (!join_clause_is_movable_to(ri, baserel))
            continue;
        if (is_shippable(root, baserel, info, ri->clause))
            clauses = lappend(clauses, ri);
    }
    if (baserel->has_eclass_joins) {
        for (int attnum = 1; attnum <= info->natts; attnum++) {
            if (info->cols[attnum - 1].push != PushClass::Number && info->cols[attnum - 1].push != PushClass::Text)
                continue;
            Var* var = makeVar(baserel->relid, attnum, InvalidOid, -1, InvalidOid, 0);
            /* varno/attnum are what the callback compares */
            EcCallbackArg arg{var};
            List* eclauses = generate_implied_equalities_for_column(root, baserel, ec_matches_column, &arg,
                                                                    baserel->lateral_referencers);
            ListCell* ec;
            foreach (ec, eclauses) {
                RestrictInfo* ri = static_cast<RestrictInfo*>(lfirst(ec));
                if (join_clause_is_movable_to(ri, baserel) && is_shippable(root, baserel, info, ri->clause))
                    clauses = lappend(clauses, ri);
            }
        }
    }
    foreach (lc, clauses) {
        RestrictInfo* ri = static_cast<RestrictInfo*>(lfirst(lc));
        Relids outer = bms_difference(ri->clause_relids, baserel->relids);
        if (bms_is_empty(outer))
            continue;
        /* the rel's lateral references are the least it can be parameterized by */
        outer = bms_union(outer, baserel->lateral_relids);
        ParamPathInfo* ppi = get_baserel_parampathinfo(root, baserel, outer);
        double rows = ppi->ppi_rows;
        /* indexed equality: SQLite seeks; otherwise every rescan reads the table */
        bool seek = false;
        Expr* c = ri->clause;
        if (IsA(c, OpExpr)) {
            ListCell* a;
            foreach (a, reinterpret_cast<OpExpr*>(c)->args) {
                Expr* e = static_cast<Expr*>(lfirst(a));
                while (IsA(e, RelabelType))
                    e = reinterpret_cast<RelabelType*>(e)->arg;
                if (IsA(e, Var) && static_cast<Index>(reinterpret_cast<Var*>(e)->varno) == baserel->relid &&
                    reinterpret_cast<Var*>(e)->varattno > 0)
                    seek |= info->cols[reinterpret_cast<Var*>(e)->varattno - 1].indexed;
            }
        }
        double n = info->sqlite_rows > 2 ? info->sqlite_rows : 2;
        Cost total = seek ? kStartupCost + std::log2(n) * cpu_operator_cost + rows * (kSqliteRowCost + cpu_tuple_cost)
                          : scan_cost(info, rows);
        add_path(baserel, reinterpret_cast<Path*>(create_foreignscan_path(root, baserel, nullptr, rows, kStartupCost,
                                                                          total, NIL, outer, nullptr, NIL)));
    }
}

}  // namespace

void get_rel_size(PlannerInfo* root, RelOptInfo* baserel, Oid relid)
{
    /* a snapshot planning takes is released when planning is done (see release_snapshot) */
    bool snapshot_before = sqlite::snapshot_held(baserel->serverid);
    RelInfo* info = describe_relation(relid);
    baserel->fdw_private = info;
    classify_conditions(root, baserel, info);

    Connection& conn = server_connection(info->serverid);
    if (baserel->tuples >= 0 && baserel->pages > 0) {
        info->sqlite_rows = baserel->tuples; /* ANALYZE ran on the foreign table */
    } else {
        info->sqlite_rows = estimate_sqlite_rows(conn, info);
        baserel->tuples = info->sqlite_rows;
    }
    if (!snapshot_before)
        sqlite::release_snapshot(conn);
    pg::call([&] { set_baserel_size_estimates(root, baserel); });
}

void get_paths(PlannerInfo* root, RelOptInfo* baserel)
{
    auto* info = static_cast<RelInfo*>(baserel->fdw_private);
    Cost total = scan_cost(info, baserel->rows);
    pg::call([&] {
        add_path(baserel,
                 reinterpret_cast<Path*>(create_foreignscan_path(root, baserel, nullptr, baserel->rows, kStartupCost,
                                                                 total, NIL, baserel->lateral_relids, nullptr, NIL)));
        add_sorted_paths(root, baserel, info, baserel->rows, total);
        add_parameterized_paths(root, baserel, info);
    });
}

ForeignScan* get_plan(PlannerInfo* root, RelOptInfo* baserel, ForeignPath* best_path, List* tlist, List* scan_clauses,
                      Plan* outer_plan)
{
    auto* info = static_cast<RelInfo*>(baserel->fdw_private);
    return pg::call([&] {
        List* remote = NIL;
        List* local = NIL;
        ListCell* lc;
        foreach (lc, scan_clauses) {
            RestrictInfo* ri = lfirst_node(RestrictInfo, lc);
            if (ri->pseudoconstant)
                continue;
            if (list_member_ptr(info->remote_conds, ri))
                remote = lappend(remote, ri->clause);
            else if (list_member_ptr(info->local_conds, ri))
                local = lappend(local, ri->clause);
            else if (is_shippable(root, baserel, info, ri->clause))
                remote = lappend(remote, ri->clause);
            else
                local = lappend(local, ri->clause);
        }
        /* Columns to fetch: the target list and what local quals read. */
        Bitmapset* attrs = nullptr;
        pull_varattnos(reinterpret_cast<Node*>(baserel->reltarget->exprs), baserel->relid, &attrs);
        pull_varattnos(reinterpret_cast<Node*>(local), baserel->relid, &attrs);
        List* retrieved = NIL;
        List* params = NIL;
        List* refused = NIL;
        char* sql = build_select(root, baserel, info, attrs, remote, best_path->path.pathkeys, -1, 0, &retrieved,
                                 &params, &refused);
        /* a condition the deparser refused is evaluated here instead */
        remote = list_difference_ptr(remote, refused);
        local = list_concat(local, refused);
        bool want_tid = bms_is_member(SelfItemPointerAttributeNumber - FirstLowInvalidHeapAttributeNumber, attrs);
        List* priv = list_make4(makeString(sql), retrieved, makeInteger(static_cast<int>(info->key_kind)),
                                makeInteger(want_tid ? 1 : 0));
        /* remote quals are rechecked locally when EvalPlanQual re-runs a row */
        return make_foreignscan(tlist, local, baserel->relid, params, priv, NIL, remote, outer_plan);
    });
}

void explain_scan(ForeignScanState* node, ExplainState* es)
{
    auto* plan = reinterpret_cast<ForeignScan*>(node->ss.ps.plan);
    const char* sql = strVal(linitial(plan->fdw_private));
    pg::call([&] {
        if (es->verbose)
            ExplainPropertyText("SQLite query", sql, es);
    });
}

}  // namespace recio
