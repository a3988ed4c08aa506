// What a use case returns, in every service: a result code (the service's enum, whose `ok` member
// means success) and the value, meaningful when the code is ok. The code goes to the service's
// message table (problems.hpp) at the edge; a service whose refusals carry more derives from it.
#pragma once

namespace maillon {

// The value of a use case that has nothing to return but its code.
struct Done {};

template <class Code, class T>
struct UseCaseOutcome {
  Code code = Code::ok;
  T value{};
  bool ok() const { return code == Code::ok; }
};

}  // namespace maillon
