// The ranking formula. Weights (sum 1) say what matters to a member choosing a neighbour:
// - distance 0.40: the point of the network is walking-distance exchange; the term halves at
//   2 km (kDistanceHalfM), about a 25-minute walk, and keeps ordering farther candidates;
// - word overlap 0.20: "perceuse" asked and "perceuse" offered beats a mere same-category
//   item, but category already guarantees relevance, so it weighs less than distance;
// - freshness 0.15: a listing posted yesterday is more likely still wanted; halves at 14 days;
// - reliability 0.15: completed versus abandoned exchanges, so that members are not sent to
//   providers who never follow through, without shutting newcomers (0.5 by default) out;
// - spread 0.10: halves at 5 recent proposals, so that one very active provider does not
//   receive every request of the neighbourhood; small enough to never beat a much closer match.
#include "matching/score.hpp"

#include <algorithm>
#include <limits>

namespace maillon::matching {
namespace {

constexpr double kWeightDistance = 0.40;
constexpr double kWeightWords = 0.20;
constexpr double kWeightFreshness = 0.15;
constexpr double kWeightReliability = 0.15;
constexpr double kWeightSpread = 0.10;
constexpr double kDistanceHalfM = 2000.0;
constexpr double kFreshnessHalfS = 14.0 * 86'400.0;
constexpr double kSpreadHalfProposals = 5.0;

}  // namespace

double score(const ScoreInputs& inputs) {
  const double proximity = 1.0 / (1.0 + inputs.distance_m / kDistanceHalfM);
  const double overlap =
      inputs.fewer_words == 0 ? 0.0 : double(inputs.shared_words) / double(inputs.fewer_words);
  const double age_s = double(std::max<int64_t>(0, inputs.age_s));
  const double freshness = 1.0 / (1.0 + age_s / kFreshnessHalfS);
  const double spread = 1.0 / (1.0 + double(inputs.recent_proposals) / kSpreadHalfProposals);
  return kWeightDistance * proximity + kWeightWords * overlap + kWeightFreshness * freshness +
         kWeightReliability * inputs.reliability + kWeightSpread * spread;
}

double score_bound(double distance_m, bool words_possible, double reliability_max,
                   int64_t age_s_min) {
  const uint32_t words = words_possible ? 1 : 0;
  return score(ScoreInputs{distance_m, words, words, age_s_min, reliability_max, 0});
}

double distance_limit_m(double score_to_beat, bool words_possible, double reliability_max,
                        int64_t age_s_min) {
  // Everything but the distance term at its best; the distance term must make up the rest.
  const double rest = score_bound(std::numeric_limits<double>::infinity(), words_possible,
                                  reliability_max, age_s_min);
  const double needed = score_to_beat - rest;
  if (needed <= 0) return std::numeric_limits<double>::infinity();
  if (needed > kWeightDistance * (1.0 + 1e-9)) return -1.0;
  // kWeightDistance / (1 + d / kDistanceHalfM) >= needed  <=>  d <= half * (weight/needed - 1);
  // the relative and absolute margins dwarf the few ulps of error of both formulas.
  const double limit_m = kDistanceHalfM * (kWeightDistance / needed - 1.0);
  return limit_m * (1.0 + 1e-9) + 1e-3;
}

}  // namespace maillon::matching
