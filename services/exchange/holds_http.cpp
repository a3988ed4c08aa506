// Routes and jobs of the holds (see holds.hpp): each handler reads its input, calls one use case
// and writes its answer; refusals are put into words by messages.hpp like the exchanges' own.
#include <nlohmann/json.hpp>

#include "services/common/config.hpp"
#include "services/common/errors.hpp"
#include "services/common/json_body.hpp"
#include "services/common/service.hpp"
#include "services/exchange/holds.hpp"
#include "services/exchange/messages.hpp"

namespace maillon::exchange {
namespace {

constexpr int64_t kHoldsJobIntervalDefaultMs = 60'000;

template <class T>
const T& hold_value_of(const Answer<T>& answer) {
  if (answer.refusal != ExchangeRefusal::none) throw problem(answer.refusal);
  return answer.value;
}

Json hold_optional_text(const std::optional<std::string>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json hold_json(const Hold& h) {
  return Json{{"id", h.id},
              {"offer_id", h.offer_id},
              {"offer_title", h.offer_title},
              {"member_id", h.member_id},
              {"state", h.state},
              {"position", h.position == 0 ? Json(nullptr) : Json(h.position)},
              {"created_at", h.created_at},
              {"ready_at", hold_optional_text(h.ready_at)},
              {"pickup_until", hold_optional_text(h.pickup_until)},
              {"exchange_id", hold_optional_text(h.exchange_id)}};
}

class HoldsApi : public std::enable_shared_from_this<HoldsApi>, ServiceApi<HoldUseCases> {
 public:
  HoldsApi(Service& s, std::shared_ptr<Workflow> w) : ServiceApi(s, s, std::move(w)) {}

  void routes() {
    const RouteBinder bind(s_.http, shared_from_this());
    bind("POST", "/v1/offers/{id}/holds", &HoldsApi::join);
    bind("GET", "/v1/offers/{id}/holds", &HoldsApi::queue);
    bind("DELETE", "/v1/holds/{id}", &HoldsApi::leave);
    bind("GET", "/v1/me/holds", &HoldsApi::mine);
  }

 private:
  Response join(const Request& r) {
    return json_response(201,
                         hold_json(hold_value_of(uc_.join(s_.auth.require(r), r.param("id")))));
  }

  Response queue(const Request& r) {
    const auto answer = uc_.queue(s_.auth.require(r), r.param("id"));
    const HoldQueue& q = hold_value_of(answer);
    Json items = Json::array();
    for (const Hold& h : q.items) items.push_back(hold_json(h));
    return json_response(200, Json{{"offer_id", q.offer_id},
                                   {"length", q.length},
                                   {"whole_queue", q.whole},
                                   {"items", std::move(items)}});
  }

  Response mine(const Request& r) {
    const auto answer = uc_.mine(s_.auth.require(r));
    Json items = Json::array();
    for (const Hold& h : hold_value_of(answer)) items.push_back(hold_json(h));
    return json_response(200, Json{{"items", std::move(items)}});
  }

  Response leave(const Request& r) {
    hold_value_of(uc_.leave(s_.auth.require(r), r.param("id")));
    return Response::no_content();
  }
};

}  // namespace

void register_holds(Service& service, const std::shared_ptr<Workflow>& workflow) {
  auto api = std::make_shared<HoldsApi>(service, workflow);
  api->routes();
  // The same pace as the exchanges' other jobs (expiry, late loans).
  const auto interval = Config::duration_ms("MAILLON_EXCHANGE_EXPIRY_INTERVAL_MS",
                                            std::chrono::milliseconds(kHoldsJobIntervalDefaultMs),
                                            std::chrono::milliseconds(10), std::chrono::hours(24));
  service.every("advance-holds", interval,
                [workflow](pqxx::work& tx) { advance_holds(*workflow, tx); });
  service.every("weekly-late-notices", interval,
                [workflow](pqxx::work& tx) { send_weekly_late_notices(*workflow, tx); });
}

}  // namespace maillon::exchange
