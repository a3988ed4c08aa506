// SQL of the exchange service. Unqualified names: the connection's search_path is `exchange`.
// The workflow state is one JSON document per exchange; the columns beside it are copies that
// lists, the desk and the expiry job filter on, written in the same statement as the document.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "services/common/db.hpp"
#include "services/common/directory.hpp"
#include "services/common/ids.hpp"
#include "services/exchange/exchange_service.hpp"
#include "services/exchange/repository_sql.hpp"

namespace maillon::exchange::repo {
namespace {

std::optional<std::string> opt_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

ExchangeRecord record_from(const pqxx::row& row) {
  ExchangeRecord r;
  r.community_id = row[1].as<std::string>();
  r.offer_id = opt_text(row[2]);
  r.request_id = opt_text(row[3]);
  r.match_id = opt_text(row[4]);
  r.scheduled_at = opt_text(row[5]);
  r.message = opt_text(row[6]);
  r.updated_at = row[7].as<std::string>();
  r.seq = row[8].as<int64_t>();
  r.exchange = exchange_from_document(Json::parse(row[9].c_str()));
  r.partner_community_id = opt_text(row[10]);
  r.partner_url = opt_text(row[11]);
  r.mirror = row[12].as<bool>();
  r.mirror_version = row[13].is_null() ? 0 : row[13].as<int64_t>();
  r.stored_policy = ExchangeRecord::StoredPolicy{opt_text(row[14])};
  return r;
}

std::vector<ExchangeRecord> records_from(const pqxx::result& result) {
  std::vector<ExchangeRecord> records;
  records.reserve(result.size());
  for (const auto& row : result) records.push_back(record_from(row));
  return records;
}

std::optional<std::string> opt(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

// 0 stands for "no date" in the domain.
std::optional<int64_t> opt_seconds(int64_t seconds) {
  if (seconds == 0) return std::nullopt;
  return seconds;
}

std::vector<std::string> ids_from(const pqxx::result& result) {
  std::vector<std::string> ids;
  for (const auto& row : result) ids.push_back(row[0].as<std::string>());
  return ids;
}

}  // namespace

void insert_exchange(pqxx::work& tx, const ExchangeRecord& r) {
  const Exchange& ex = r.exchange;
  exec_cached(tx, kInsertExchange, ex.id, r.community_id, std::string(to_string(ex.state)),
              ex.provider_id, ex.receiver_id, opt(ex.site_id), r.offer_id, r.request_id, r.match_id,
              r.scheduled_at, r.message, ex.proposed_at_s, exchange_document(ex).dump(),
              std::string(to_string(ex.mode)), opt_seconds(ex.starts_at_s),
              opt_seconds(ex.due_at_s), r.partner_community_id, r.partner_url);
}

bool upsert_mirror(pqxx::work& tx, const ExchangeRecord& r) {
  const Exchange& ex = r.exchange;
  return !exec_cached(tx, kUpsertMirror, ex.id, r.community_id, std::string(to_string(ex.state)),
                      ex.provider_id, ex.receiver_id, r.offer_id, r.request_id, r.match_id,
                      r.scheduled_at, r.message, ex.proposed_at_s, exchange_document(ex).dump(),
                      std::string(to_string(ex.mode)), opt_seconds(ex.starts_at_s),
                      opt_seconds(ex.due_at_s), r.partner_community_id, r.partner_url,
                      r.mirror_version)
              .empty();
}

void save_exchange(pqxx::work& tx, ExchangeRecord& r) {
  auto result =
      exec_cached(tx, kSaveExchange, r.exchange.id, std::string(to_string(r.exchange.state)),
                  exchange_document(r.exchange).dump(), opt_seconds(r.exchange.due_at_s));
  if (result.affected_rows() != 1)
    throw std::runtime_error("saving an exchange that is not stored");
  r.updated_at = result[0][0].as<std::string>();
}

std::optional<ExchangeRecord> find_exchange(pqxx::transaction_base& tx, const std::string& id,
                                            bool lock) {
  auto result = exec_cached(
      tx, std::string(kExchangeColumns) + (lock ? kFindExchangeLocked : kFindExchange), id);
  if (result.empty()) return std::nullopt;
  return record_from(result[0]);
}

std::vector<ExchangeRecord> list_exchanges(pqxx::transaction_base& tx, const ListFilter& f) {
  return records_from(exec_cached(tx, std::string(kExchangeColumns) + kListExchanges, f.member_id,
                                  f.state, f.role, f.before_seq, f.limit));
}

std::vector<ExchangeRecord> desk_due_today(pqxx::work& tx, const std::string& site_id) {
  return records_from(
      exec_cached(tx, std::string(kExchangeColumns) + kDeskDueToday, site_id, kDeskSectionMax));
}

std::vector<ExchangeRecord> desk_disputed(pqxx::work& tx, const std::string& site_id) {
  return records_from(
      exec_cached(tx, std::string(kExchangeColumns) + kDeskDisputed, site_id, kDeskSectionMax));
}

std::vector<ExchangeRecord> desk_overdue(pqxx::work& tx, const std::string& site_id,
                                         int64_t now_s) {
  return records_from(exec_cached(tx, std::string(kExchangeColumns) + kDeskOverdue, site_id,
                                  kDeskSectionMax, now_s, kCompletingUnansweredS));
}

std::vector<std::string> open_exchange_ids_of_member(pqxx::work& tx, const std::string& member_id,
                                                     int limit) {
  std::vector<std::string> ids;
  for (const auto& row : exec_cached(tx, kOpenExchangesOfMember, member_id, limit)) {
    ids.push_back(row[0].as<std::string>());
  }
  return ids;
}

std::vector<std::string> open_mirror_ids_of_member(pqxx::work& tx, const std::string& member_id,
                                                   int limit) {
  std::vector<std::string> ids;
  for (const auto& row : exec_cached(tx, kOpenMirrorsOfMember, member_id, limit))
    ids.push_back(row[0].as<std::string>());
  return ids;
}

std::vector<std::string> late_loan_ids(pqxx::work& tx, int limit, int64_t now_s) {
  return ids_from(exec_cached(tx, kLateLoans, limit, now_s));
}

bool has_late_loan(pqxx::work& tx, const std::string& member_id) {
  return exec_cached(tx, kHasLateLoan, member_id)[0][0].as<bool>();
}

void record_depot_late_loan(pqxx::work& tx, const std::string& item_id,
                            const std::string& member_id, const std::string& due_at) {
  exec_cached(tx, kRecordDepotLate, item_id, member_id, due_at);
}

void forget_depot_late_loan(pqxx::work& tx, const std::string& item_id) {
  exec_cached(tx, kForgetDepotLate, item_id);
}

bool book(pqxx::work& tx, const std::string& exchange_id, const std::string& offer_id,
          const std::string& member_id, int64_t from_s, int64_t to_s) {
  // A savepoint: the refusal leaves the caller's transaction usable for its answer.
  try {
    pqxx::subtransaction sub(tx, "booking");
    exec_cached(sub, kBook, exchange_id, offer_id, member_id, from_s, to_s);
    sub.commit();
    return true;
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "23P01") return false;  // exclusion_violation: the dates are taken
    throw;
  }
}

void release_booking(pqxx::work& tx, const std::string& exchange_id) {
  exec_cached(tx, kReleaseBooking, exchange_id);
}

std::vector<BusyRange> busy_ranges(pqxx::work& tx, const std::string& offer_id, int64_t from_s,
                                   int64_t to_s, int limit) {
  std::vector<BusyRange> ranges;
  for (const auto& row : exec_cached(tx, kBusyRanges, offer_id, from_s, to_s, limit)) {
    ranges.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                      row[3].as<std::string>()});
  }
  return ranges;
}

int64_t running_exchanges_on(pqxx::work& tx, const std::string& offer_id,
                             const std::string& except_id) {
  // Two accepts on one offer count one after the other: the offer's row is their lock. Under
  // READ COMMITTED the count, a statement after the lock, sees what the other accept committed.
  exec_cached(tx, kLockListing, offer_id);
  return exec_cached(tx, kRunningOnOffer, offer_id, except_id)[0][0].as<int64_t>();
}

int64_t running_exchanges_seen(pqxx::work& tx, const std::string& offer_id) {
  return exec_cached(tx, kRunningOnOffer, offer_id, std::optional<std::string>())[0][0]
      .as<int64_t>();
}

std::vector<ExchangeRecord> calendar_exchanges(pqxx::work& tx, const std::string& member_id,
                                               int limit) {
  return records_from(
      exec_cached(tx, std::string(kExchangeColumns) + kCalendarExchanges, member_id, limit));
}

std::string calendar_token(pqxx::work& tx, const std::string& member_id, bool renew) {
  return exec_cached(tx, kCalendarToken, member_id, new_token(), renew)[0][0].as<std::string>();
}

std::optional<std::string> calendar_member(pqxx::work& tx, const std::string& token) {
  auto result = exec_cached(tx, kCalendarMember, token);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<std::string>();
}

void revoke_calendar_token(pqxx::work& tx, const std::string& member_id) {
  exec_cached(tx, kRevokeCalendar, member_id);
}

void mark_member_erased(pqxx::work& tx, const std::string& member_id) {
  exec_cached(tx, kMarkMemberErased, member_id);
}

std::vector<std::string> expirable_exchange_ids(pqxx::work& tx, int limit, int64_t now_s) {
  std::vector<std::string> ids;
  for (const auto& row :
       exec_cached(tx, kExpirable, limit, CommunityPolicy{}.proposal_days, now_s)) {
    ids.push_back(row[0].as<std::string>());
  }
  return ids;
}

// The directory's, with the documented defaults for a community not heard of yet.
CommunityPolicy community_policy(pqxx::transaction_base& tx, const std::string& community_id) {
  return directory::policy_of(tx, community_id).value_or(CommunityPolicy{});
}

CommunityPolicy community_policy(pqxx::transaction_base& tx, const ExchangeRecord& record) {
  if (!record.stored_policy) return community_policy(tx, record.community_id);
  if (!record.stored_policy->text) return CommunityPolicy{};
  return directory::stored_policy(*record.stored_policy->text);
}

std::optional<std::string> home_site_in(pqxx::work& tx, const std::string& member_id,
                                        const std::string& community_id) {
  auto result = exec_cached(tx, kHomeSiteIn, member_id, community_id);
  if (result.empty()) return std::nullopt;
  return opt_text(result[0][0]);
}

std::optional<std::string> site_community(pqxx::work& tx, const std::string& site_id) {
  auto site = directory::site(tx, site_id);
  if (!site) return std::nullopt;
  return site->community_id;
}

void upsert_listing(pqxx::work& tx, const ListingCopy& l) {
  exec_cached(tx, kUpsertListing, l.id, l.side, l.member_id, l.community_id, l.site_id,
              l.price_minutes, l.status, l.mode, l.deposit_minutes, l.capacity, l.revision,
              l.visibility);
}

void close_listing(pqxx::work& tx, const std::string& id, std::optional<int64_t> revision) {
  exec_cached(tx, kCloseListing, id, revision);
}

std::optional<ListingCopy> find_listing(pqxx::work& tx, const std::string& id) {
  auto result = exec_cached(tx, kFindListing, id);
  if (result.empty()) return std::nullopt;
  const auto& row = result[0];
  ListingCopy l{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                row[3].as<std::string>(), opt_text(row[4]),         row[5].as<int64_t>(),
                row[6].as<std::string>()};
  l.mode = opt_text(row[7]);
  l.deposit_minutes = row[8].as<int64_t>();
  if (!row[9].is_null()) l.capacity = row[9].as<int64_t>();
  l.visibility = row[10].as<std::string>();
  return l;
}

void upsert_match(pqxx::work& tx, const std::string& id, const std::string& offer_id,
                  const std::string& request_id) {
  exec_cached(tx, kUpsertMatch, id, offer_id, request_id);
}

std::optional<std::pair<std::string, std::string>> find_match(pqxx::work& tx,
                                                              const std::string& id) {
  auto result = exec_cached(tx, kFindMatch, id);
  if (result.empty()) return std::nullopt;
  return std::make_pair(result[0][0].as<std::string>(), result[0][1].as<std::string>());
}

void record_transfer(pqxx::work& tx, const std::string& transfer_id, const std::string& exchange_id,
                     const std::string& state, std::optional<int64_t> minutes,
                     const std::optional<std::string>& reason) {
  exec_cached(tx, kRecordTransfer, transfer_id, exchange_id, state, minutes, reason);
}

std::optional<FederationHeadroom> federation_headroom(pqxx::work& tx, const std::string& from,
                                                      const std::string& to) {
  // In a savepoint: a ledger of an older release (no function) is no link, not an aborted
  // transaction.
  try {
    pqxx::subtransaction sub(tx, "federation_headroom");
    const auto r = exec_cached(sub, kFederationHeadroom, from, to);
    sub.commit();
    if (r.empty()) return std::nullopt;
    return FederationHeadroom{r[0][0].as<std::string>(),
                              r[0][1].is_null() ? 0 : r[0][1].as<int64_t>()};
  } catch (const pqxx::sql_error&) {
    return std::nullopt;
  }
}

bool outbox_has(pqxx::work& tx, const std::string& event_id) {
  return !exec_cached(tx, kOutboxHas, event_id).empty();
}

Json insert_message(pqxx::work& tx, const std::string& exchange_id, const std::string& author_id,
                    const std::string& acting_staff_id, const std::string& body) {
  auto row = exec_cached(tx, kInsertMessage, exchange_id, author_id, opt(acting_staff_id), body)[0];
  return {{"id", row[0].as<std::string>()},
          {"exchange_id", exchange_id},
          {"author_id", author_id},
          {"acting_staff_id", acting_staff_id.empty() ? Json(nullptr) : Json(acting_staff_id)},
          {"author_name", nullptr},
          {"body", body},
          {"created_at", row[2].as<std::string>()}};
}

std::vector<Json> list_messages(pqxx::work& tx, const std::string& exchange_id,
                                std::optional<int64_t> after_seq, int limit) {
  std::vector<Json> items;
  for (const auto& row : exec_cached(tx, kListMessages, exchange_id, after_seq, limit)) {
    items.push_back(
        {{"id", row[0].as<std::string>()},
         {"seq", row[1].as<int64_t>()},
         {"exchange_id", exchange_id},
         {"author_id", row[2].as<std::string>()},
         {"acting_staff_id", row[3].is_null() ? Json(nullptr) : Json(row[3].as<std::string>())},
         // Only an erased author's name is known here: the others' come from their profiles.
         {"author_name", row[6].as<bool>() ? Json(kErasedMemberName) : Json(nullptr)},
         {"body", row[4].as<std::string>()},
         {"created_at", row[5].as<std::string>()}});
  }
  return items;
}

int64_t exchanges_holding(pqxx::work& tx, std::vector<std::string> listing_ids,
                          const std::string& except_id) {
  std::sort(listing_ids.begin(), listing_ids.end());
  for (const std::string& id : listing_ids) exec_cached(tx, kLockListing, id);
  // READ COMMITTED: each count, a statement after the locks, sees what the other accept committed.
  int64_t holding = 0;
  for (const std::string& id : listing_ids) {
    holding += exec_cached(tx, kHoldingListing, id, except_id)[0][0].as<int64_t>();
  }
  return holding;
}

bool has_rated(pqxx::work& tx, const std::string& exchange_id, const std::string& rater_id) {
  return !exec_cached(tx, kHasRated, exchange_id, rater_id).empty();
}

std::optional<Json> insert_rating(pqxx::work& tx, const std::string& exchange_id,
                                  const std::string& rater_id, const std::string& rated_id,
                                  int32_t stars, const std::string& comment,
                                  const std::string& acting_staff_id) {
  auto result = exec_cached(tx, kInsertRating, exchange_id, rater_id, rated_id, stars, comment,
                            opt(acting_staff_id));
  if (result.empty()) return std::nullopt;
  return Json{{"exchange_id", exchange_id}, {"rater_id", rater_id},
              {"rated_id", rated_id},       {"stars", stars},
              {"comment", comment},         {"created_at", result[0][0].as<std::string>()}};
}

}  // namespace maillon::exchange::repo
