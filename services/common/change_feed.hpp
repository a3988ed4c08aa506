// The change feed of a read model that replicas keep in memory (the listing services' search
// index, the matching index): every write stamps its row with the id of its transaction
// (schemas/shared/listings_change_feed.sql), and a reader that remembers the oldest transaction
// still running when it last read (its position) finds every row committed since by
// `written_by_xact >= position`, whatever the order of commits (rows are never deleted).
#pragma once

namespace maillon::change_feed {

// A feed read is one statement: "SELECT <columns>, " + kNextPosition + kListingsSince, with the
// last position as $1. The snapshot that reads the rows is the one whose position comes back,
// and the LEFT JOIN answers one row of NULLs when nothing changed, so it still comes back.
inline constexpr const char* kNextPosition = "s.next_xact::text AS next_xact";
// The upper bound keeps nothing out (every row this snapshot sees was written below its xmax) but
// makes the condition a range, which the planner estimates as narrow without statistics: a table
// never analysed yet (freshly filled, autovacuum not come by) was otherwise read whole at every
// feed read instead of through listings_by_xact.
inline constexpr const char* kListingsSince =
    " FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS next_xact) s "
    "LEFT JOIN listings ON written_by_xact >= $1::xid8 "
    "AND written_by_xact < pg_snapshot_xmax(pg_current_snapshot())";
// Where a reader starts: read before the rows it loads, so nothing committed after is missed.
inline constexpr const char* kPosition = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text";

}  // namespace maillon::change_feed
