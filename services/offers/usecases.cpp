// Use cases of a listing service: publish, search, read, change and close a listing. Each one
// transaction; refusals are codes, thrown inside the transaction (so that it rolls back) and
// returned at the use case's edge.
#include "services/offers/usecases.hpp"

#include "services/common/auth.hpp"
#include "services/common/federation_partners.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/media_photos.hpp"
#include "services/common/service.hpp"
#include "services/offers/create_batch.hpp"
#include "services/offers/depot_items.hpp"

namespace maillon::listings {
namespace {

struct Refusal {
  ListingCode code;
  FieldErrors errors = {};
  std::string status = {};
};

[[noreturn]] void refuse(ListingCode code) {
  throw Refusal{code};
}

// Runs `f` (which returns the result's value) and turns a Refusal into the outcome it stands for.
template <class F>
auto settle(F&& f) -> ListingOutcome<std::invoke_result_t<F&>> {
  try {
    return {{ListingCode::ok, f()}, {}, {}};
  } catch (Refusal& refusal) {
    return {{refusal.code, {}}, std::move(refusal.errors), std::move(refusal.status)};
  }
}

// A suspended member's sessions are revoked with the suspension; should one survive, or a staff
// member act for them, the identity still says so.
bool suspended(const Identity& who) {
  return who.status == "suspended";
}

// The listing the caller may see, locked when it is about to change; not found otherwise, so a
// member of another community learns nothing, not even that the id exists.
ListingRow visible(pqxx::transaction_base& tx, const Identity& who, const std::string& id,
                   bool lock) {
  if (!is_uuid(id)) refuse(ListingCode::listing_not_found);
  auto row = find_listing(tx, id, lock);
  // A partner installation's listing is read here, never changed here (it lives there).
  if (!row || (lock && row->partner_url)) refuse(ListingCode::listing_not_found);
  if (row->listing.community_id != who.community_id) {
    // A linked community's listing that crosses may be read (never changed: lock is for edits).
    // Its reach is judged by the searches that find it; the id alone names no point to judge.
    const Listing& l = row->listing;
    const bool crosses = !lock && crosses_communities(l.visibility) &&
                         l.status == ListingStatus::active && !row->hidden() &&
                         federation_partners::linked(tx, who.community_id, l.community_id);
    if (!crosses) refuse(ListingCode::listing_not_found);
  }
  // Hidden (owner suspended, or moderated): only those who may edit it know it exists.
  if (row->hidden() && !can_edit(who, *row)) refuse(ListingCode::listing_not_found);
  return *row;
}

ListingRow editable(pqxx::work& tx, const Identity& who, const std::string& id) {
  ListingRow row = visible(tx, who, id, true);
  if (is_depot_listing(row.listing)) refuse(ListingCode::depot_listing);
  // Refused rather than not found: the caller reads this listing anyway (a hidden one was not
  // found above).
  if (!can_edit(who, row)) refuse(ListingCode::not_editor);
  return row;
}

// The handover point (place() in context.hpp), when the listing's site is of this community.
void place_in(pqxx::work& tx, ListingRow& row, const std::string& community_id) {
  if (!place(tx, row, community_id)) refuse(ListingCode::unknown_site);
}

void require_valid(FieldErrors errors) {
  if (!errors.empty()) throw Refusal{ListingCode::invalid_fields, std::move(errors)};
}

}  // namespace

ListingUseCases::ListingUseCases(std::shared_ptr<const ListingContext> context)
    : c_(std::move(context)) {}

ListingCode ListingUseCases::may_write(const Identity& who) const {
  return suspended(who) ? ListingCode::member_suspended : ListingCode::ok;
}

ListingOutcome<ListingRow> ListingUseCases::create(const Identity& who, const ListingDraft& draft) {
  return settle([&] {
    int64_t now_s = c_->now_s();
    require_valid(validate_new_listing(draft, c_->tree, now_s));
    if (who.community_id.empty()) refuse(ListingCode::not_community_member);
    if (suspended(who)) refuse(ListingCode::member_suspended);
    ListingRow row;
    row.listing = create_listing(
        draft, {new_uuid(), c_->config.side, who.member_id, who.community_id}, now_s);
    row.home_site_id = who.home_site_id;
    row.acted_by = acted_by(who, row);
    handover_and_photos(row, who.community_id);
    // Written with the creations of other requests in one transaction (create_batch.hpp): the
    // owner's standing is read there, under the lock its suspension takes; answered once
    // committed and searchable here.
    auto stored = c_->creator->create(*c_, std::move(row));
    if (!stored) refuse(ListingCode::member_suspended);
    return std::move(*stored);
  });
}

// The handover point, from the directory when the listing names a site, and the photos, the
// member's own uploads (POST /v1/photos) checked where they are stored: read before the listing's
// transaction, as reads that nothing here locks. A listing without a site has a location.
void ListingUseCases::handover_and_photos(ListingRow& row, const std::string& community_id) {
  if (!row.listing.site_id && row.listing.photos.empty()) {
    if (!place_at_location(row)) refuse(ListingCode::unknown_site);
    return;
  }
  c_->service.db.transact([&](pqxx::work& tx) {
    require_valid(photos_not_owned(tx, row.listing.member_id, row.listing.photos));
    place_in(tx, row, community_id);
  });
}

ListingOutcome<SearchPage> ListingUseCases::search(ListQuery query) {
  // The linked communities whose listings may cross to this reader (issue 23).
  query.partner_community_ids = c_->index->partners_of(query.community_id);
  // From memory when the read model holds what is asked, else one PostgreSQL query.
  auto hits = c_->index->search(query);
  if (!hits) {
    hits.emplace();
    auto rows = read_only(c_->service.db,
                          [&](pqxx::transaction_base& tx) { return list_listings(tx, query); });
    for (auto& row : rows) {
      std::optional<double> distance = row.distance_m;
      hits->push_back(
          {std::make_shared<const ListingRow>(std::move(row)), nullptr, nullptr, distance});
    }
  }
  return {{ListingCode::ok, {std::move(*hits), query.limit - 1}}, {}, {}};
}

ListingOutcome<SeenListing> ListingUseCases::get(const Identity& who, const std::string& id) {
  return settle([&] {
    ListingRow row = read_only(
        c_->service.db, [&](pqxx::transaction_base& tx) { return visible(tx, who, id, false); });
    const bool editor = can_edit(who, row);
    return SeenListing{std::move(row), editor};
  });
}

ListingOutcome<ListingRow> ListingUseCases::patch(const Identity& who, const std::string& id,
                                                  const ListingPatch& patch) {
  if (auto code = may_write(who); code != ListingCode::ok) return {{code, {}}, {}, {}};
  auto out = settle([&] {
    return c_->service.db.transact([&](pqxx::work& tx) {
      ListingRow row = editable(tx, who, id);
      int64_t now_s = c_->now_s();
      require_valid(validate_patch(row.listing, patch, c_->tree, now_s));
      ListingTransitionResult status = patch_transition(row.listing, patch);
      if (status.outcome == ListingTransitionOutcome::rejected) {
        throw Refusal{ListingCode::status_conflict, {}, std::string(to_string(row.listing.status))};
      }
      ListingRow next = row;
      next.listing = apply_patch(row.listing, patch, now_s);
      next.acted_by = acted_by(who, row);
      // New photos are the owner's uploads; those the listing already had stay.
      if (patch.photos && *patch.photos != row.listing.photos) {
        require_valid(photos_not_owned(tx, row.listing.member_id, *patch.photos));
      }
      place_in(tx, next, row.listing.community_id);
      ListingRow updated = update_listing(tx, next);
      c_->publish(tx, updated, "updated");
      return updated;
    });
  });
  if (out.ok()) c_->written();
  return out;
}

ListingOutcome<Done> ListingUseCases::close(const Identity& who, const std::string& id) {
  auto out = settle([&] {
    c_->service.db.transact([&](pqxx::work& tx) {
      ListingRow row = editable(tx, who, id);
      bool owner = who.member_id == row.listing.member_id;
      auto result = transition(row.listing.status,
                               owner ? ListingEvent::owner_close : ListingEvent::staff_close);
      if (result.outcome == ListingTransitionOutcome::rejected) refuse(ListingCode::reserved);
      if (result.outcome == ListingTransitionOutcome::unchanged) return;
      ListingRow next = row;
      next.listing.status = result.status;
      next.acted_by = acted_by(who, row);
      c_->publish_closed(tx, update_listing(tx, next), "closed");
    });
    return Done{};
  });
  if (out.ok()) c_->written();
  return out;
}

}  // namespace maillon::listings
