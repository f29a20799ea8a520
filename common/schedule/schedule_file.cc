// The YAML schedule file: ParseScheduleFile, LoadScheduleFile, FormatProblems;
// and the `limits:` of a kinds file, read by the same code.
// yaml-cpp throws; every exception is caught here and becomes an Error.
#include "common/schedule/schedule_spec.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <unordered_set>

#include "common/base/text_format.h"
#include "common/schedule/health_yaml.h"
#include "common/schedule/schedule_limits.h"
#include "common/schedule/yaml_payload.h"

namespace chime::schedule {
namespace {

using internal::FileBudget;
using internal::IsPlain;
using internal::Quoted;
using internal::Where;

// A schedule file larger than this is refused before parsing.
constexpr size_t kMaxFileBytes = size_t{4} << 20;
// A string field longer than this is refused without copying it (an alias can
// name one long scalar from every entry). Every real limit is below it.
constexpr size_t kMaxFieldBytes = 1024;
// An entry has 14 keys at most; a bigger map is refused without reading it.
constexpr size_t kMaxEntryKeys = 32;

// "FILE:3:5: message", or "FILE: message" without a position.
Error FileError(std::string_view source, const YAML::Mark& mark, std::string_view message) {
  std::string text(source);
  if (!mark.is_null()) text += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  return Error{ErrorCode::kInvalidArgument, text + ": " + std::string(message)};
}

Result<void> Bad(std::string_view field, std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::string(field) + ": " + message);
}

// The text of a scalar field (name, cron, time_zone, kind, queue, overlap, misfire).
Result<void> ReadString(std::string_view field, const YAML::Node& node, std::string* out) {
  if (node.IsNull()) return Bad(field, "has no value");
  if (!node.IsScalar()) return Bad(field, "must be a string");
  if (node.Scalar().size() > kMaxFieldBytes) {
    return Bad(field, "is longer than " + std::to_string(kMaxFieldBytes) + " bytes");
  }
  *out = node.Scalar();
  return {};
}

Result<void> ReadInt(std::string_view field, const YAML::Node& node, int lo, int hi, int* out) {
  if (node.IsNull()) return Bad(field, "has no value");
  if (!IsPlain(node)) {
    if (node.IsScalar()) {
      return Bad(field, "must be a plain integer, not the string " + Quoted(node.Scalar()));
    }
    return Bad(field, "must be an integer");
  }
  const std::string& text = node.Scalar();
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || end != text.data() + text.size()) {
    return Bad(field, Quoted(text) + " is not an integer");
  }
  if (ec == std::errc::result_out_of_range || value < lo || value > hi) {
    return Bad(field, OneLine(text, internal::kMaxEchoChars) + " is out of range " + std::to_string(lo) +
                          "-" + std::to_string(hi));
  }
  *out = static_cast<int>(value);
  return {};
}

Result<void> ReadDuration(std::string_view field, const YAML::Node& node, std::chrono::milliseconds* out) {
  std::string text;
  if (auto ok = ReadString(field, node, &text); !ok) return ok;
  if (!text.empty() && text != "0" && text.find_first_not_of("0123456789") == std::string::npos) {
    const std::string number = OneLine(text, internal::kMaxEchoChars);
    return Bad(field, number + " needs a unit, e.g. " + number + "s");
  }
  auto duration = ParseDuration(text);
  if (!duration) return Bad(field, duration.error().message);
  *out = *duration;
  return {};
}

Result<void> ReadBool(std::string_view field, const YAML::Node& node, bool* out) {
  if (node.IsNull()) return Bad(field, "has no value");
  if (IsPlain(node) && (node.Scalar() == "true" || node.Scalar() == "false")) {
    *out = node.Scalar() == "true";
    return {};
  }
  if (node.IsScalar()) return Bad(field, Quoted(node.Scalar()) + " must be true or false");
  return Bad(field, "must be true or false");
}

// Reads one entry of the list. Stops at its first problem.
// Calls read(key, value) for each key of a map entry, in file order; a key
// that is not a string, or one given twice, is an error. Answers the keys.
Result<std::unordered_set<std::string>> ForEachKey(
    const YAML::Node& entry, const std::function<Result<void>(const std::string&, const YAML::Node&)>& read) {
  std::unordered_set<std::string> seen;
  for (const auto& pair : entry) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) {
      return Fail(ErrorCode::kInvalidArgument, "the key at " + Where(key.Mark()) + " is not a string");
    }
    const std::string& name = key.Scalar();
    if (!seen.insert(name).second) return Fail(ErrorCode::kInvalidArgument, "duplicate key " + Quoted(name));
    if (auto ok = read(name, pair.second); !ok) return std::unexpected(ok.error());
  }
  return seen;
}

class EntryReader {
 public:
  explicit EntryReader(FileBudget* budget) : budget_(budget) {}

  Result<ScheduleSpec> Read(const YAML::Node& entry) {
    if (!entry.IsMap()) {
      return Fail(ErrorCode::kInvalidArgument, "an entry must be a map with name, cron and kind");
    }
    if (entry.size() > kMaxEntryKeys) {
      return Fail(ErrorCode::kInvalidArgument,
                  "has " + std::to_string(entry.size()) + " keys; a schedule has 14");
    }
    ScheduleSpec spec;
    auto seen = ForEachKey(entry, [&](const std::string& name, const YAML::Node& value) {
      return ReadField(name, value, &spec);
    });
    if (!seen) return std::unexpected(seen.error());
    for (std::string_view required : {"name", "cron", "kind"}) {
      if (!seen->contains(std::string(required))) return std::unexpected(Bad(required, "is required").error());
    }
    return spec;
  }

 private:
  Result<void> ReadField(const std::string& key, const YAML::Node& value, ScheduleSpec* spec) {
    if (key == "name") return ReadString(key, value, &spec->name);
    if (key == "cron") return ReadString(key, value, &spec->cron);
    if (key == "time_zone") return ReadString(key, value, &spec->time_zone);
    if (key == "kind") return ReadString(key, value, &spec->kind);
    if (key == "queue") return ReadString(key, value, &spec->queue);
    if (key == "payload") {
      auto json = internal::YamlPayloadToJson(value, budget_);
      if (!json) return Bad(key, json.error().message);
      spec->payload = std::move(*json);
      return {};
    }
    if (key == "priority") {
      return ReadInt(key, value, internal::kMinPriority, internal::kMaxPriority, &spec->priority);
    }
    if (key == "max_attempts") {
      return ReadInt(key, value, internal::kMinAttempts, internal::kMaxAttempts, &spec->max_attempts);
    }
    if (key == "timeout") {
      std::chrono::milliseconds timeout{0};
      if (auto ok = ReadDuration(key, value, &timeout); !ok) return ok;
      spec->timeout = timeout;
      return {};
    }
    if (key == "jitter") return ReadDuration(key, value, &spec->jitter);
    if (key == "overlap") {
      std::string text;
      if (auto ok = ReadString(key, value, &text); !ok) return ok;
      auto policy = ParseOverlapPolicy(text);
      if (!policy) return Bad(key, Quoted(text) + " is not one of skip, allow, buffer_one, cancel_running");
      spec->overlap = *policy;
      return {};
    }
    if (key == "misfire") {
      std::string text;
      if (auto ok = ReadString(key, value, &text); !ok) return ok;
      auto policy = ParseMisfirePolicy(text);
      if (!policy) return Bad(key, Quoted(text) + " is not one of skip, run_once, run_all");
      spec->misfire = *policy;
      return {};
    }
    if (key == "paused") return ReadBool(key, value, &spec->paused);
    if (key == "health") {
      auto health = internal::ReadHealthYaml(value);
      if (!health) return std::unexpected(health.error());
      spec->health = std::move(*health);
      return {};
    }
    return Fail(ErrorCode::kInvalidArgument, "unknown key " + Quoted(key));
  }

  FileBudget* budget_;
};

// One entry of `limits:`.
Result<LimitSpec> ReadLimit(const YAML::Node& entry) {
  if (!entry.IsMap()) {
    return Fail(ErrorCode::kInvalidArgument, "a limit must be a map with name and concurrency and/or rate");
  }
  LimitSpec spec;
  auto seen = ForEachKey(entry, [&](const std::string& name, const YAML::Node& value) -> Result<void> {
    auto text = [&](std::optional<std::string>* out) -> Result<void> {
      std::string read;
      if (auto ok = ReadString(name, value, &read); !ok) return ok;
      *out = std::move(read);
      return {};
    };
    if (name == "name") return ReadString(name, value, &spec.name);
    if (name == "queue") return text(&spec.queue);
    if (name == "kind") return text(&spec.kind);
    if (name == "partition_by") return text(&spec.partition_by);
    if (name == "concurrency") {
      int n = 0;
      if (auto ok = ReadInt(name, value, 1, 1'000'000, &n); !ok) return ok;
      spec.concurrency = n;
      return {};
    }
    if (name == "rate") {
      std::string read;
      if (auto ok = ReadString(name, value, &read); !ok) return ok;
      auto rate = ParseLimitRate(read);
      if (!rate) return std::unexpected(rate.error());
      spec.rate = *rate;
      return {};
    }
    return Fail(ErrorCode::kInvalidArgument,
                "unknown key " + Quoted(name) + "; a limit has name, queue, kind, partition_by, concurrency, rate");
  });
  if (!seen) return std::unexpected(seen.error());
  if (!seen->contains("name")) return std::unexpected(Bad("name", "is required").error());
  if (auto ok = Validate(spec); !ok) return std::unexpected(ok.error());
  return spec;
}

// The entry's name for its Problem: "" when it has none that is a string.
std::string EntryName(const YAML::Node& entry) {
  if (!entry.IsMap() || entry.size() > kMaxEntryKeys) return "";
  for (const auto& pair : entry) {
    if (pair.first.IsScalar() && pair.first.Scalar() == "name") {
      if (!pair.second.IsScalar()) return "";
      const std::string& name = pair.second.Scalar();
      // A name too long to be valid is kept only as far as messages show it.
      return name.size() <= internal::kMaxTokenBytes ? name : OneLine(name, internal::kMaxEchoChars);
    }
  }
  return "";
}

// A `limits:` list (null: none), a schedule file's or a kinds file's: the
// good entries to `limits`, one problem per bad one to `problems`.
void ReadLimits(const YAML::Node& list, std::vector<LimitSpec>* limits, std::vector<Problem>* problems) {
  std::unordered_set<std::string> names;
  size_t index = 0;
  for (const YAML::Node& entry : list) {
    Problem problem{.index = index++, .limit = true, .name = EntryName(entry)};
    auto spec = ReadLimit(entry);
    const bool duplicate = !problem.name.empty() && !names.insert(problem.name).second;
    if (spec && duplicate) {
      spec = std::unexpected(Bad("name", Quoted(problem.name) + " is used by an earlier limit").error());
    }
    if (spec) {
      limits->push_back(std::move(*spec));
    } else {
      problem.message = std::move(spec.error().message);
      problems->push_back(std::move(problem));
    }
  }
}

// The top level of a schedule file: its `schedules` list and the optional
// `remove` list.
struct TopLevel {
  YAML::Node schedules;
  YAML::Node remove;  // Null when absent.
  YAML::Node limits;  // Null when absent.
};

// An empty file, or `schedules:` without a value, is what a truncated file
// or an empty ConfigMap looks like: refused, so that it cannot stand for
// "no schedules". `schedules: []` says that on purpose.
constexpr std::string_view kSayNone = "write \"schedules: []\" to keep no schedules from this file";

// The top level of the single document. Throws what yaml-cpp throws.
Result<TopLevel> ReadTopLevel(const std::string& text, std::string_view source) {
  const std::vector<YAML::Node> documents = YAML::LoadAll(text);
  if (documents.size() > 1) {
    return std::unexpected(
        FileError(source, documents[1].Mark(),
                  "holds " + std::to_string(documents.size()) + " YAML documents; a schedule file has one"));
  }
  if (documents.empty() || documents[0].IsNull()) {
    return std::unexpected(FileError(source, YAML::Mark::null_mark(),
                                     "the file is empty (truncated?); nothing was changed; " + std::string(kSayNone)));
  }
  const YAML::Node& top = documents[0];
  if (!top.IsMap()) {
    return std::unexpected(
        FileError(source, top.Mark(), "the top level must be a map with a \"schedules\" list"));
  }
  TopLevel out;
  bool found = false, found_remove = false, found_limits = false;
  for (const auto& pair : top) {
    const YAML::Node& key = pair.first;
    const bool schedules = key.IsScalar() && key.Scalar() == "schedules";
    const bool remove = key.IsScalar() && key.Scalar() == "remove";
    const bool limits = key.IsScalar() && key.Scalar() == "limits";
    if (!schedules && !remove && !limits) {
      const std::string shown = key.IsScalar() ? Quoted(key.Scalar()) : "that is not a string";
      return std::unexpected(FileError(
          source, key.Mark(), "unknown top-level key " + shown + "; expected \"schedules\", \"remove\" and \"limits\""));
    }
    bool& seen = schedules ? found : remove ? found_remove : found_limits;
    if (seen) return std::unexpected(FileError(source, key.Mark(), "duplicate key " + Quoted(key.Scalar())));
    seen = true;
    (schedules ? out.schedules : remove ? out.remove : out.limits) = pair.second;
  }
  if (!found) {
    return std::unexpected(
        FileError(source, top.Mark(), "the top level must be a map with a \"schedules\" list"));
  }
  if (out.schedules.IsNull()) {
    return std::unexpected(FileError(source, out.schedules.Mark(),
                                     "\"schedules\" has no value (truncated?); nothing was changed; " +
                                         std::string(kSayNone)));
  }
  if (!out.schedules.IsSequence()) {
    return std::unexpected(FileError(source, out.schedules.Mark(), "\"schedules\" must be a list"));
  }
  if (found_limits && !out.limits.IsNull() && !out.limits.IsSequence()) {
    return std::unexpected(FileError(source, out.limits.Mark(), "\"limits\" must be a list of limits"));
  }
  if (found_remove && !out.remove.IsNull() && !out.remove.IsSequence()) {
    return std::unexpected(FileError(source, out.remove.Mark(), "\"remove\" must be a list of schedule names"));
  }
  return out;
}

// The `remove` list: names of file schedules to delete. Each a schedule
// name, listed once, and not also under `schedules`.
Result<std::vector<std::string>> ReadRemove(const YAML::Node& list, const std::vector<ScheduleSpec>& kept,
                                            const std::vector<Problem>& problems, std::string_view source) {
  std::vector<std::string> out;
  if (list.IsNull()) return out;
  std::unordered_set<std::string> seen;
  for (const YAML::Node& item : list) {
    if (!item.IsScalar()) {
      return std::unexpected(FileError(source, item.Mark(), "remove: each entry must be a schedule name"));
    }
    const std::string& name = item.Scalar();
    if (auto ok = internal::CheckScheduleName("remove", name); !ok) {
      return std::unexpected(FileError(source, item.Mark(), ok.error().message));
    }
    if (!seen.insert(name).second) {
      return std::unexpected(FileError(source, item.Mark(), "remove: " + Quoted(name) + " is listed twice"));
    }
    const auto listed = [&](const std::string& other) { return other == name; };
    if (std::ranges::any_of(kept, [&](const ScheduleSpec& s) { return listed(s.name); }) ||
        std::ranges::any_of(problems, [&](const Problem& p) { return !p.limit && listed(p.name); })) {
      return std::unexpected(FileError(source, item.Mark(),
                                       "remove: " + Quoted(name) + " is also listed under \"schedules\""));
    }
    out.push_back(name);
  }
  return out;
}

Result<ParsedFile> ParseFile(std::string_view yaml_text, std::string_view source,
                             cron::ParseOptions cron_options, const internal::FileLimits& limits) {
  auto top = ReadTopLevel(std::string(yaml_text), source);
  if (!top) return std::unexpected(top.error());
  const YAML::Node& list = top->schedules;
  ParsedFile parsed;

  FileBudget budget{.limits = limits};
  EntryReader reader(&budget);
  std::unordered_set<std::string> names;
  size_t index = 0;
  for (const YAML::Node& entry : list) {
    Problem problem{.index = index++, .name = EntryName(entry)};
    auto spec = reader.Read(entry);
    if (spec) {
      if (auto ok = Validate(*spec, cron_options); !ok) spec = std::unexpected(ok.error());
    }
    // Every entry's name counts, good or bad: a later one reusing it is a duplicate.
    const bool duplicate = problem.name.size() <= internal::kMaxTokenBytes && !problem.name.empty() &&
                           !names.insert(problem.name).second;
    if (spec && duplicate) {
      spec = std::unexpected(Bad("name", Quoted(problem.name) + " is used by an earlier entry").error());
    }
    if (spec) {
      parsed.schedules.push_back(std::move(*spec));
    } else {
      problem.message = std::move(spec.error().message);
      parsed.problems.push_back(std::move(problem));
    }
  }
  ReadLimits(top->limits, &parsed.limits, &parsed.problems);
  auto remove = ReadRemove(top->remove, parsed.schedules, parsed.problems, source);
  if (!remove) return std::unexpected(remove.error());
  parsed.remove = std::move(*remove);
  return parsed;
}

// A kinds file's `limits:`; the rest of the file is the worker's. Throws
// what yaml-cpp throws.
Result<ParsedLimits> ParseKindsLimits(const std::string& text, std::string_view source) {
  ParsedLimits parsed;
  const YAML::Node top = YAML::Load(text);
  if (top.IsNull()) return parsed;  // An empty kinds file: the defaults, no limits.
  if (!top.IsMap()) return std::unexpected(FileError(source, top.Mark(), "the top level must be a map"));
  YAML::Node list;  // Null: no limits.
  bool found = false;
  for (const auto& pair : top) {
    if (!pair.first.IsScalar() || pair.first.Scalar() != "limits") continue;
    if (found) return std::unexpected(FileError(source, pair.first.Mark(), "duplicate key \"limits\""));
    found = true;
    list = pair.second;
  }
  if (list.IsNull()) return parsed;
  if (!list.IsSequence()) return std::unexpected(FileError(source, list.Mark(), "\"limits\" must be a list of limits"));
  ReadLimits(list, &parsed.limits, &parsed.problems);
  return parsed;
}

Result<std::string> ReadFile(const std::string& path) {
  const auto fail = [&](int error) {
    return Fail(ErrorCode::kInvalidArgument,
                path + ": cannot read: " + std::generic_category().message(error));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return fail(errno);
  std::string text;
  char buffer[64 * 1024];
  while (text.size() <= kMaxFileBytes) {
    const size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, n);
    if (n < sizeof buffer) {
      if (std::ferror(file.get())) return fail(errno);
      break;
    }
  }
  return text;
}

Error TooLarge(std::string_view source, std::string_view what = "a schedule file") {
  return Error{ErrorCode::kInvalidArgument, std::string(source) + ": larger than the " +
                                                std::to_string(kMaxFileBytes >> 20) + " MiB limit for " +
                                                std::string(what)};
}

// Runs parse, turning whatever yaml-cpp (or memory) throws into an error
// naming the file.
template <typename T, typename F>
Result<T> Guarded(std::string_view source, F&& parse) {
  try {
    return parse();
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own guard against stack exhaustion; its message is "bad file".
    return std::unexpected(FileError(source, e.mark, "nested too deeply"));
  } catch (const YAML::Exception& e) {
    return std::unexpected(FileError(source, e.mark, OneLine(e.msg, 200)));
  } catch (const std::bad_alloc&) {
    return std::unexpected(FileError(source, YAML::Mark::null_mark(), "out of memory while reading"));
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, std::string(source) + ": " + e.what());
  } catch (...) {
    return Fail(ErrorCode::kInternal, std::string(source) + ": unknown exception while reading");
  }
}

// The file's text, refused over kMaxFileBytes.
Result<std::string> ReadBoundedFile(const std::string& path, std::string_view what) {
  Result<std::string> text;
  try {
    text = ReadFile(path);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, path + ": cannot read: " + e.what());
  }
  if (!text) return std::unexpected(text.error());
  if (text->size() > kMaxFileBytes) return std::unexpected(TooLarge(path, what));
  return text;
}

}  // namespace

namespace internal {

Result<ParsedFile> ParseScheduleFile(std::string_view yaml_text, std::string_view source,
                                     cron::ParseOptions cron_options, const FileLimits& limits) {
  if (yaml_text.size() > kMaxFileBytes) return std::unexpected(TooLarge(source));
  return Guarded<ParsedFile>(source, [&] { return ParseFile(yaml_text, source, cron_options, limits); });
}

}  // namespace internal

Result<ParsedFile> ParseScheduleFile(std::string_view yaml_text, std::string_view source,
                                     cron::ParseOptions cron_options) {
  return internal::ParseScheduleFile(yaml_text, source, cron_options, internal::FileLimits{});
}

Result<ParsedFile> LoadScheduleFile(const std::string& path, cron::ParseOptions cron_options) {
  auto text = ReadBoundedFile(path, "a schedule file");
  if (!text) return std::unexpected(text.error());
  return ParseScheduleFile(*text, path, cron_options);
}

Result<ParsedLimits> ParseKindsFileLimits(std::string_view yaml_text, std::string_view source) {
  if (yaml_text.size() > kMaxFileBytes) return std::unexpected(TooLarge(source, "a kinds file"));
  return Guarded<ParsedLimits>(source, [&] { return ParseKindsLimits(std::string(yaml_text), source); });
}

Result<ParsedLimits> LoadKindsFileLimits(const std::string& path) {
  auto text = ReadBoundedFile(path, "a kinds file");
  if (!text) return std::unexpected(text.error());
  return ParseKindsFileLimits(*text, path);
}

Result<std::vector<LimitSpec>> CombineFileLimits(std::string_view a_source, const std::vector<LimitSpec>& a,
                                                 std::string_view b_source, const std::vector<LimitSpec>& b) {
  std::unordered_set<std::string> names;
  for (const LimitSpec& spec : a) names.insert(spec.name);
  for (const LimitSpec& spec : b) {
    if (names.contains(spec.name)) {
      return Fail(ErrorCode::kInvalidArgument, "limit " + Quoted(spec.name) + " is declared in both " +
                                                   std::string(a_source) + " and " + std::string(b_source) +
                                                   "; declare it in one");
    }
  }
  std::vector<LimitSpec> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::string FormatProblems(std::string_view source, const std::vector<Problem>& problems) {
  std::string out;
  for (const Problem& problem : problems) {
    if (!out.empty()) out += '\n';
    out += std::string(source) + (problem.limit ? ": limits entry " : ": entry ") + std::to_string(problem.index);
    if (!problem.name.empty()) out += " (" + OneLine(problem.name, internal::kMaxEchoChars) + ")";
    out += ": " + OneLine(problem.message, 512);
  }
  return out;
}

}  // namespace chime::schedule
