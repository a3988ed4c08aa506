// The world the permission matrix runs in, built through the gateway: a community with two
// sites, the people of every role, and the fixtures that give each path parameter a real value.
// Fixtures are made when a cell first names them; a name starting with `new_` is made afresh for
// every cell (state-changing calls never disturb the next cell).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "e2e/e2e_gateway.hpp"
#include "harness.hpp"

namespace maillon::testing {

struct Person {
  std::string id;
  std::string token;
  std::string email;
  std::string password;
};

// The caller of one cell and the values its placeholders took.
struct Cell {
  std::string token;   // empty: anonymous
  std::string behalf;  // X-On-Behalf-Of, empty when none
  Person person;       // who the call speaks for (the target when acting for someone)
  std::map<std::string, std::string> fresh;

  Client client(const std::string& base) const {
    Client c(base, token);
    return behalf.empty() ? c : c.acting_for(behalf);
  }
  Headers headers() const {
    Headers h;
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    if (!behalf.empty()) h.emplace_back("X-On-Behalf-Of", behalf);
    return h;
  }
};

class PermissionWorld {
 public:
  explicit PermissionWorld(const Gateway& gateway);

  // A caller of `role` ("anonymous", "member", ...): the shared person, or a new one.
  Cell caller(const std::string& role, bool fresh);
  // `text` with each {placeholder} replaced by its fixture; throws when a fixture cannot be made.
  std::string resolve(const std::string& text, Cell& cell);

  const std::vector<std::string>& notes() const { return notes_; }
  static const std::vector<std::string>& roles();

 private:
  const Gateway& gw_;
  bool suspend_endpoint_ = true;  // until the stack answers 404 to it
  std::string community_, site_, other_site_;
  Person member_, another_, partner_, staff_, staff_other_, suspended_, admin_;
  Person second_staff_;  // made when a grant needs someone other than `staff` to ask for it
  std::map<std::string, std::string> shared_;
  std::map<std::string, std::function<std::string(Cell&)>> recipes_;
  std::vector<std::string> notes_;

  Client as(const Person& p) const { return gw_.as(MemberInfo{p.id, p.token, p.email}); }
  Client admin() const { return gw_.admin(); }

  void define_recipes();
  std::string fixture(const std::string& name, Cell& cell);

  // People.
  Person register_at(const std::string& site, const std::string& name, bool approved = true);
  Person new_staff(const std::string& site, const std::string& name);
  Person new_suspended(const std::string& name);
  Person admin_session();
  void suspend(const Person& p);

  // Fixtures (each returns the new thing's id).
  std::string listing(const std::string& side, const Person& owner, const std::string& title);
  std::string offer_known_to_exchanges(const Person& owner);
  std::string propose(const Person& who, const std::string& offer_id);
  std::string exchange_in(const std::string& state);
  std::string match_for(const std::string& offer_id);
  std::string pending_transfer();
  std::string item(const std::string& mode);
  std::string reserved_item();
  std::string lent_item();
  std::string notification();
  std::string desk_member(const std::string& name);
  std::string suspended_desk_member();
  std::string staff_desk_member();
  std::string community_admin();
  std::string report(const std::string& offer_id);
  std::string grant_awaiting_review();
};

std::string new_uuid_text();

}  // namespace maillon::testing
