#include "bench/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace chime::bench {
namespace {

std::string ParamText(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return FormatValue(v.get<double>());
  return v.dump();
}

bool SameParams(const std::vector<Param>& a, const std::vector<Param>& b) { return a == b; }

}  // namespace

std::string FormatValue(double value) {
  char buf[64];
  const double mag = std::fabs(value);
  const int digits = mag >= 1000 ? 0 : mag >= 10 ? 1 : mag >= 1 ? 2 : 3;
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

Report::~Report() { EndSection(); }

void Report::BeginSection(std::string bench, std::string title) {
  EndSection();
  bench_ = std::move(bench);
  title_ = std::move(title);
  open_ = true;
}

void Report::Add(Figure figure) {
  if (format_ == Format::kJson) {
    nlohmann::ordered_json line;
    line["bench"] = bench_;
    line["metric"] = figure.metric;
    line["value"] = std::isfinite(figure.value) ? nlohmann::ordered_json(figure.value)
                                                : nlohmann::ordered_json(nullptr);
    line["unit"] = figure.unit;
    for (const auto& [key, value] : figure.params) line[key] = value;
    out_ << line.dump() << '\n' << std::flush;
    return;
  }
  figures_.push_back(std::move(figure));
}

void Report::EndSection() {
  if (!open_) return;
  if (format_ == Format::kTable && !figures_.empty()) PrintTable();
  figures_.clear();
  open_ = false;
}

void Report::Note(const std::string& line) {
  if (format_ == Format::kTable) out_ << line << '\n' << std::flush;
}

void Report::PrintTable() {
  // Columns: every parameter key, then every metric, in first-seen order.
  std::vector<std::string> keys;
  std::vector<std::pair<std::string, std::string>> metrics;  // (metric, unit)
  std::vector<std::vector<Param>> rows;
  for (const auto& f : figures_) {
    for (const auto& [key, value] : f.params) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
    auto m = std::make_pair(f.metric, f.unit);
    if (std::find(metrics.begin(), metrics.end(), m) == metrics.end()) metrics.push_back(m);
    if (std::none_of(rows.begin(), rows.end(),
                     [&](const auto& r) { return SameParams(r, f.params); })) {
      rows.push_back(f.params);
    }
  }
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> header = keys;
  for (const auto& [metric, unit] : metrics) header.push_back(metric + " (" + unit + ")");
  cells.push_back(header);
  for (const auto& row : rows) {
    std::vector<std::string> line;
    for (const auto& key : keys) {
      auto it = std::find_if(row.begin(), row.end(), [&](const Param& p) { return p.first == key; });
      line.push_back(it == row.end() ? "-" : ParamText(it->second));
    }
    for (const auto& [metric, unit] : metrics) {
      auto it = std::find_if(figures_.begin(), figures_.end(), [&](const Figure& f) {
        return f.metric == metric && f.unit == unit && SameParams(f.params, row);
      });
      line.push_back(it == figures_.end() ? "-" : FormatValue(it->value));
    }
    cells.push_back(std::move(line));
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& line : cells) {
    for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  out_ << '\n' << bench_ << ": " << title_ << '\n';
  for (const auto& line : cells) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      // Parameters align left, figures right.
      const size_t pad = width[i] - line[i].size();
      if (i < keys.size()) {
        text += line[i] + std::string(pad, ' ');
      } else {
        text += std::string(pad, ' ') + line[i];
      }
      if (i + 1 < line.size()) text += "  ";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out_ << "  " << text << '\n';
  }
  out_ << std::flush;
}

double RoundedPercentile(std::vector<double> samples, double p) {
  if (samples.empty()) return -1;
  std::sort(samples.begin(), samples.end());
  const size_t i =
      std::min(samples.size() - 1, static_cast<size_t>(p * static_cast<double>(samples.size() - 1) + 0.5));
  return samples[i];
}

double NearestRankPercentile(std::vector<double> samples, double p) {
  if (samples.empty()) return NAN;
  std::sort(samples.begin(), samples.end());
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(samples.size())));
  return samples[std::clamp<size_t>(rank, 1, samples.size()) - 1];
}

}  // namespace chime::bench
