// Metrics registry. A mutex is enough: a few updates per request, scrapes every few seconds.
#include "services/common/metrics.hpp"

#include <array>
#include <sstream>

namespace maillon {
namespace {

constexpr std::array<double, 12> kBucketsSeconds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                    0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

std::string with_labels(const std::string& name, const std::string& labels,
                        const std::string& extra = "") {
  std::string all = labels;
  if (!extra.empty()) all += (all.empty() ? "" : ",") + extra;
  return all.empty() ? name : name + "{" + all + "}";
}

}  // namespace

void Metrics::inc(const std::string& name, const std::string& labels, double by) {
  std::lock_guard lock(mutex_);
  counters_[name][labels] += by;
}

void Metrics::set(const std::string& name, const std::string& labels, double value) {
  std::lock_guard lock(mutex_);
  gauges_[name][labels] = value;
}

void Metrics::observe_seconds(const std::string& name, const std::string& labels, double s) {
  std::lock_guard lock(mutex_);
  auto& h = histograms_[name][labels];
  if (h.buckets.empty()) h.buckets.assign(kBucketsSeconds.size(), 0);
  for (std::size_t i = 0; i < kBucketsSeconds.size(); ++i) {
    if (s <= kBucketsSeconds[i]) ++h.buckets[i];
  }
  h.sum += s;
  ++h.count;
}

void Metrics::add_collector(std::function<void(Metrics&)> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::render() {
  std::vector<std::function<void(Metrics&)>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c(*this);
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  for (const auto& [name, series] : counters_) {
    out << "# TYPE " << name << " counter\n";
    for (const auto& [labels, v] : series) out << with_labels(name, labels) << ' ' << v << '\n';
  }
  for (const auto& [name, series] : gauges_) {
    out << "# TYPE " << name << " gauge\n";
    for (const auto& [labels, v] : series) out << with_labels(name, labels) << ' ' << v << '\n';
  }
  for (const auto& [name, series] : histograms_) {
    out << "# TYPE " << name << " histogram\n";
    for (const auto& [labels, h] : series) {
      for (std::size_t i = 0; i < kBucketsSeconds.size(); ++i) {
        std::ostringstream le;
        le << "le=\"" << kBucketsSeconds[i] << "\"";
        out << with_labels(name + "_bucket", labels, le.str()) << ' ' << h.buckets[i] << '\n';
      }
      out << with_labels(name + "_bucket", labels, "le=\"+Inf\"") << ' ' << h.count << '\n';
      out << with_labels(name + "_sum", labels) << ' ' << h.sum << '\n';
      out << with_labels(name + "_count", labels) << ' ' << h.count << '\n';
    }
  }
  return out.str();
}

}  // namespace maillon
