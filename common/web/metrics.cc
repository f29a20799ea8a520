#include "common/web/metrics.h"

#include <prometheus/text_serializer.h>

#include "common/web/process_metrics.h"

#include <algorithm>

namespace chime::web {

MetricsRegistry::MetricsRegistry()
    : registry_(std::make_shared<prometheus::Registry>()), process_(std::make_unique<ProcessMetrics>()) {
  sources_.push_back(process_.get());
}

MetricsRegistry::~MetricsRegistry() = default;

prometheus::Family<prometheus::Counter>& MetricsRegistry::Counter(const std::string& name,
                                                                  const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Gauge>& MetricsRegistry::Gauge(const std::string& name,
                                                              const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Histogram>& MetricsRegistry::Histogram(const std::string& name,
                                                                      const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
}

void MetricsRegistry::AddSource(ScrapeSource* source) {
  std::lock_guard lock(mu_);
  sources_.push_back(source);
}

std::string MetricsRegistry::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  std::vector<ScrapeSource*> sources;
  {
    std::lock_guard lock(mu_);
    sources = sources_;
  }
  for (ScrapeSource* source : sources) {
    for (auto& f : source->Collect()) families.push_back(std::move(f));
  }
  std::ranges::stable_sort(families, {}, &prometheus::MetricFamily::name);
  return prometheus::TextSerializer().Serialize(families);
}

Response MetricsRegistry::RenderResponse() const {
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = Render();
  return r;
}

GaugeFamilyBuilder::GaugeFamilyBuilder(std::string name, std::string help, Type type) {
  family_.name = std::move(name);
  family_.help = std::move(help);
  family_.type = type == Type::kCounter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
}

GaugeFamilyBuilder& GaugeFamilyBuilder::Add(const Labels& labels, double value) {
  prometheus::ClientMetric m;
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  if (family_.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  family_.metric.push_back(std::move(m));
  return *this;
}

prometheus::MetricFamily GaugeFamilyBuilder::Build() { return std::move(family_); }

const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets{
      0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
  return kBuckets;
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  return kBuckets;
}

std::string LabelCap::operator()(std::string_view value) {
  std::lock_guard lock(mu_);
  if (seen_.contains(value)) return std::string(value);
  if (seen_.size() >= max_values_) return kOtherLabel;
  seen_.emplace(value);
  return std::string(value);
}

}  // namespace chime::web
