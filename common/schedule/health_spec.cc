#include "common/schedule/health_spec.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <type_traits>
#include <vector>

#include "common/base/text_format.h"
#include "common/schedule/health_yaml.h"
#include "common/schedule/schedule_limits.h"
#include "common/schedule/yaml_payload.h"

namespace chime::schedule {
namespace {

using internal::Quoted;
using std::chrono::milliseconds;

constexpr int kMaxMinRuns = 100000;
constexpr int kMaxConsecutive = 10000;
constexpr milliseconds kMaxDuration = std::chrono::days(7);
constexpr milliseconds kMinWindow = std::chrono::minutes(1);
constexpr milliseconds kMaxWindow = std::chrono::days(30);

Error Bad(std::string_view key, const std::string& message) {
  return Error{ErrorCode::kInvalidArgument, "health: " + std::string(key) + ": " + message};
}

std::string RateText(double v) {
  std::string s = std::to_string(v);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

Result<void> CheckRate(std::string_view key, const Threshold<double>& t) {
  if (t.value && !(*t.value >= 0.0 && *t.value <= 1.0)) {
    return std::unexpected(Bad(key, RateText(*t.value) + " is out of range 0-1"));
  }
  return {};
}

Result<void> CheckDuration(std::string_view key, const Threshold<milliseconds>& t, milliseconds lo,
                           milliseconds hi) {
  if (t.value && (*t.value < lo || *t.value > hi)) {
    return std::unexpected(Bad(key, FormatDuration(*t.value) + " is out of range " + FormatDuration(lo) +
                                        "-" + FormatDuration(hi)));
  }
  return {};
}

// Each rule's threshold, visited by name: what the JSON and YAML readers and
// writers share.
template <typename F>
void ForEachThreshold(HealthSpec& h, F&& f) {
  f(HealthRule::kFailureRate, h.failure_rate);
  f(HealthRule::kConsecutiveFailures, h.consecutive_failures);
  f(HealthRule::kAverageDuration, h.average_duration);
  f(HealthRule::kRunDuration, h.run_duration);
  f(HealthRule::kNoSuccessWithin, h.no_success_within);
  f(HealthRule::kSuccessRate, h.success_rate);
}

bool IsDurationRule(HealthRule rule) {
  return rule == HealthRule::kAverageDuration || rule == HealthRule::kRunDuration ||
         rule == HealthRule::kNoSuccessWithin;
}

std::string JsonKey(HealthRule rule) {
  std::string key(HealthRuleName(rule));
  return IsDurationRule(rule) ? key + "_ms" : key;
}

// Reads one JSON value into a threshold of type T.
template <typename T>
Result<void> FromJsonValue(std::string_view key, const nlohmann::json& v, Threshold<T>* out) {
  if (v.is_string() && v.get<std::string>() == "off") {
    out->off = true;
    return {};
  }
  if constexpr (std::is_same_v<T, double>) {
    if (!v.is_number()) return std::unexpected(Bad(key, "must be a number 0-1 or \"off\""));
    out->value = v.get<double>();
  } else {
    if (!v.is_number_integer()) return std::unexpected(Bad(key, "must be an integer or \"off\""));
    const int64_t n = v.get<int64_t>();
    if constexpr (std::is_same_v<T, int>) {
      if (n < 1 || n > kMaxConsecutive) {
        return std::unexpected(Bad(key, std::to_string(n) + " is out of range 1-" +
                                            std::to_string(kMaxConsecutive)));
      }
      out->value = static_cast<int>(n);
    } else {
      out->value = milliseconds(n);
    }
  }
  return {};
}

template <typename T>
nlohmann::json ToJsonValue(const Threshold<T>& t) {
  if (t.off) return "off";
  if constexpr (std::is_same_v<T, milliseconds>) {
    return t.value->count();
  } else {
    return *t.value;
  }
}

}  // namespace

std::string_view HealthRuleName(HealthRule rule) {
  switch (rule) {
    case HealthRule::kFailureRate: return "failure_rate";
    case HealthRule::kConsecutiveFailures: return "consecutive_failures";
    case HealthRule::kAverageDuration: return "average_duration";
    case HealthRule::kRunDuration: return "run_duration";
    case HealthRule::kNoSuccessWithin: return "no_success_within";
    case HealthRule::kSuccessRate: return "success_rate";
  }
  return "";
}

std::optional<HealthRule> ParseHealthRule(std::string_view name) {
  for (HealthRule rule : kAllHealthRules) {
    if (HealthRuleName(rule) == name) return rule;
  }
  return std::nullopt;
}

Result<void> ValidateHealth(const HealthSpec& h) {
  if (h.min_runs && (*h.min_runs < 1 || *h.min_runs > kMaxMinRuns)) {
    return std::unexpected(Bad("min_runs", std::to_string(*h.min_runs) + " is out of range 1-" +
                                               std::to_string(kMaxMinRuns)));
  }
  if (auto ok = CheckRate("failure_rate", h.failure_rate); !ok) return ok;
  if (h.consecutive_failures.value &&
      (*h.consecutive_failures.value < 1 || *h.consecutive_failures.value > kMaxConsecutive)) {
    return std::unexpected(Bad("consecutive_failures", std::to_string(*h.consecutive_failures.value) +
                                                           " is out of range 1-" +
                                                           std::to_string(kMaxConsecutive)));
  }
  if (auto ok = CheckDuration("average_duration", h.average_duration, milliseconds(1), kMaxDuration); !ok) {
    return ok;
  }
  if (auto ok = CheckDuration("run_duration", h.run_duration, milliseconds(1), kMaxDuration); !ok) return ok;
  if (auto ok = CheckDuration("no_success_within", h.no_success_within, kMinWindow, kMaxWindow); !ok) {
    return ok;
  }
  return CheckRate("success_rate", h.success_rate);
}

std::string HealthToJson(const HealthSpec& health) {
  HealthSpec h = health;
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (!h.enabled) out["enabled"] = false;
  if (h.min_runs) out["min_runs"] = *h.min_runs;
  ForEachThreshold(h, [&](HealthRule rule, auto& t) {
    if (t.off || t.value) out[JsonKey(rule)] = ToJsonValue(t);
  });
  return out.dump();
}

Result<HealthSpec> HealthFromJson(std::string_view text) {
  HealthSpec h;
  if (text.empty()) return h;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "health: must be a JSON object");
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "enabled") {
      if (!value.is_boolean()) return std::unexpected(Bad(key, "must be true or false"));
      h.enabled = value.get<bool>();
      continue;
    }
    if (key == "min_runs") {
      if (!value.is_number_integer()) return std::unexpected(Bad(key, "must be an integer"));
      const int64_t n = value.get<int64_t>();
      h.min_runs = static_cast<int>(std::clamp<int64_t>(n, 0, kMaxMinRuns + 1));
      continue;
    }
    bool known = false;
    Result<void> read;
    ForEachThreshold(h, [&](HealthRule rule, auto& t) {
      if (key != JsonKey(rule)) return;
      known = true;
      read = FromJsonValue(key, value, &t);
    });
    if (!known) return std::unexpected(Bad(key, "unknown key"));
    if (!read) return std::unexpected(read.error());
  }
  if (auto ok = ValidateHealth(h); !ok) return std::unexpected(ok.error());
  return h;
}

std::optional<std::string> HealthValueText(const HealthSpec& health, HealthRule rule) {
  HealthSpec h = health;
  std::optional<std::string> out;
  ForEachThreshold(h, [&](HealthRule r, auto& t) {
    if (r != rule) return;
    if (t.off) {
      out = "off";
    } else if (t.value) {
      using T = std::decay_t<decltype(*t.value)>;
      if constexpr (std::is_same_v<T, milliseconds>) {
        out = FormatDuration(*t.value);
      } else if constexpr (std::is_same_v<T, double>) {
        out = RateText(*t.value);
      } else {
        out = std::to_string(*t.value);
      }
    }
  });
  return out;
}

namespace internal {
namespace {

Result<void> ReadYamlThreshold(HealthRule rule, const YAML::Node& node, HealthSpec* h) {
  const std::string key(HealthRuleName(rule));
  if (node.IsNull()) return std::unexpected(Bad(key, "has no value"));
  if (!node.IsScalar()) return std::unexpected(Bad(key, "must be a value or off"));
  const std::string& text = node.Scalar();
  if (text.size() > 64) return std::unexpected(Bad(key, "is longer than 64 bytes"));
  Result<void> result;
  ForEachThreshold(*h, [&](HealthRule r, auto& t) {
    if (r != rule) return;
    if (IsPlain(node) && text == "off") {
      t.off = true;
      return;
    }
    using T = std::decay_t<decltype(*t.value)>;
    if constexpr (std::is_same_v<T, milliseconds>) {
      auto d = ParseDuration(text);
      if (!d) {
        result = std::unexpected(Bad(key, Quoted(text) + ": " + d.error().message));
      } else {
        t.value = *d;
      }
    } else if constexpr (std::is_same_v<T, double>) {
      double v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (!IsPlain(node) || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
        result = std::unexpected(Bad(key, Quoted(text) + " is not a number 0-1 or off"));
      } else {
        t.value = v;
      }
    } else {
      long long v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (!IsPlain(node) || ec != std::errc() || end != text.data() + text.size()) {
        result = std::unexpected(Bad(key, Quoted(text) + " is not an integer or off"));
      } else {
        t.value = static_cast<int>(std::clamp<long long>(v, 0, kMaxConsecutive + 1));
      }
    }
  });
  return result;
}

}  // namespace

Result<HealthSpec> ReadHealthYaml(const YAML::Node& node) {
  HealthSpec h;
  if (node.IsNull()) return h;
  if (!node.IsMap()) return Fail(ErrorCode::kInvalidArgument, "health: must be a map of rule: threshold");
  if (node.size() > 16) return Fail(ErrorCode::kInvalidArgument, "health: has more than 16 keys");
  std::vector<std::string> seen;
  for (const auto& pair : node) {
    if (!pair.first.IsScalar()) return Fail(ErrorCode::kInvalidArgument, "health: a key is not a string");
    const std::string& key = pair.first.Scalar();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return Fail(ErrorCode::kInvalidArgument, "health: duplicate key " + Quoted(key));
    }
    seen.push_back(key);
    const YAML::Node& value = pair.second;
    if (key == "enabled") {
      if (!IsPlain(value) || (value.Scalar() != "true" && value.Scalar() != "false")) {
        return std::unexpected(Bad(key, "must be true or false"));
      }
      h.enabled = value.Scalar() == "true";
      continue;
    }
    if (key == "min_runs") {
      long long v = 0;
      const std::string text = value.IsScalar() ? value.Scalar() : "";
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (!IsPlain(value) || text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return std::unexpected(Bad(key, "must be a plain integer"));
      }
      h.min_runs = static_cast<int>(std::clamp<long long>(v, 0, kMaxMinRuns + 1));
      continue;
    }
    auto rule = ParseHealthRule(key);
    if (!rule) {
      return Fail(ErrorCode::kInvalidArgument,
                  "health: unknown key " + Quoted(key) +
                      "; expected enabled, min_runs, failure_rate, consecutive_failures, "
                      "average_duration, run_duration, no_success_within, success_rate");
    }
    if (auto ok = ReadYamlThreshold(*rule, value, &h); !ok) return std::unexpected(ok.error());
  }
  if (auto ok = ValidateHealth(h); !ok) return std::unexpected(ok.error());
  return h;
}

}  // namespace internal

Result<HealthSpec> ApplyHealthSettings(HealthSpec health, const std::vector<std::string>& settings) {
  for (const std::string& setting : settings) {
    if (setting == "defaults") {
      health = HealthSpec{};
      continue;
    }
    const size_t eq = setting.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  "health: " + Quoted(setting.substr(0, 64)) + " is not key=value (or defaults)");
    }
    const std::string key = setting.substr(0, eq);
    const std::string value = setting.substr(eq + 1);
    if (value.empty() || value.size() > 64) {
      return std::unexpected(Bad(key.substr(0, 64), "the value must be 1-64 bytes"));
    }
    // The file reader's own rules: a map of one key read as `health:` is.
    Result<HealthSpec> one = [&]() -> Result<HealthSpec> {
      try {
        YAML::Node map(YAML::NodeType::Map);
        map[key] = YAML::Load(value);
        return internal::ReadHealthYaml(map);
      } catch (const YAML::Exception&) {
        return std::unexpected(Bad(key.substr(0, 64), Quoted(value) + " is not a value"));
      }
    }();
    if (!one) return std::unexpected(one.error());
    if (key == "enabled") {
      health.enabled = one->enabled;
    } else if (key == "min_runs") {
      health.min_runs = one->min_runs;
    } else {
      auto rule = ParseHealthRule(key);
      if (!rule) return Fail(ErrorCode::kInvalidArgument, "health: unknown key " + Quoted(key));
      HealthSpec& from = *one;
      ForEachThreshold(health, [&](HealthRule r, auto& t) {
        if (r != *rule) return;
        ForEachThreshold(from, [&](HealthRule r2, auto& u) {
          if constexpr (std::is_same_v<std::decay_t<decltype(t)>, std::decay_t<decltype(u)>>) {
            if (r2 == r) t = u;
          }
        });
      });
    }
  }
  if (auto ok = ValidateHealth(health); !ok) return std::unexpected(ok.error());
  return health;
}

}  // namespace chime::schedule
