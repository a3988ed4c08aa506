// The federation partners: one read model of each community's links as the ledger announces them
// (federation.link.updated on ledger.events), kept in each reading service's own schema
// (schemas/shared/federation_partners.sql, linked from offers, requests and matching), as the
// directory is. Search and matching ask here which communities' listings may cross to a reader.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace maillon {

struct Event;

namespace federation_partners {

// Applies federation.link.updated (true); any other type changes nothing (false). An event that
// cannot be read throws BadEvent (dead-lettered with the reason). An event older than the one
// that last described the side changes nothing (replicas may apply them out of order).
bool apply(pqxx::transaction_base& tx, const Event& e);

// The communities of this installation whose listings may cross to `community_id`: both sides
// of their link are active. Sorted.
std::vector<std::string> active_partners(pqxx::transaction_base& tx,
                                         const std::string& community_id);
// Whether `a` and `b` are linked by an active link (both sides active).
bool linked(pqxx::transaction_base& tx, const std::string& a, const std::string& b);
// Every community's active partners at once: what an in-memory read model reloads (the table
// holds a row per side of a link, a few per community).
std::unordered_map<std::string, std::vector<std::string>> all_active(pqxx::transaction_base& tx);

}  // namespace federation_partners
}  // namespace maillon
