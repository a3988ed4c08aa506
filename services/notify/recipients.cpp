// Who can be told, from the members stream: names, verified addresses and the sites each member
// staffs (member.contact, member.registered / updated, member.erased), and the directory's sites.
// Apart from consumers_depot.cpp: events_members.hpp and exchange/depot.hpp (through
// events_depot.hpp) both name a maillon::MemberStanding, so no file includes the two, and the
// unity build keeps the two files in different batches (cmake/build_speed.cmake).
#include "services/common/directory.hpp"
#include "services/common/events_members.hpp"
#include "services/common/service.hpp"
#include "services/notify/notify_service.hpp"

namespace maillon::notify {
namespace {

void apply_members_event(pqxx::work& tx, const Event& e, int64_t now_s) {
  if (directory::apply(tx, e)) return;
  if (e.type == "member.contact") {
    const MemberContact c = MemberContact::read(e).value();
    const bool newest = repo::upsert_contact(tx, c.member_id, c.community_id, c.email,
                                             c.email_verified, c.display_name, e.occurred_at);
    // What was told before this address was known or verified goes now.
    if (newest && c.email && c.email_verified) release_awaiting_mails(tx, c.member_id, now_s);
  } else if (e.type == "member.registered" || e.type == "member.updated") {
    const MemberIdentity m = MemberIdentity::read(e).value();
    repo::upsert_identity(tx, m.member_id, m.community_id, m.home_site_id, m.display_name,
                          m.staff_site_ids, m.community_admin);
  } else if (e.type == "member.erased") {
    repo::erase_recipient(tx, MemberErased::read(e).value().member_id);
  }
}

}  // namespace

void register_members_consumer(Service& s) {
  s.consume(
      "members",
      [&s](pqxx::work& tx, const Event& e) { apply_members_event(tx, e, s.clock.now_s()); }, {},
      Pace::unhurried);
}

}  // namespace maillon::notify
