/*
 * profile.cpp: recio_migrate.profile(source regclass), one row per column of
 * a recio_sqlite foreign table from the SQLite-side profile
 * (sqlite/value_profile.h).
 */
#include "fdw/connection.h"
#include "sqlite/value_profile.h"

extern "C" {
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

#include "migrate/source.h"
#include "sqlite/value_convert.h"

/* ---- recio_migrate.profile(source regclass) ------------------------------- */

namespace {

using recio::ColumnProfile;

std::string min_max_text(const ColumnProfile& p, bool want_max)
{
    char buf[40];
    /* SQLite's order: numbers before text before blobs */
    if (p.has_int || p.has_real) {
        bool use_int = p.has_int && (!p.has_real || (want_max ? static_cast<double>(p.int_max) >= p.real_max
                                                              : static_cast<double>(p.int_min) <= p.real_min));
        if (use_int)
            snprintf(buf, sizeof buf, "%lld", static_cast<long long>(want_max ? p.int_max : p.int_min));
        else
            recio::format_double(want_max ? p.real_max : p.real_min, buf);
        if (!want_max || !p.has_text)
            return buf;
    }
    return recio::shown((want_max ? p.text_max : p.text_min).c_str());
}

Datum text_array(const std::vector<const char*>& items)
{
    return recio::pg::call([&] {
        Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * (items.size() + 1)));
        for (size_t i = 0; i < items.size(); i++)
            elems[i] = CStringGetTextDatum(items[i]);
        return PointerGetDatum(construct_array(elems, static_cast<int>(items.size()), TEXTOID, -1, false, TYPALIGN_INT));
    });
}

}  // namespace

RECIO_FUNCTION(recio_profile)
{
    using namespace recio;
    Oid relid = PG_GETARG_OID(0);
    SourceTable src = source_table(relid);
    pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    sqlite::Connection& conn = server_connection(src.serverid);
    std::vector<std::string> names;
    std::vector<pg_tz*> zones;
    for (const SourceColumn& c : src.columns) {
        names.push_back(c.sqlite_name);
        zones.push_back(pg_strcasecmp(c.timezone, "UTC") == 0 ? nullptr : lookup_timezone(c.timezone));
    }
    std::vector<ColumnProfile> prof = profile_table(conn, src.table, names, zones);

    constexpr int kCols = 24;
    for (size_t i = 0; i < prof.size(); i++) {
        const ColumnProfile& p = prof[i];
        const SourceColumn& c = src.columns[i];
        Datum values[kCols];
        bool nulls[kCols] = {};
        int64 nonnull = p.rows - p.nulls;
        std::string min_v = nonnull ? min_max_text(p, false) : "";
        std::string max_v = nonnull ? min_max_text(p, true) : "";
        std::vector<const char*> formats = timestamp_formats(p);
        bool naive_tz = p.n_naive > 0 && p.suggested_type == "timestamptz";
        bool utc_now = naive_tz && p.utc_default && pg_strcasecmp(c.timezone, "UTC") == 0;
        std::string reason = p.type_reason;
        if (utc_now)
            reason += "; read as UTC: SQLite writes its DEFAULT " + p.declared_default + " in UTC";
        else if (naive_tz)
            reason += format("; naive local timestamps read as %s (the source's timezone option, UTC when none)", c.timezone);
        NameData column_name; /* a name column is read as NAMEDATALEN bytes: lives until the tuple is stored */
        pg::call([&] {
            namestrcpy(&column_name, c.pg_name);
            values[0] = NameGetDatum(&column_name);
            values[1] = CStringGetTextDatum(p.sqlite_name.c_str());
            values[2] = CStringGetTextDatum(p.declared.c_str());
            values[3] = BoolGetDatum(p.declared_not_null);
            values[4] = Int32GetDatum(p.pk_position);
            values[5] = Int64GetDatum(p.rows);
            values[6] = Int64GetDatum(p.nulls);
            values[7] = Int64GetDatum(p.n_integer);
            values[8] = Int64GetDatum(p.n_real);
            values[9] = Int64GetDatum(p.n_text);
            values[10] = Int64GetDatum(p.n_blob);
            if (nonnull > 0 && p.n_blob < nonnull) {
                values[11] = CStringGetTextDatum(min_v.c_str());
                values[12] = CStringGetTextDatum(max_v.c_str());
            } else {
                nulls[11] = nulls[12] = true;
            }
            values[13] = Int32GetDatum(p.max_decimals);
            nulls[13] = !p.has_real && p.n_numeric_text == 0;
            values[14] = BoolGetDatum(nonnull > 0 && p.n_timestamp == nonnull);
            nulls[14] = p.n_text == 0;
            values[15] = PointerGetDatum(nullptr);
            nulls[15] = formats.empty();
            values[16] = CStringGetTextDatum(p.n_integer > 0 && p.n_epoch_s == p.n_integer   ? "s"
                                             : p.n_integer > 0 && p.n_epoch_ms == p.n_integer ? "ms"
                                                                                             : "");
            nulls[16] = !(p.n_integer > 0 && (p.n_epoch_s == p.n_integer || p.n_epoch_ms == p.n_integer));
            values[17] = BoolGetDatum(nonnull > 0 && p.n_json_like == nonnull && p.n_json_invalid == 0);
            nulls[17] = p.n_text == 0;
            values[18] = CStringGetTextDatum(p.suggested_type.c_str());
            values[19] = Int64GetDatum(p.nonconforming);
            values[20] = CStringGetTextDatum(naive_tz ? c.timezone : "");
            nulls[20] = !naive_tz;
            values[21] = CStringGetTextDatum(p.observed_type.c_str());
            nulls[21] = p.observed_type.empty();
            values[22] = CStringGetTextDatum(p.legacy_format.c_str());
            nulls[22] = p.legacy_format.empty();
            values[23] = CStringGetTextDatum(reason.c_str());
        });
        if (!nulls[15])
            values[15] = text_array(formats);
        pg::call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
    }
    return Datum(0);
}
