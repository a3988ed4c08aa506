// Prometheus metrics in text exposition format: counters, gauges and latency histograms.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace maillon {

class Metrics {
 public:
  // `labels` is the inside of the braces, e.g. `route="/v1/me",status="200"`.
  void inc(const std::string& name, const std::string& labels = "", double by = 1);
  void set(const std::string& name, const std::string& labels, double value);
  void observe_seconds(const std::string& name, const std::string& labels, double seconds);
  // Collectors refresh gauges (outbox lag, consumer lag) right before a scrape.
  void add_collector(std::function<void(Metrics&)> collector);
  std::string render();

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;
    double sum = 0;
    uint64_t count = 0;
  };
  std::mutex mutex_;
  std::map<std::string, std::map<std::string, double>> counters_;
  std::map<std::string, std::map<std::string, double>> gauges_;
  std::map<std::string, std::map<std::string, Histogram>> histograms_;
  std::vector<std::function<void(Metrics&)>> collectors_;
};

}  // namespace maillon
