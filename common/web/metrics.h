// Prometheus exposition for chime processes, on prometheus-cpp's core
// library (its civetweb exposer is not used: common/web serves /metrics).
//
// Two kinds of figures go into one scrape:
//   - process metrics: counters and histograms a component updates as things
//     happen (prometheus::Registry families); they reset when the process
//     restarts and are summed over replicas by the query;
//   - scrape-time gauges: values read when scraped (the database, another
//     component's snapshot), produced by a ScrapeSource; a label set the
//     source leaves out disappears from the output, so a source that must
//     keep a series (a queue that emptied) writes its 0 itself.
// Every registry also renders the standard process_* metrics and
// chime_build_info (common/web/process_metrics.h).
// Thread-safe: families, sources and Render() may be used from any thread.
#pragma once

#include <map>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "common/web/server.h"

namespace chime::web {

using Labels = std::map<std::string, std::string>;

// Produces gauge families at scrape time. Collect() runs on an HTTP thread.
class ScrapeSource {
 public:
  virtual ~ScrapeSource() = default;
  virtual std::vector<prometheus::MetricFamily> Collect() = 0;
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();

  prometheus::Registry& registry() { return *registry_; }
  prometheus::Family<prometheus::Counter>& Counter(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Gauge>& Gauge(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Histogram>& Histogram(const std::string& name,
                                                       const std::string& help);

  // `source` must outlive the registry's Render() calls.
  void AddSource(ScrapeSource* source);

  // Every family in the text format (version 0.0.4), sorted by name.
  std::string Render() const;
  // Render() as a 200 response with Prometheus's content type.
  Response RenderResponse() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ScrapeSource> process_;  // process_* and chime_build_info.
  mutable std::mutex mu_;
  std::vector<ScrapeSource*> sources_;  // Guarded by mu_.
};

// A family's series by label values, each looked up in the family once.
// prometheus-cpp's Family::Add builds a label map and a new metric (a
// histogram copies its bucket list) on every call, even for a series it
// already holds; called per job, that was the largest part of a worker's
// and a scheduler's metrics cost (perf, chime-bench e2e). The values must
// be bounded by the caller (LabelCap, known kinds): the cache keeps one
// entry per distinct set, as the family does. A family never drops a
// series, so the references stay valid. Thread-safe.
template <typename T>
class SeriesCache {
 public:
  // The series of `family` labelled `names`; `args` are what a new series
  // is made with (a histogram's buckets). `family` must outlive the cache.
  template <typename... Args>
  SeriesCache(prometheus::Family<T>& family, std::vector<std::string> names, Args... args)
      : names_(std::move(names)),
        add_([&family, args...](const Labels& labels) -> T& { return family.Add(labels, args...); }) {}

  // The series whose labels (in the order of `names`) take `values`.
  T& Get(std::initializer_list<std::string_view> values) {
    std::string key;
    for (std::string_view v : values) {
      key.append(v);
      key.push_back('\0');  // Label values are UTF-8 text; NUL separates them.
    }
    std::lock_guard lock(mu_);
    auto it = series_.find(key);
    if (it != series_.end()) return *it->second;
    Labels labels;
    auto name = names_.begin();
    for (std::string_view v : values) {
      if (name == names_.end()) break;
      labels.emplace(*name++, std::string(v));
    }
    T& series = add_(labels);
    series_.emplace(std::move(key), &series);
    return series;
  }

 private:
  const std::vector<std::string> names_;
  const std::function<T&(const Labels&)> add_;
  std::mutex mu_;
  std::unordered_map<std::string, T*> series_;  // Guarded by mu_.
};

// Builds a gauge family (or, with kCounter, a counter family whose values
// come from elsewhere, e.g. a table) for a ScrapeSource.
class GaugeFamilyBuilder {
 public:
  enum class Type { kGauge, kCounter };
  GaugeFamilyBuilder(std::string name, std::string help, Type type = Type::kGauge);
  GaugeFamilyBuilder& Add(const Labels& labels, double value);
  prometheus::MetricFamily Build();  // Moves the family out.

 private:
  prometheus::MetricFamily family_;
};

// Buckets in seconds for job durations (10 ms .. 1 h) and pickup latency
// (1 ms .. 10 min).
const prometheus::Histogram::BucketBoundaries& DurationBuckets();
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

// The label value of whatever a bounded label does not name: kinds no
// handler knows, values past a LabelCap.
inline constexpr const char* kOtherLabel = "_other";

// Caps the distinct values one label may take, so a flood of made-up job
// kinds cannot grow the scrape without bound: after `max_values` distinct
// values, new ones read as kOtherLabel. Thread-safe.
class LabelCap {
 public:
  explicit LabelCap(size_t max_values) : max_values_(max_values) {}
  std::string operator()(std::string_view value);

 private:
  const size_t max_values_;
  std::mutex mu_;
  std::set<std::string, std::less<>> seen_;  // Guarded by mu_.
};

}  // namespace chime::web
