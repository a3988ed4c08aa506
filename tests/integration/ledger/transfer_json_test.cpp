// The batch writer's hand-written transfer.* payload is the same JSON document as the one built
// as a tree (Event::to_json), for every state and for texts that need escaping.
#include "services/ledger/transfer_json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "services/common/events.hpp"
#include "services/ledger/ledger_service.hpp"

namespace maillon::testing {
namespace {

TEST(LedgerEventJson, hand_written_payload_equals_the_json_tree) {
  const std::string community = "2b1d6a3e-4f0c-4d8e-9a55-0c6f2d7e8a11";
  const std::vector<std::string> texts = {"", "plain-id-42", "guillemets \" et \\ barre",
                                          std::string("contrôle \x01\x1f\t\n\r fin"),
                                          "échange été · ❤"};
  int compared = 0;
  for (const auto state : {TransferState::pending, TransferState::posted, TransferState::voided,
                           TransferState::expired}) {
    for (const std::string& text : texts) {
      for (const bool from_community : {false, true}) {
        Transfer t;
        t.request.id = text.empty() ? "t" : text;
        t.request.from_account_id = from_community ? ledger::community_account_id(community)
                                                   : "8c3f0a52-1b7e-4c1d-b0e3-3a9d5f6e2c44";
        t.request.to_account_id = "5e9b2c71-6d4a-4f3e-8b1c-7a2e9d0f4b66";
        t.request.amount_minutes = 90;
        t.request.kind = from_community ? TransferKind::bonus : TransferKind::exchange;
        t.request.ref = text;
        t.state = state;
        t.posted_minutes = state == TransferState::posted ? 60 : 0;
        const std::string id = "0b7c4e2a-9f13-4a6d-8e21-5c3b7d9f0a12";
        const std::string at = "2026-11-29T08:00:00.123Z";
        const std::string written = ledger::transfer_event_json(id, community, at, t);
        const std::string tree = ledger::transfer_event(id, community, at, t).to_json();
        EXPECT_EQ(nlohmann::json::parse(written), nlohmann::json::parse(tree)) << written;
        EXPECT_EQ(written, tree);  // same key order and escapes: the same bytes
        EXPECT_EQ(written.find('\n'), std::string::npos);  // one line: rows of many events
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 40);
}

// The batch endpoint answers each transfer with text written by hand: it must be what the JSON
// tree of the single endpoints dumps, for every state, with and without deadlines or resolution,
// and for texts that need escapes.
TEST(LedgerTransferJson, hand_written_answer_equals_the_json_tree) {
  const std::string community = "2b1d6a3e-4f0c-4d8e-9a55-0c6f2d7e8a11";
  const std::vector<std::string> texts = {"", "plain-id-42", "guillemets \" et \\ barre",
                                          std::string("contrôle \x01\x1f\t\n\r fin"),
                                          "échange été · ❤"};
  int compared = 0;
  for (const auto state : {TransferState::pending, TransferState::posted, TransferState::voided,
                           TransferState::expired}) {
    for (const std::string& text : texts) {
      for (const bool hold : {false, true}) {
        Transfer t;
        t.request.id = text.empty() ? "t" : text;
        t.request.from_account_id =
            hold ? "8c3f0a52-1b7e-4c1d-b0e3-3a9d5f6e2c44" : ledger::community_account_id(community);
        t.request.to_account_id = "5e9b2c71-6d4a-4f3e-8b1c-7a2e9d0f4b66";
        t.request.amount_minutes = 90;
        t.request.pending = hold;
        t.request.timeout_s = hold ? 3600 : 0;
        t.request.kind = hold ? TransferKind::exchange : TransferKind::allowance;
        t.request.memo = text;
        t.request.ref = text;
        t.created_at_us = 1'796'000'000'123'456;
        t.state = state;
        t.posted_minutes = state == TransferState::posted ? 60 : 0;
        t.resolved_at_us = state == TransferState::pending ? 0 : t.created_at_us + 7'000'001;
        std::string written = "[";
        ledger::append_transfer_json(written, t);
        written += "]";
        const std::string tree = nlohmann::json::array({ledger::transfer_json(t)}).dump();
        EXPECT_EQ(written, tree);  // same key order and escapes: the same bytes
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 40);
}

}  // namespace
}  // namespace maillon::testing
