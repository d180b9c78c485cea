/*
 * read_as.cpp: one SQLite SELECT of the wanted columns, read by a RowReader
 * whose converters are planned for the caller's types (see read_as.h).
 */
#include "fdw/read_as.h"

extern "C" {
#include "utils/rel.h"
}

#include <string>

#include "sqlite/sql_text.h"

namespace recio {

RowReader* read_as_open(Relation rel, const ReadAsColumn* cols, int ncols, MemoryContext parent)
{
    Oid relid = RelationGetRelid(rel);
    TupleDesc desc = RelationGetDescr(rel);
    std::string sql = "SELECT ";
    List* retrieved = NIL;
    for (int i = 0; i < ncols; i++) {
        Form_pg_attribute a = TupleDescAttr(desc, cols[i].attnum - 1);
        ColumnOptions copts = column_options(relid, cols[i].attnum, NameStr(a->attname));
        if (i > 0)
            sql += ", ";
        sql += sqlite::quote_ident(copts.column_name);
        AttrNumber att = cols[i].attnum;
        retrieved = pg::call([&] { return lappend_int(retrieved, att); });
    }
    sql += " FROM ";
    sql += sqlite::quote_ident(table_options(relid).table);
    ColumnType* as = static_cast<ColumnType*>(pg::alloc_zero(sizeof(ColumnType) * static_cast<Size>(ncols + 1)));
    for (int i = 0; i < ncols; i++)
        as[i] = cols[i].type;
    return reader_open(rel, sql.c_str(), retrieved, KeyKind::None, parent, as);
}

}  // namespace recio
