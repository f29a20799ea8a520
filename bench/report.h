// Prints benchmark figures, either as readable aligned tables (one per
// section, pivoted so that each distinct parameter set is a row and each
// metric a column) or, in JSON mode, as one JSON object per line and figure:
//   {"bench":"store","metric":"bulk_enqueue_rate","value":1.5e5,"unit":"jobs/s","batch":1000}
// JSON lines go out as soon as a figure is added; a table goes out when its
// section ends. Thread-compatible: benches report from their driving thread.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace chime::bench {

// A parameter of a figure ("batch": 100); values are numbers or strings.
using Param = std::pair<std::string, nlohmann::ordered_json>;

struct Figure {
  std::string metric;  // snake_case, e.g. "claim_complete_rate".
  double value = 0;
  std::string unit;           // "jobs/s", "ms", "x".
  std::vector<Param> params;  // In the order they should be shown.
};

class Report {
 public:
  enum class Format { kTable, kJson };

  // `out` must outlive the report.
  Report(std::ostream& out, Format format) : out_(out), format_(format) {}
  ~Report();  // Ends an open section.

  Format format() const { return format_; }

  // Starts a table section for figures of `bench` (ends the previous one).
  void BeginSection(std::string bench, std::string title);
  void Add(Figure figure);
  // Prints the section's table (table mode); a no-op when none is open.
  void EndSection();

  // Free text above tables (table mode only), e.g. the server version.
  void Note(const std::string& line);

 private:
  void PrintTable();

  std::ostream& out_;
  Format format_;
  std::string bench_;
  std::string title_;
  bool open_ = false;
  std::vector<Figure> figures_;  // The open section's figures (table mode).
};

// Formats a figure value with precision that suits its magnitude.
std::string FormatValue(double value);

// Percentiles of a bench's samples, the two ways its figures are defined
// (each bench keeps the one its published figures used):
// the value at rank round(p * (n - 1)) of the sorted samples, -1 when none;
double RoundedPercentile(std::vector<double> samples, double p);
// the ceil(p * n)-th smallest sample (nearest rank), NaN when none.
double NearestRankPercentile(std::vector<double> samples, double p);

}  // namespace chime::bench
