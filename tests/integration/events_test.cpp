// Delivery guarantees of the runtime on real PostgreSQL and Redis: the outbox publishes iff the
// transaction committed, consumers apply each event once, poison goes to the dead-letter stream.
#include "services/common/events.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <thread>

#include "harness.hpp"
#include "services/common/db.hpp"
#include "services/common/ids.hpp"
#include "services/common/metrics.hpp"
#include "services/common/outbox_written.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config.service_name = "it-" + unique_suffix();
    config.schema = "it";
    config.database_url = database_url_;
    config.redis_url = redis_url();
    config.stream_prefix = "ev" + unique_suffix();
    config.schemas_dir = "/nonexistent";
    config.consumer.reclaim_idle_ms = 300;
    config.consumer.max_deliveries = 3;
    config.consumer.block_ms = 50;
    config.consumer.name = config.service_name + "-a";
    db = std::make_unique<Db>(config.database_url, 4, config.schema);
    migrate(*db, config.schemas_dir);
    db->transact([](pqxx::work& tx) {
      tx.exec(
          "CREATE TABLE IF NOT EXISTS effects (event_id uuid PRIMARY KEY, applied integer NOT "
          "NULL)");
      tx.exec("TRUNCATE effects; TRUNCATE outbox; TRUNCATE applied_events");
    });
  }
  static void SetUpTestSuite() { database_url_ = create_database("events"); }

  int publish(const std::string& type, int n) {
    Outbox outbox(config.stream_prefix);
    for (int i = 0; i < n; ++i) {
      db->transact([&](pqxx::work& tx) { outbox.add(tx, "things", type, "", Json{{"i", i}}); });
    }
    return n;
  }
  long long count(const std::string& sql) {
    return db->transact([&](pqxx::work& tx) { return tx.exec(sql)[0][0].as<long long>(); });
  }
  long long stream_length(const std::string& stream) {
    Redis redis(config.redis_url);
    return redis.command({"XLEN", config.stream(stream)})->integer;
  }
  EventHandler recording_handler() {
    return [](pqxx::work& tx, const Event& e) {
      if (e.type == "poison") throw std::runtime_error("this message always fails");
      tx.exec_params(
          "INSERT INTO effects (event_id, applied) VALUES ($1, 1) "
          "ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1",
          e.id);
    };
  }

  static std::string database_url_;
  Config config;
  Metrics metrics;
  std::unique_ptr<Db> db;
};
std::string EventsTest::database_url_;

TEST_F(EventsTest, only_a_transaction_that_wrote_events_tells_the_commit_hook_to_poke_the_relay) {
  // The Service's commit hook pokes its relay only when take_outbox_written() says so: a job's
  // or a read model's commit has nothing to publish.
  Outbox outbox(config.stream_prefix);
  take_outbox_written();
  db->transact([](pqxx::work& tx) { tx.exec("SELECT 1"); });
  EXPECT_FALSE(take_outbox_written());
  db->transact([&](pqxx::work& tx) { outbox.add(tx, "things", "thing.done", "", Json{{"i", 1}}); });
  bool seen_elsewhere = true;
  std::thread([&] { seen_elsewhere = take_outbox_written(); }).join();
  EXPECT_FALSE(seen_elsewhere) << "another thread's commit would poke for this one's events";
  EXPECT_TRUE(take_outbox_written());
  EXPECT_FALSE(take_outbox_written()) << "told once";
  db->transact([&](pqxx::work& tx) {
    outbox.add_written(tx, "things", {Outbox::Written{new_uuid(), "{}", ""}});
  });
  EXPECT_TRUE(take_outbox_written());
}

TEST_F(EventsTest, a_rolled_back_transaction_publishes_nothing) {
  Outbox outbox(config.stream_prefix);
  try {
    db->transact([&](pqxx::work& tx) {
      outbox.add(tx, "things", "thing.made", "", Json::object());
      throw std::runtime_error("the use case failed after writing its event");
    });
  } catch (const std::runtime_error&) {
  }
  OutboxRelay relay(config, *db, metrics);
  Redis redis(config.redis_url);
  EXPECT_EQ(relay.publish_batch(redis), 0);
  EXPECT_EQ(stream_length("things"), 0);
}

TEST_F(EventsTest, committed_events_left_by_a_dead_process_are_published_once_after_restart) {
  publish("thing.made", 5);  // committed, and no relay ran: as if the process died right after
  {
    OutboxRelay relay(config, *db, metrics);
    relay.start();
    ASSERT_TRUE(eventually(
        [&] { return count("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0; }));
    relay.stop();
  }
  OutboxRelay again(config, *db, metrics);  // the next start publishes nothing twice
  again.start();
  ASSERT_TRUE(eventually([&] { return again.passes() >= 3; }));  // several passes, nothing new
  again.stop();
  EXPECT_EQ(stream_length("things"), 5);
}

TEST_F(EventsTest, a_redelivered_event_changes_nothing) {
  publish("thing.made", 1);
  Redis redis(config.redis_url);
  OutboxRelay relay(config, *db, metrics);
  relay.publish_batch(redis);
  // The same envelope a second time on the stream, as after a relay crash between XADD and commit.
  auto first = redis.command({"XRANGE", config.stream("things"), "-", "+"});
  std::string payload = reply_string(first->element[0]->element[1]->element[1]);
  redis.command({"XADD", config.stream("things"), "*", "event", payload});
  StreamConsumer consumer(config, *db, metrics, "things", recording_handler());
  for (int i = 0; i < 3; ++i) consumer.poll_once(redis, 10);
  EXPECT_EQ(count("SELECT count(*) FROM effects"), 1);
  EXPECT_EQ(count("SELECT max(applied) FROM effects"), 1);
}

TEST_F(EventsTest, a_consumer_killed_before_xack_has_its_message_applied_once_by_the_reaper) {
  publish("thing.made", 4);
  Redis redis(config.redis_url);
  OutboxRelay relay(config, *db, metrics);
  relay.publish_batch(redis);
  // A consumer that read two messages, applied one, and died before acknowledging either.
  redis.command(
      {"XGROUP", "CREATE", config.stream("things"), config.service_name, "0", "MKSTREAM"});
  auto taken = redis.command({"XREADGROUP", "GROUP", config.service_name, "dead-consumer", "COUNT",
                              "2", "STREAMS", config.stream("things"), ">"});
  ASSERT_EQ(taken->element[0]->element[1]->elements, 2u);
  auto applied =
      Event::parse(reply_string(taken->element[0]->element[1]->element[0]->element[1]->element[1]));
  db->transact([&](pqxx::work& tx) {
    tx.exec_params("INSERT INTO applied_events (consumer, event_id) VALUES ($1, $2)",
                   config.service_name, applied->id);
    recording_handler()(tx, *applied);
  });
  StreamConsumer survivor(config, *db, metrics, "things", recording_handler());
  survivor.start();
  ASSERT_TRUE(eventually([&] { return count("SELECT count(*) FROM effects") == 4; }, 10000));
  ASSERT_TRUE(eventually(
      [&] {
        auto pending = redis.command({"XPENDING", config.stream("things"), config.service_name});
        return pending->element[0]->integer == 0;
      },
      10000));
  survivor.stop();
  EXPECT_EQ(count("SELECT max(applied) FROM effects"), 1);
}

TEST_F(EventsTest, a_page_of_events_is_applied_in_one_transaction_and_once) {
  publish("thing.made", 20);
  Redis redis(config.redis_url);
  OutboxRelay relay(config, *db, metrics);
  ASSERT_EQ(relay.publish_batch(redis), 20);
  StreamConsumer consumer(config, *db, metrics, "things", recording_handler());
  // The first passes create the group and look for entries of dead consumers.
  auto read_page = [&] {
    int handled = 0;
    for (int pass = 0; pass < 5 && handled == 0; ++pass) handled = consumer.poll_once(redis, 100);
    return handled;
  };
  ASSERT_EQ(read_page(), 20);
  EXPECT_EQ(count("SELECT count(*) FROM effects"), 20);
  // Rows written by one transaction carry its id: one commit for the page.
  EXPECT_EQ(count("SELECT count(DISTINCT xmin::text) FROM effects"), 1);
  // The same entries again (as after a crash before XACK): nothing moves twice.
  ASSERT_EQ(
      redis.command({"XGROUP", "SETID", config.stream("things"), config.service_name, "0"})->type,
      REDIS_REPLY_STATUS);
  ASSERT_EQ(read_page(), 20);
  EXPECT_EQ(count("SELECT max(applied) FROM effects"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM applied_events"), 20);
}

// A page is recorded as applied by one statement, not one per event (#22): each new event is
// applied once, one applied before (a redelivery) is not, nor a second copy of one inside the page,
// whatever the case of the copy's id.
TEST_F(EventsTest, a_page_is_recorded_as_applied_by_one_statement_and_each_event_applied_once) {
  publish("thing.made", 5);
  Redis redis(config.redis_url);
  OutboxRelay relay(config, *db, metrics);
  ASSERT_EQ(relay.publish_batch(redis), 5);
  auto entries = redis.command({"XRANGE", config.stream("things"), "-", "+"});
  ASSERT_EQ(entries->elements, 5u);
  const auto payload_of = [&](std::size_t i) {
    return reply_string(entries->element[i]->element[1]->element[1]);
  };
  // The first was applied already (its entry delivered again), the third comes twice, its copy
  // naming it in upper case.
  const auto first = Event::parse(payload_of(0));
  db->transact([&](pqxx::work& tx) {
    tx.exec_params("INSERT INTO applied_events (consumer, event_id) VALUES ($1, $2)",
                   config.service_name, first->id);
  });
  auto copy = Event::parse(payload_of(2));
  std::transform(copy->id.begin(), copy->id.end(), copy->id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  redis.command({"XADD", config.stream("things"), "*", "event", copy->to_json()});
  StreamConsumer consumer(config, *db, metrics, "things", recording_handler());
  int handled = 0;
  for (int pass = 0; pass < 5 && handled == 0; ++pass) handled = consumer.poll_once(redis, 100);
  ASSERT_EQ(handled, 6);
  EXPECT_EQ(count("SELECT count(*) FROM effects"), 4);
  EXPECT_EQ(count("SELECT max(applied) FROM effects"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM applied_events"), 5);
  // The four recorded with the page: one transaction, and one command in it.
  const std::string page = "FROM applied_events WHERE event_id <> '" + first->id + "'";
  EXPECT_EQ(count("SELECT count(DISTINCT xmin::text) " + page), 1);
  EXPECT_EQ(count("SELECT count(DISTINCT cmin::text) " + page), 1);
}

TEST_F(EventsTest, an_unhurried_consumer_applies_what_arrives_while_it_lingers_as_one_page) {
  // Long enough that the five entries below, each its own relay pass, all land inside it.
  config.consumer.linger_ms = 1000;
  Redis redis(config.redis_url);
  OutboxRelay relay(config, *db, metrics);
  StreamConsumer consumer(config, *db, metrics, "things", recording_handler(), {}, Pace::unhurried);
  consumer.start();
  // After a quiet spell, the first event is read by the blocking read itself: at once.
  publish("thing.made", 1);
  ASSERT_EQ(relay.publish_batch(redis), 1);
  ASSERT_TRUE(eventually([&] { return count("SELECT count(*) FROM effects") == 1; }, 10000));
  // The consumer now lets the stream fill: five entries, one by one, wait for it together.
  for (int i = 0; i < 5; ++i) {
    publish("thing.made", 1);
    ASSERT_EQ(relay.publish_batch(redis), 1);
  }
  ASSERT_TRUE(eventually([&] { return count("SELECT count(*) FROM effects") == 6; }, 10000));
  consumer.stop();
  // One transaction (one commit) for the five, and the first in its own.
  EXPECT_EQ(count("SELECT count(DISTINCT xmin::text) FROM effects"), 2);
  EXPECT_EQ(count("SELECT max(applied) FROM effects"), 1);
  auto pending = redis.command({"XPENDING", config.stream("things"), config.service_name});
  EXPECT_EQ(pending->element[0]->integer, 0) << "every entry acknowledged";
}

TEST_F(EventsTest, declared_types_the_handler_does_not_act_on_are_acknowledged_without_a_commit) {
  publish("transfer.posted", 3);          // declared, and not this consumer's business
  publish("federation.link.updated", 1);  // declared, and what it acts on
  publish("thing.made", 1);               // declared by nobody: the handler must see it
  Redis redis(config.redis_url);
  OutboxRelay relay(config, *db, metrics);
  ASSERT_EQ(relay.publish_batch(redis), 5);
  StreamConsumer consumer(config, *db, metrics, "things", recording_handler(),
                          {"federation.link.updated"});
  int handled = 0;
  for (int pass = 0; pass < 5 && handled == 0; ++pass) handled = consumer.poll_once(redis, 100);
  ASSERT_EQ(handled, 5);
  EXPECT_EQ(count("SELECT count(*) FROM effects"), 2);
  // Nothing recorded for the three transfers: no transaction was opened for them.
  EXPECT_EQ(count("SELECT count(*) FROM applied_events"), 2);
  auto pending = redis.command({"XPENDING", config.stream("things"), config.service_name});
  EXPECT_EQ(pending->element[0]->integer, 0) << "every entry acknowledged, passed over or not";
  EXPECT_NE(metrics.render().find("maillon_events_passed_over_total"), std::string::npos);
}

TEST_F(EventsTest, a_row_of_several_events_is_published_as_one_entry_each_in_order) {
  // What a batch writer stores (Outbox::kEventsPerRowMax): one event per line.
  std::vector<std::string> ids;
  std::string lines;
  for (int i = 0; i < 3; ++i) {
    Event e;
    e.id = new_uuid();
    e.type = "thing.made";
    e.occurred_at = "2026-11-29T08:00:00Z";
    e.data = Json{{"i", i}, {"text", "ligne\nsuivante"}};  // an escaped line break stays inside
    ids.push_back(e.id);
    lines += (i ? "\n" : "") + e.to_json();
  }
  db->transact([&](pqxx::work& tx) {
    tx.exec_params("INSERT INTO outbox (event_id, stream, payload) VALUES ($1, $2, $3)", ids[0],
                   config.stream("things"), lines);
  });
  Redis redis(config.redis_url);
  OutboxRelay relay(config, *db, metrics);
  ASSERT_EQ(relay.publish_batch(redis), 1);
  auto entries = redis.command({"XRANGE", config.stream("things"), "-", "+"});
  ASSERT_EQ(entries->elements, 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    auto event = Event::parse(reply_string(entries->element[i]->element[1]->element[1]));
    ASSERT_TRUE(event);
    EXPECT_EQ(event->id, ids[i]);
    EXPECT_EQ(event->data["i"], int(i));
    EXPECT_EQ(event->data["text"], "ligne\nsuivante");
  }
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0);
}

TEST_F(EventsTest, a_pass_publishes_whole_rows_up_to_its_event_bound_and_the_rest_next) {
  // Three rows of 4,096 events: a pass takes rows until 8,192 events, never half a row.
  const std::size_t per_row = Outbox::kEventsPerRowMax;
  for (int row = 0; row < 3; ++row) {
    std::string lines, first_id;
    for (std::size_t i = 0; i < per_row; ++i) {
      Event e;
      e.id = new_uuid();
      if (i == 0) first_id = e.id;
      e.type = "thing.made";
      e.occurred_at = "2026-11-29T08:00:00Z";
      e.data = Json{{"row", row}, {"i", i}};
      lines += (i ? "\n" : "") + e.to_json();
    }
    db->transact([&](pqxx::work& tx) {
      tx.exec_params("INSERT INTO outbox (event_id, stream, payload) VALUES ($1, $2, $3)", first_id,
                     config.stream("things"), lines);
    });
  }
  Redis redis(config.redis_url);
  OutboxRelay relay(config, *db, metrics);
  EXPECT_EQ(relay.publish_batch(redis), 2);
  EXPECT_EQ(stream_length("things"), static_cast<long long>(2 * per_row));
  EXPECT_EQ(relay.publish_batch(redis), 1);
  EXPECT_EQ(stream_length("things"), static_cast<long long>(3 * per_row));
  EXPECT_EQ(relay.publish_batch(redis), 0);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0);
}

// A pass opens and closes its transaction with its own statements (two round trips): one that
// fails between them (Redis refuses the XADD) must leave no transaction open on a pooled
// connection, no row marked, and the next pass publishes every row once.
TEST_F(EventsTest, a_pass_that_fails_midway_leaves_its_rows_unpublished_and_no_transaction_open) {
  publish("thing.made", 3);
  Redis redis(config.redis_url);
  // A plain string where the stream should be: XADD answers WRONGTYPE.
  redis.command({"SET", config.stream("things"), "pas un flux"});
  OutboxRelay relay(config, *db, metrics);
  EXPECT_THROW(relay.publish_batch(redis), RedisError);
  {
    // Seen from outside the pool (whose next BEGIN would commit a transaction left open): no
    // session of this database idles inside one, holding the rows' locks.
    pqxx::connection outside(database_url_);
    pqxx::nontransaction tx(outside);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND state LIKE 'idle in transaction%'")[0][0]
                  .as<int>(),
              0);
  }
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 3);
  redis.command({"DEL", config.stream("things")});
  EXPECT_EQ(relay.publish_batch(redis), 3);
  EXPECT_EQ(stream_length("things"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0);
  EXPECT_EQ(relay.publish_batch(redis), 0);
}

TEST_F(EventsTest, a_message_that_always_fails_goes_to_the_dead_letter_stream_while_others_flow) {
  publish("thing.made", 2);
  publish("poison", 1);
  publish("thing.made", 2);
  OutboxRelay relay(config, *db, metrics);
  relay.start();
  StreamConsumer consumer(config, *db, metrics, "things", recording_handler());
  consumer.start();
  ASSERT_TRUE(eventually([&] { return count("SELECT count(*) FROM effects") == 4; }, 10000));
  ASSERT_TRUE(eventually([&] { return stream_length("things.dead") == 1; }, 15000));
  consumer.stop();
  relay.stop();
  // The page of five failed together, then went one by one: the good four moved once each.
  EXPECT_EQ(count("SELECT max(applied) FROM effects"), 1);
  Redis redis(config.redis_url);
  auto dead = redis.command({"XRANGE", config.stream("things.dead"), "-", "+"});
  auto event = Event::parse(reply_string(dead->element[0]->element[1]->element[1]));
  ASSERT_TRUE(event);
  EXPECT_EQ(event->type, "poison");
  auto pending = redis.command({"XPENDING", config.stream("things"), config.service_name});
  EXPECT_EQ(pending->element[0]->integer, 0);
}

TEST_F(EventsTest, redis_flushed_mid_run_the_outbox_republishes_and_consumers_converge) {
  OutboxRelay relay(config, *db, metrics);
  relay.start();
  StreamConsumer consumer(config, *db, metrics, "things", recording_handler());
  consumer.start();
  publish("thing.made", 10);
  ASSERT_TRUE(eventually([&] { return count("SELECT count(*) FROM effects") == 10; }, 10000));
  {
    Redis redis(config.redis_url);
    // Only this test's keys: other suites share the server.
    for (const char* key : {"things", "relay-epoch:it"})
      redis.command({"DEL", config.stream_prefix + ":" + key});
  }
  publish("thing.made", 10);
  ASSERT_TRUE(eventually([&] { return count("SELECT count(*) FROM effects") == 20; }, 15000));
  // Everything the outbox still holds is republished once the relay sees its marker gone.
  EXPECT_TRUE(eventually([&] { return stream_length("things") >= 20; }, 5000));
  consumer.stop();
  relay.stop();
  EXPECT_EQ(count("SELECT max(applied) FROM effects"), 1);
}

TEST_F(EventsTest, trimming_never_drops_unacknowledged_entries) {
  config.relay.stream_max_length = 5;
  publish("thing.made", 12);
  Redis redis(config.redis_url);
  redis.command(
      {"XGROUP", "CREATE", config.stream("things"), config.service_name, "0", "MKSTREAM"});
  OutboxRelay relay(config, *db, metrics);
  relay.publish_batch(redis);
  // Read 8 entries, acknowledge only the first 6: entries 7 and 8 are pending, 9..12 unread.
  auto taken = redis.command({"XREADGROUP", "GROUP", config.service_name, "c", "COUNT", "8",
                              "STREAMS", config.stream("things"), ">"});
  const auto* entries = taken->element[0]->element[1];
  for (std::size_t i = 0; i < 6; ++i) {
    redis.command({"XACK", config.stream("things"), config.service_name,
                   reply_string(entries->element[i]->element[0])});
  }
  // The relay's marker is present: Redis did not lose its data, nothing is republished.
  redis.command({"SET", config.stream_prefix + ":relay-epoch:it", "set"});
  relay.start();  // its first pass trims
  ASSERT_TRUE(eventually([&] { return relay.passes() >= 1; }));
  relay.stop();
  EXPECT_EQ(stream_length("things"), 6);  // the 2 pending and the 4 unread are kept
}

}  // namespace
}  // namespace maillon::testing
