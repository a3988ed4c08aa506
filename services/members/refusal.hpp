// How a members use case stops with a refusal: thrown inside its transaction (which then rolls
// back), caught once at the use case's edge and returned as a code. Private to the use cases.
#pragma once

#include <type_traits>

#include "services/members/usecases.hpp"

namespace maillon::members {

struct Refusal {
  MembersCode code;
  int retry_after_seconds = 0;
};

// Runs `f` (which returns the result's value) and turns a Refusal into the Outcome it stands for.
template <class F>
auto settle(F&& f) -> Outcome<std::invoke_result_t<F&>> {
  try {
    return {MembersCode::ok, f(), 0};
  } catch (const Refusal& refusal) {
    return {refusal.code, {}, refusal.retry_after_seconds};
  }
}

}  // namespace maillon::members
