// The members service's operations as use cases: a typed input and the caller's identity in, a
// result code and a typed result out. Each runs its rules and repository calls in one transaction;
// no HTTP and no words here (the handlers answer, messages.cpp holds the sentences).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "services/common/auth.hpp"
#include "services/members/attempts.hpp"
#include "services/members/lifecycle_repository.hpp"
#include "services/members/lifecycle_requests.hpp"
#include "services/members/members.hpp"
#include "services/members/repository.hpp"

namespace maillon {
class Service;
}

namespace maillon::members {

// Every way a members operation ends; each refusal has one row in messages.cpp.
enum class MembersCode {
  ok,
  // who is calling
  session_invalid,
  wrong_credentials,
  wrong_password,
  desk_consent_required,
  password_required,
  account_suspended,
  too_many_registrations,
  too_many_login_failures_from_address,
  too_many_login_failures_for_account,
  // communities, sites, profiles, staff
  email_taken,
  unknown_community,
  unknown_site_in_community,
  unknown_site_in_own_community,
  unknown_member,
  admins_only,
  community_admins_only,
  community_not_found,
  site_not_found,
  member_not_found,
  member_not_in_site_community,
  open_loan,
  invalid_community_filter,
  invalid_cursor,
  // moderation
  self_moderation,
  protected_role,
  home_staff_only,
  member_suspended,
  site_community_admins_only,
  network_admins_only,
  member_not_in_community,
  unknown_desk_site,
  site_staff_only,
  too_many_desk_registrations,
  staff_and_admins_only,
  invalid_search,
  community_members_only,
  self_report,
  no_home_site,
  too_many_reports,
  already_reported,
  report_not_found,
  party_to_report,
  report_closed,
  cannot_hide,
  not_a_member_report,
  // accounts (accounts.hpp)
  token_invalid,
  wrong_current_password,
  own_session_only,
  session_not_found,
};
inline constexpr MembersCode kMembersCodeLast = MembersCode::session_not_found;

struct Done {};

// What a use case returns: `value` is meaningful when `code` is ok; a refusal with a limit
// (429) says when to try again.
template <class T>
struct Outcome {
  MembersCode code = MembersCode::ok;
  T value{};
  int retry_after_seconds = 0;
  bool ok() const { return code == MembersCode::ok; }
};

// Laplace prior: a newcomer starts at 0.5 and each exchange moves the figure a little.
double reliability(const repo::MemberRow& member);
// How much work one Argon2id password hash costs (MAILLON_PASSWORD_COST): libsodium's
// interactive limits (t=2, 64 MiB) unless set. `moderate` (t=3, 256 MiB) and `sensitive`
// (t=4, 1 GiB) are stronger; `test` (t=1, 8 KiB) is for test stacks only, which create thousands
// of accounts (the service warns at start). A member's hash made with other limits is made again
// with these at their next login.
enum class PasswordCost { interactive, moderate, sensitive, test };
// Reads MAILLON_PASSWORD_COST (Config::choice: a bad value stops the service at start).
PasswordCost password_cost_setting();

// Argon2id: the one way the members service hashes and checks passwords.
std::string hash_password(const std::string& password, PasswordCost cost);
bool password_matches(const std::string& hash, const std::string& password);
// Whether a stored hash was made with limits other than `cost`'s (never to go down to `test`).
bool password_needs_rehash(const std::string& hash, PasswordCost cost);
// A session's User-Agent as kept for GET /v1/me/sessions (accounts.cpp).
std::string user_agent_label(std::string_view user_agent);
// A site as answered and as announced on the members stream.
nlohmann::json site_json(const repo::SiteRow& site);

// --- inputs and results ---------------------------------------------------------------------

// Who asks to register or log in, as far as the limits care.
struct ClientFacts {
  std::string address;                      // the client's address (auth_headers.hpp)
  std::optional<std::string> bearer_token;  // a bearer token presented, never a cookie
  std::string user_agent;                   // printable ASCII, bounded (user_agent_label)
};

struct NewSession {
  repo::MemberRow member;
  std::string token;
};

struct MemberExport {
  repo::MemberRow member;
  std::string audit_json;
  std::vector<std::pair<std::string, std::optional<std::string>>> service_exports;  // JSON texts
  std::string reports_json;
  int64_t exported_at_s = 0;  // Unix seconds, from the service's clock
};

struct MemberProfile {
  repo::MemberRow member;
  bool shows_contact = false;  // e-mail and number: the member themselves, home staff, an admin
};

struct Page {
  std::string cursor;  // "" for the first page
  int limit = 0;
};
template <class Row>
struct PageOf {
  std::vector<Row> rows;  // at most limit + 1: one more says there is a next page
  int limit = 0;
};

struct StatusAnswer {
  std::string id;
  std::string status;
};

struct DeskMember {
  std::string id;
  long long member_number = 0;
  std::string display_name;
  std::string community_id;
  std::string home_site_id;
  std::optional<std::string> phone;
};

struct SearchInput {
  std::string query;
  Page page;
};

struct CloseReport {
  std::string report_id;
  CloseReportInput input;
  std::string suspension_reason_default;  // the reason recorded when no note says one
};

// --- the use cases ----------------------------------------------------------------------------

class MembersUseCases {
 public:
  explicit MembersUseCases(Service& service);

  // The first administrator, from the configuration (idempotent).
  void ensure_admin(const std::string& display_name);

  Outcome<NewSession> register_member(const RegisterInput& in, const ClientFacts& client);
  Outcome<NewSession> login(const LoginInput& in, const ClientFacts& client);
  // Ends the session of `token`.
  Outcome<Done> logout(const std::string& token);
  Outcome<repo::MemberRow> me(const Identity& who);
  Outcome<repo::MemberRow> update_profile(const Identity& who, const ProfilePatch& patch);
  Outcome<MemberExport> export_member(const Identity& who);
  Outcome<Done> erase(const Identity& who, const ErasureConfirmation& confirmation,
                      const ClientFacts& client);

  // Admission checks that come before reading the body (who may call, then what they sent).
  MembersCode may_create_community(const Identity& who) const;
  MembersCode may_manage_sites(const Identity& who) const;

  Outcome<repo::CommunityRow> create_community(const Identity& who, const CommunityInput& in);
  Outcome<repo::CommunityRow> community(const Identity& who, const std::string& id);
  Outcome<repo::SiteRow> create_site(const Identity& who, const SiteInput& in);
  Outcome<PageOf<repo::SiteRow>> sites(const std::optional<std::string>& community_id,
                                       const Page& page);
  Outcome<repo::SiteRow> site(const std::string& id);
  Outcome<Done> add_staff(const Identity& who, const std::string& site_id,
                          const std::string& member_id);
  Outcome<MemberProfile> member(const Identity& who, const std::string& id);

  // Moderation (usecases_moderation.cpp).
  Outcome<StatusAnswer> approve(const Identity& who, const std::string& id);
  Outcome<StatusAnswer> suspend(const Identity& who, const std::string& id,
                                const std::string& reason);
  Outcome<StatusAnswer> reinstate(const Identity& who, const std::string& id);
  Outcome<Done> remove_staff(const Identity& who, const std::string& site_id,
                             const std::string& member_id);
  Outcome<Done> add_community_admin(const Identity& who, const std::string& community_id,
                                    const std::string& member_id);
  Outcome<Done> remove_community_admin(const Identity& who, const std::string& community_id,
                                       const std::string& member_id);
  Outcome<DeskMember> register_at_desk(const Identity& who, const DeskMemberInput& in);
  MembersCode may_search(const Identity& who) const;
  Outcome<PageOf<lifecycle_repo::MemberSummary>> search(const Identity& who, const SearchInput& in);
  MembersCode may_report(const Identity& who) const;
  Outcome<lifecycle_repo::Report> file_report(const Identity& who, const ReportInput& in);
  Outcome<PageOf<lifecycle_repo::Report>> site_reports(const Identity& who,
                                                       const std::string& site_id,
                                                       const Page& page);
  Outcome<lifecycle_repo::Report> close_report(const Identity& who, const CloseReport& in);

 private:
  Service& s_;
  PasswordCost password_cost_;
  // Failed logins per account and per address, sign-ups per address (Redis, shared).
  Attempts attempts_;

  struct LoginAttempt {
    std::string account_key;
    std::string address_key;
  };
  Outcome<LoginAttempt> begin_login_attempt(const std::string& email, const std::string& address);
  void login_succeeded(const LoginAttempt& attempt);
  Outcome<Done> count_registration(const ClientFacts& client);
  Outcome<Done> confirm_password(const Identity& who, const std::string& password,
                                 const ClientFacts& client);
  // Roles or status changed: every cached view of this member is read anew.
  void forget_member(const std::string& member_id, const std::vector<std::string>& hashes);
  void refresh_sessions(const std::string& member_id);
};

}  // namespace maillon::members
