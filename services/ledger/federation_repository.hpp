// The federation's SQL (schemas/ledger/006_federation.sql): link rows, clearing accounts, the
// legs through a clearing account, and the locks that keep two communities' ledgers in step.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "services/ledger/federation.hpp"

namespace maillon::ledger::federation::repo {

std::optional<Link> select_link(pqxx::work& tx, const std::string& link_id,
                                const std::string& community_id);
std::optional<Link> select_link_between(pqxx::work& tx, const std::string& community_id,
                                        const std::string& partner_community_id);
std::vector<Link> select_link_sides(pqxx::work& tx, const std::string& link_id);
// A community's links, oldest first, at most `limit`.
std::vector<Link> select_links_of(pqxx::work& tx, const std::string& community_id, int limit);
std::size_t count_links_of(pqxx::work& tx, const std::string& community_id);
// False when the id or the (community, partner) pair is taken.
bool insert_link(pqxx::work& tx, const Link& side);
std::optional<Link> update_link_state(pqxx::work& tx, const std::string& link_id,
                                      const std::string& community_id, const std::string& state,
                                      std::optional<ClearingLimits> limits);
// Writes the side's suspension flags, `accepted`, sequence numbers and the state they give.
std::optional<Link> update_link_suspension(pqxx::work& tx, const Link& side);
// SELECT .. FOR UPDATE of every row of the link, in community order.
void lock_link(pqxx::work& tx, const std::string& link_id);
void update_partner_key(pqxx::work& tx, const std::string& link_id, const std::string& community_id,
                        const std::string& key_bytes);
// Opens the clearing account of `community_id` for `partner` when missing.
void open_clearing_account(pqxx::work& tx, const std::string& community_id,
                           const std::string& partner_community_id);
std::optional<Account> clearing_account(pqxx::work& tx, const std::string& community_id,
                                        const std::string& partner_community_id);
// Every leg through the clearing account (at most kClearingLegsMax + 1: the caller tells a cut).
std::vector<ClearingLeg> clearing_legs(pqxx::work& tx, const std::string& community_id,
                                       const std::string& partner_community_id);
// The community's name in the directory ("" when unknown) and whether the community is known.
std::optional<std::string> community_name(pqxx::work& tx, const std::string& community_id);
// The writer locks of these communities (repository.cpp's key), taken in id order so that two
// transactions locking the same pair never wait for each other in a circle.
void lock_communities(pqxx::work& tx, std::vector<std::string> community_ids);
// Of these (community, transfer) pairs, the legs through a clearing account: (partner, id).
std::vector<std::pair<std::string, TransferId>> mirror_legs_of(pqxx::work& tx,
                                                               const std::string& community_id,
                                                               const std::vector<TransferId>& ids);

}  // namespace maillon::ledger::federation::repo
