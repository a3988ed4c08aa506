// The change feed of a read model that replicas keep in memory (the listing services' search
// index, the matching index): every write stamps its row with the id of its transaction
// (schemas/shared/listings_change_feed.sql), and a reader that remembers the oldest transaction
// still running when it last read (its position) finds every row committed since by
// `written_by_xact >= position`, whatever the order of commits (rows are never deleted).
#pragma once

// The statements, maillon::change_feed::kNextPosition, kListingsSince and kPosition, are in
// change_feed.sql (inline constants of the generated header, shared by the listing services and
// matching).
#include "services/common/change_feed_sql.hpp"
