// How a candidate is ranked: one pure formula shared by the index (for exact scores and for
// the upper bounds that let it skip candidates) and by anyone checking the index.
#pragma once

#include <cstdint>

namespace maillon::matching {

struct ScoreInputs {
  double distance_m = 0;          // between the two handover points (snapped)
  uint32_t shared_words = 0;      // title/tag words both listings carry
  uint32_t fewer_words = 0;       // word count of the listing with fewer words
  int64_t age_s = 0;              // of the candidate, at the time of the query
  double reliability = 0;         // of the candidate's member, in [0, 1]
  uint32_t recent_proposals = 0;  // proposals the candidate's member received recently
};

// Reliability of a member the engine has heard nothing about: neither trusted nor distrusted.
inline constexpr double kDefaultReliability = 0.5;

// Score in [0, 1], higher is better. Non-increasing in distance_m, age_s and recent_proposals,
// non-decreasing in shared_words and reliability: the index relies on this to prune.
double score(const ScoreInputs& inputs);

// The best score any candidate at distance_m or more could get, when no member's reliability
// exceeds reliability_max, no candidate is younger than age_s_min and, if !words_possible, no
// word can be shared.
double score_bound(double distance_m, bool words_possible, double reliability_max,
                   int64_t age_s_min = 0);

// The inverse of score_bound in distance: beyond the distance returned, score_bound (same other
// arguments) is below score_to_beat. Rounded up a little so that float rounding never makes it
// too short; +infinity when no distance is far enough, negative when no distance is near enough.
double distance_limit_m(double score_to_beat, bool words_possible, double reliability_max,
                        int64_t age_s_min);

}  // namespace maillon::matching
