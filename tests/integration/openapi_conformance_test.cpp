// Real answers of the members service checked against schemas/openapi.yaml: the status must be one
// the operation documents, the content type one it lists, and the body must match its schema.
// The YAML is bundled to JSON by Redocly (see openapi_contract.hpp). The harness holds every
// exchange of every test to the same contract (expect_contract); its own checks are tested last.
#include <gtest/gtest.h>

#include "harness.hpp"
#include "json_schema.hpp"
#include "openapi_contract.hpp"

namespace maillon::testing {
namespace {

using Contract = OpenApiContract;

std::string joined(const std::vector<std::string>& violations) {
  std::string out;
  for (const auto& v : violations) out += "\n  " + v;
  return out;
}

class OpenApiConformanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      contract = new Contract(load_openapi());
    } catch (const std::exception& e) {
      load_error = e.what();
      return;
    }
    world = new MembersWorld("openapi");
    community = world->create_community("Pévèle Carembault");
    site = world->create_site(community, "Tiers-lieu de Templeuve", 50.5286, 3.1756, "tiers_lieu");
  }
  static void TearDownTestSuite() {
    delete world;
    delete contract;
    world = nullptr;
    contract = nullptr;
  }
  void SetUp() override {
    if (!load_error.empty()) FAIL() << load_error;
  }

  Client anon() const { return Client(world->members->url()); }
  Client as(const MemberInfo& m) const { return Client(world->members->url(), m.token); }

  // The answer has the expected status and conforms to the operation's description.
  static void expect_conforms(const std::string& method, const std::string& path_template,
                              const HttpResult& r, int expected_status) {
    EXPECT_EQ(r.status, expected_status) << method << " " << path_template << ": " << r.body;
    auto violations = contract->check(method, path_template, r);
    EXPECT_TRUE(violations.empty()) << method << " " << path_template << " " << r.status << ":"
                                    << joined(violations) << "\nbody: " << r.body;
  }

  static Json registration(const std::string& email) {
    return {{"email", email},         {"password", "mot-de-passe-1"},
            {"display_name", "Inès"}, {"community_id", community},
            {"home_site_id", site},   {"location", {{"lat", 50.53}, {"lon", 3.17}}}};
  }

  static MembersWorld* world;
  static Contract* contract;
  static std::string load_error, community, site;
};

MembersWorld* OpenApiConformanceTest::world = nullptr;
Contract* OpenApiConformanceTest::contract = nullptr;
std::string OpenApiConformanceTest::load_error, OpenApiConformanceTest::community,
    OpenApiConformanceTest::site;

TEST_F(OpenApiConformanceTest, register_answers_201_with_a_session_as_described) {
  auto r =
      anon().post("/v1/auth/register", registration("ines-" + unique_suffix() + "@test.maillon"));
  expect_conforms("POST", "/v1/auth/register", r, 201);
}

TEST_F(OpenApiConformanceTest, register_without_site_or_location_answers_nulls_as_described) {
  Json body = registration("jules-" + unique_suffix() + "@test.maillon");
  body.erase("home_site_id");
  body.erase("location");
  auto r = anon().post("/v1/auth/register", body);
  expect_conforms("POST", "/v1/auth/register", r, 201);
  EXPECT_TRUE(r.json()["member"]["location"].is_null());
}

TEST_F(OpenApiConformanceTest, login_answers_200_with_a_session_as_described) {
  auto m = world->register_member(community, "Lucie");
  auto r = anon().post("/v1/auth/login", {{"email", m.email}, {"password", "mot-de-passe-1"}});
  expect_conforms("POST", "/v1/auth/login", r, 200);
}

TEST_F(OpenApiConformanceTest, me_of_a_member_and_of_the_admin_answer_200_as_described) {
  auto m = world->register_member(community, "Malik", site, std::make_pair(50.52, 3.18));
  expect_conforms("GET", "/v1/me", as(m).get("/v1/me"), 200);
  // The first administrator has no community: the nullable fields are null.
  expect_conforms("GET", "/v1/me", world->admin().get("/v1/me"), 200);
}

TEST_F(OpenApiConformanceTest, profile_patch_export_and_public_profile_answer_as_described) {
  auto m = world->register_member(community, "Nora");
  auto patched = as(m).patch("/v1/me", {{"display_name", "Nora B."}, {"home_site_id", site}});
  expect_conforms("PATCH", "/v1/me", patched, 200);
  expect_conforms("GET", "/v1/members/{id}", as(m).get("/v1/members/" + m.id), 200);
  expect_conforms("GET", "/v1/me/export", as(m).get("/v1/me/export"), 200);
}

TEST_F(OpenApiConformanceTest, sites_list_and_one_site_answer_200_as_described) {
  auto list = anon().get("/v1/sites?community_id=" + community + "&limit=1");
  expect_conforms("GET", "/v1/sites", list, 200);
  ASSERT_EQ(list.json()["items"].size(), 1u) << list.body;
  expect_conforms("GET", "/v1/sites/{id}", anon().get("/v1/sites/" + site), 200);
}

TEST_F(OpenApiConformanceTest, community_and_site_creation_answer_201_as_described) {
  auto created = world->admin().post(
      "/v1/communities", {{"name", "Cœur d'Ostrevent"}, {"policy", {{"loan_cost", 15}}}});
  expect_conforms("POST", "/v1/communities", created, 201);
  const std::string id = created.json()["id"];
  expect_conforms("GET", "/v1/communities/{id}", world->admin().get("/v1/communities/" + id), 200);
  auto site_created =
      world->admin().post("/v1/sites", {{"community_id", id},
                                        {"name", "Ressourcerie de Somain"},
                                        {"kind", "ressourcerie"},
                                        {"location", {{"lat", 50.357}, {"lon", 3.28}}},
                                        {"address", "1 rue Anatole France, 59490 Somain"}});
  expect_conforms("POST", "/v1/sites", site_created, 201);
}

TEST_F(OpenApiConformanceTest, invalid_input_is_a_400_problem_as_described) {
  auto r =
      anon().wrong().post("/v1/auth/register",
                          {{"email", "pas-une-adresse"}, {"password", "court"}, {"role", "admin"}});
  expect_conforms("POST", "/v1/auth/register", r, 400);
  EXPECT_EQ(r.headers["content-type"], "application/problem+json");
  EXPECT_FALSE(r.json()["errors"].empty());
}

TEST_F(OpenApiConformanceTest, missing_token_is_a_401_problem_as_described) {
  expect_conforms("GET", "/v1/me", anon().get("/v1/me"), 401);
}

TEST_F(OpenApiConformanceTest, non_admin_creating_a_community_is_a_403_problem_as_described) {
  auto m = world->register_member(community, "Omar");
  expect_conforms("POST", "/v1/communities", as(m).post("/v1/communities", {{"name", "Pirates"}}),
                  403);
}

TEST_F(OpenApiConformanceTest, unknown_site_is_a_404_problem_as_described) {
  auto r = anon().get("/v1/sites/6f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f");
  expect_conforms("GET", "/v1/sites/{id}", r, 404);
}

TEST_F(OpenApiConformanceTest, duplicate_email_is_a_409_problem_as_described) {
  auto m = world->register_member(community, "Paul");
  expect_conforms("POST", "/v1/auth/register",
                  anon().post("/v1/auth/register", registration(m.email)), 409);
}

TEST_F(OpenApiConformanceTest, staff_logout_and_erasure_answer_as_described) {
  auto m = world->register_member(community, "Rose", site);
  auto staff = world->admin().post("/v1/sites/" + site + "/staff", {{"member_id", m.id}});
  expect_conforms("POST", "/v1/sites/{id}/staff", staff, 204);
  auto other = world->register_member(community, "Sami");
  expect_conforms("POST", "/v1/auth/logout", as(other).post("/v1/auth/logout"), 204);
  expect_conforms("DELETE", "/v1/me",
                  as(m).call("DELETE", "/v1/me", R"({"password":"mot-de-passe-1"})"), 202);
}

TEST_F(OpenApiConformanceTest, the_checker_refuses_a_body_that_breaks_the_schema) {
  auto m = world->register_member(community, "Théo");
  auto r = as(m).get("/v1/me");
  ASSERT_EQ(r.status, 200);
  Json broken = r.json();
  broken.erase("roles");
  broken["community_id"] = "pas-un-uuid";
  broken["password_hash"] = "$argon2id$...";
  r.body = broken.dump();
  auto violations = contract->check("GET", "/v1/me", r);
  EXPECT_EQ(violations.size(), 3u) << joined(violations);
  r.status = 418;
  EXPECT_FALSE(contract->check("GET", "/v1/me", r).empty());
}

TEST_F(OpenApiConformanceTest, the_harness_routes_a_request_to_the_operation_it_names) {
  EXPECT_EQ(contract->route("POST", "/v1/ledger/transfers/batch"), "/v1/ledger/transfers/batch");
  EXPECT_EQ(contract->route("GET", "/v1/ledger/transfers/exchange:x:1?x=1"),
            "/v1/ledger/transfers/{id}");
  EXPECT_EQ(contract->route("GET", "/v1/sites/" + site), "/v1/sites/{id}");
  EXPECT_EQ(contract->route("GET", "/v1/nowhere"), std::nullopt);
  EXPECT_EQ(contract->route("DELETE", "/healthz"), std::nullopt);
}

TEST_F(OpenApiConformanceTest, the_harness_holds_every_exchange_to_the_contract) {
  // The request is wrong on purpose: its answer is held to the Problem schema only.
  const HttpResult answer = deliberately_wrong([&] { return anon().get("/v1/nowhere"); });
  EXPECT_EQ(answer.status, 404) << answer.body;
  // Unmarked, the same exchange names no operation: a violation.
  EXPECT_FALSE(contract_violations({"GET", "/v1/nowhere", "", answer}).empty());
  HttpResult html = answer;
  html.headers["content-type"] = "text/html";
  html.body = "<h1>404</h1>";
  {
    DeliberatelyWrong mark;
    EXPECT_TRUE(contract_violations({"GET", "/v1/nowhere", "", answer}).empty());
    EXPECT_FALSE(contract_violations({"GET", "/v1/nowhere", "", html}).empty());
  }
  // A request body the operation does not describe is the test's own contract bug.
  EXPECT_FALSE(contract_violations({"POST", "/v1/auth/login", R"({"email":"a@b.fr","pwd":"x"})",
                                    HttpResult{401, answer.body, answer.headers}})
                   .empty());
  // A documented header is a promise: a 429 without Retry-After breaks it.
  HttpResult limited{429, answer.body, answer.headers};
  const Json login = {{"email", "a@b.fr"}, {"password", "mot-de-passe-1"}};
  EXPECT_FALSE(contract_violations({"POST", "/v1/auth/login", login.dump(), limited}).empty());
  limited.headers["retry-after"] = "12";
  EXPECT_TRUE(contract_violations({"POST", "/v1/auth/login", login.dump(), limited}).empty())
      << joined(contract_violations({"POST", "/v1/auth/login", login.dump(), limited}));
  limited.headers["retry-after"] = "bientôt";
  EXPECT_FALSE(contract_violations({"POST", "/v1/auth/login", login.dump(), limited}).empty());
}

}  // namespace
}  // namespace maillon::testing
