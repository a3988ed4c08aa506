// How a periodic job (Service::every) tells the jobs loop that a run found nothing to do, and how
// anyone brings such a job back. A job that calls job_found_nothing() during its run is run less
// often while that lasts: its interval doubles with each such run, up to kIdleJobIntervalMax (or
// its own interval, when longer). A run that does not call it puts the job back to its interval;
// so does wake_jobs(), for every slowed job, within one tick of the loop (50 ms): a handler that
// queued work for a job calls it. Jobs that never call job_found_nothing() keep their interval.
#pragma once

#include <chrono>

namespace maillon {

inline constexpr std::chrono::milliseconds kIdleJobIntervalMax{2000};

// During a job's run, on the jobs loop's thread: this run found nothing to do.
void job_found_nothing();
// From any thread: every slowed job runs again at its own interval, starting now.
void wake_jobs();

// For the jobs loop: whether the run that just ended called job_found_nothing() (and forget it);
// the count of wake_jobs() calls so far.
bool take_job_found_nothing();
unsigned long long job_wakes();

// The jobs loop's delay after `idle_runs` runs in a row found nothing (0: the interval).
std::chrono::milliseconds paced_interval(std::chrono::milliseconds interval, int idle_runs);

// `base` doubled `times` times, never past `ceiling` unless `base` is: the pause of a loop that
// keeps finding nothing or failing (the jobs loop above, the outbox relay, the mail senders).
std::chrono::milliseconds doubled(std::chrono::milliseconds base, int times,
                                  std::chrono::milliseconds ceiling);

}  // namespace maillon
