// The exchange service: the workflow of exchange/exchange_flow.hpp behind HTTP, its saga over the
// ledger (commands on ledger.commands, results from ledger.events), messages, ratings and the
// desk (the inbox is the notify service's).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "exchange/exchange_flow.hpp"
#include "exchange/policy.hpp"
#include "services/common/time.hpp"

namespace maillon {
class ApiError;
class Service;
struct Identity;
}  // namespace maillon

namespace maillon::exchange {

using Json = nlohmann::json;

inline constexpr int64_t kMessageCodePointsMax = 2000;
inline constexpr int kExpiryBatchMax = 200;  // per run; the next run takes the rest
inline constexpr int kDeskSectionMax = 100;  // rows per desk section
// A confirmed exchange whose posting the ledger has not answered after this long is overdue.
inline constexpr int64_t kCompletingUnansweredS = 15 * 60;
inline constexpr int kMemberExchangesBatchMax = 200;
inline constexpr int kCalendarRangesMax = 500;  // busy ranges per calendar answer
inline constexpr int kCalendarEventsMax = 500;  // exchanges in a member's feed
inline constexpr int64_t kCalendarSpanMaxS =
    400 * 86400;  // ?from= to ?to= at most  // open exchanges cancelled per statement
// What exchange.cancelled names in `cancelled_by` when nobody chose to cancel (a party left).
inline constexpr std::string_view kCancelledBySystem = "system";
// How messages show an erased member's name to the others.
inline constexpr std::string_view kErasedMemberName = "ancien membre";

// An exchange as stored: the domain state plus what only the service knows.
struct ExchangeRecord {
  Exchange exchange;
  std::string community_id;
  std::optional<std::string> offer_id;
  std::optional<std::string> request_id;
  std::optional<std::string> match_id;
  std::optional<std::string> scheduled_at;  // RFC 3339
  std::optional<std::string> message;
  std::string updated_at;
  int64_t seq = 0;
  // Across communities (issue 23): `community_id` is the community of the listing proposed on
  // (its policy applies), this the proposer's when it is another one; nullopt inside one.
  std::optional<std::string> partner_community_id;
  // With a member of a partner installation (schemas/exchange/070_partner_exchanges.sql): that
  // installation, where the exchange lives (`mirror`: a mirror kept here) or where the other
  // party is; the mirror's version, the newest state received.
  std::optional<std::string> partner_url;
  bool mirror = false;
  int64_t mirror_version = 0;
  // The community's policy as the directory held it when the row was read, in the same statement
  // (nullopt text: not heard of yet); unset for a record not read from the table. Read it with
  // repo::community_policy(tx, record).
  struct StoredPolicy {
    std::optional<std::string> text;
  };
  std::optional<StoredPolicy> stored_policy;
};

// A listing copied from the offers and requests streams.
struct ListingCopy {
  std::string id;
  std::string side;  // "offer" or "request"
  std::string member_id;
  std::string community_id;
  std::optional<std::string> site_id;
  int64_t price_minutes = 0;
  std::string status;
  std::optional<std::string> mode;  // give, lend, swap, service (offers)
  int64_t deposit_minutes = 0;      // lend: held from the borrower while the object is out
  std::optional<int64_t> capacity;  // service: concurrent exchanges at most
  // The listing's revision this copy holds (schemas/exchange/007_listing_revision.sql).
  std::optional<int64_t> revision;
  // community, federation or public (schemas/exchange/042_federation.sql): only the last two
  // may be proposed on from a linked community.
  std::string visibility = "community";
  // A partner installation's listing (offers.partner_listing_copy): where it lives.
  std::optional<std::string> partner_url;
};

// A busy range of an offer's calendar (RFC 3339).
struct BusyRange {
  std::string exchange_id;
  std::string from, to;
  std::string state;
};

// --- exchange_json.cpp: one (de)serialisation per form.
Json exchange_document(const Exchange& exchange);  // what the doc column holds
Exchange exchange_from_document(const Json& doc);
Json exchange_api_json(const ExchangeRecord& record, const CommunityPolicy& policy);
// The data of every exchange.* event: the exchange's parties, listings and amount.
Json exchange_event_data(const ExchangeRecord& record);

// --- repository.cpp: the service's SQL.
namespace repo {
void insert_exchange(pqxx::work& tx, const ExchangeRecord& record);
// A mirror written at its newer version; false when nothing was written (an older or equal
// version, or an id that is not that installation's mirror).
bool upsert_mirror(pqxx::work& tx, const ExchangeRecord& record);
void save_exchange(pqxx::work& tx, ExchangeRecord& record);
std::optional<ExchangeRecord> find_exchange(pqxx::transaction_base& tx, const std::string& id,
                                            bool lock);
struct ListFilter {
  std::string member_id;
  std::optional<std::string> state;
  std::optional<std::string> role;  // provider | receiver
  std::optional<int64_t> before_seq;
  int limit = 20;
};
std::vector<ExchangeRecord> list_exchanges(pqxx::transaction_base& tx, const ListFilter& filter);
std::vector<ExchangeRecord> desk_due_today(pqxx::work& tx, const std::string& site_id);
std::vector<ExchangeRecord> desk_disputed(pqxx::work& tx, const std::string& site_id);
std::vector<ExchangeRecord> desk_overdue(pqxx::work& tx, const std::string& site_id, int64_t now_s);
// Proposals older than their community's proposal_days at `now_s` (the service's clock, not the
// database's), locked, skipping locked ones.
std::vector<std::string> expirable_exchange_ids(pqxx::work& tx, int limit, int64_t now_s);
// The member's exchanges not yet handed over (proposed, accepting, accepted), oldest first, locked.
std::vector<std::string> open_exchange_ids_of_member(pqxx::work& tx, const std::string& member_id,
                                                     int limit);
// The member's mirrors of exchanges living at a partner installation, not handed over yet.
std::vector<std::string> open_mirror_ids_of_member(pqxx::work& tx, const std::string& member_id,
                                                   int limit);
// Loans handed over whose due date has passed at `now_s`, locked, skipping locked ones.
std::vector<std::string> late_loan_ids(pqxx::work& tx, int limit, int64_t now_s);
// Whether the member has a late loan, member to member or at the depot.
bool has_late_loan(pqxx::work& tx, const std::string& member_id);
void record_depot_late_loan(pqxx::work& tx, const std::string& item_id,
                            const std::string& member_id, const std::string& due_at);
void forget_depot_late_loan(pqxx::work& tx, const std::string& item_id);
// Books the exchange's dates for its offer; false when they overlap an active booking (the
// exclusion constraint refused them; the transaction is still usable).
bool book(pqxx::work& tx, const std::string& exchange_id, const std::string& offer_id,
          const std::string& member_id, int64_t from_s, int64_t to_s);
void release_booking(pqxx::work& tx, const std::string& exchange_id);
std::vector<BusyRange> busy_ranges(pqxx::work& tx, const std::string& offer_id, int64_t from_s,
                                   int64_t to_s, int limit);
// Exchanges on an offer that hold one of its places (accepted and not ended), counted under
// the offer's row lock: what an accept decides on.
int64_t running_exchanges_on(pqxx::work& tx, const std::string& offer_id,
                             const std::string& except_id);
// The same count without the lock: a proposal's early answer only (the accept decides).
int64_t running_exchanges_seen(pqxx::work& tx, const std::string& offer_id);
// Exchanges other than `except_id` that hold one of these listings (give or swap: accepting to
// disputed, as the offer or a swap's given listing), counted under the listings' row locks taken
// in id order: two accepts of one object decide one after the other, and never deadlock.
int64_t exchanges_holding(pqxx::work& tx, std::vector<std::string> listing_ids,
                          const std::string& except_id);
// The member's exchanges for the calendar feed (dated ones first), at most `limit`.
std::vector<ExchangeRecord> calendar_exchanges(pqxx::work& tx, const std::string& member_id,
                                               int limit);
std::string calendar_token(pqxx::work& tx, const std::string& member_id, bool renew);
std::optional<std::string> calendar_member(pqxx::work& tx, const std::string& token);
void revoke_calendar_token(pqxx::work& tx, const std::string& member_id);

// Messages show this member's name as kErasedMemberName from now on.
void mark_member_erased(pqxx::work& tx, const std::string& member_id);

// From the directory (services/common/directory.hpp).
CommunityPolicy community_policy(pqxx::transaction_base& tx, const std::string& community_id);
// The exchange's community's policy: the one read with the record, or read now.
CommunityPolicy community_policy(pqxx::transaction_base& tx, const ExchangeRecord& record);
std::optional<std::string> site_community(pqxx::work& tx, const std::string& site_id);
// A member's home site when they have one in `community_id` (members.member_identity).
std::optional<std::string> home_site_in(pqxx::work& tx, const std::string& member_id,
                                        const std::string& community_id);
void upsert_listing(pqxx::work& tx, const ListingCopy& listing);
void close_listing(pqxx::work& tx, const std::string& id, std::optional<int64_t> revision);
std::optional<ListingCopy> find_listing(pqxx::work& tx, const std::string& id);
void upsert_match(pqxx::work& tx, const std::string& id, const std::string& offer_id,
                  const std::string& request_id);
std::optional<std::pair<std::string, std::string>> find_match(pqxx::work& tx,
                                                              const std::string& id);
void record_transfer(pqxx::work& tx, const std::string& transfer_id, const std::string& exchange_id,
                     const std::string& state, std::optional<int64_t> minutes,
                     const std::optional<std::string>& reason);
bool outbox_has(pqxx::work& tx, const std::string& event_id);
// The federation link from the payer's community to the payee's as the ledger publishes it
// (ledger.federation_headroom, schemas/ledger/006_federation.sql): its state and how many more of
// the payer's minutes may cross now. nullopt: no link (or a ledger without the function).
struct FederationHeadroom {
  std::string state;  // proposed, active, suspended
  int64_t headroom_minutes = 0;
};
std::optional<FederationHeadroom> federation_headroom(pqxx::work& tx, const std::string& from,
                                                      const std::string& to);

Json insert_message(pqxx::work& tx, const std::string& exchange_id, const std::string& author_id,
                    const std::string& acting_staff_id, const std::string& body);
std::vector<Json> list_messages(pqxx::work& tx, const std::string& exchange_id,
                                std::optional<int64_t> after_seq, int limit);
bool has_rated(pqxx::work& tx, const std::string& exchange_id, const std::string& rater_id);
std::optional<Json> insert_rating(pqxx::work& tx, const std::string& exchange_id,
                                  const std::string& rater_id, const std::string& rated_id,
                                  int32_t stars, const std::string& comment,
                                  const std::string& acting_staff_id);

}  // namespace repo

// --- workflow.cpp: use cases shared by the routes, the consumers and the job.

class Workflow {
 public:
  explicit Workflow(Service& service) : s_(service) {}
  // Unix seconds of the service's clock (moved by tests through MAILLON_CLOCK_OFFSET_FILE).
  int64_t now_s() const;
  // Stores the record's new state and sends what the transition asks for, in `tx`.
  void commit_transition(pqxx::work& tx, ExchangeRecord& record, const ExchangeResult& result,
                         const std::string& event_type);
  void publish(pqxx::work& tx, const ExchangeRecord& record, const std::string& type,
               const Json& extra = Json::object());
  // Ledger results; ignores transfers that are not an exchange's.
  void on_ledger_event(pqxx::work& tx, const std::string& type, const Json& data);
  void expire_due(pqxx::work& tx);
  // Loans past their due date become late (exchange.late).
  void mark_late_due(pqxx::work& tx);
  // Cancels every exchange of the member not yet handed over (the system acts; `reason`, e.g.
  // "member-suspended", is kept in each exchange); holds are voided.
  void cancel_exchanges_of(pqxx::work& tx, const std::string& member_id, std::string_view reason);

 private:
  Service& s_;
  void send_effect(pqxx::work& tx, const ExchangeRecord& record, const ExchangeEffect& effect,
                   const std::string& trigger);
  void on_deposit_answer(pqxx::work& tx, ExchangeRecord& record, const std::string& type,
                         const Json& data, const std::string& transfer_id);
};

// The communities an exchange's transfers leave and reach: every transfer of an exchange goes
// from its receiver to its provider (the payment, a loan's cost and deposit). Equal inside one
// community; across (issue 23) the proposer's is the record's partner_community_id.
struct PaymentCommunities {
  std::string payer, payee;
};
PaymentCommunities payment_communities(const ExchangeRecord& record);

// The event type a transition publishes (state before → after), empty for none.
std::string transition_event_type(ExchangeState from, ExchangeState to);

void register_routes(Service& service, const std::shared_ptr<Workflow>& workflow);
void register_consumers(Service& service, const std::shared_ptr<Workflow>& workflow);
void register_service(Service& service);

}  // namespace maillon::exchange
