// Turns the YAML `payload` of a schedule-file entry into JSON text, within a
// budget the whole file shares so that aliases cannot blow up. Internal to
// common/schedule. Thread-compatible (a FileBudget belongs to one parse).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>

#include "common/base/error.h"
#include "common/schedule/schedule_limits.h"

namespace chime::schedule::internal {

// What the file's payloads have cost so far, against its limits.
struct FileBudget {
  const FileLimits& limits;
  size_t values_used = 0;
  size_t text_used = 0;
};

// "line 3, column 5" (1-based; yaml-cpp marks are 0-based), or "" for no mark.
std::string Where(const YAML::Mark& mark);

// A plain scalar is one written without quotes or an explicit tag.
bool IsPlain(const YAML::Node& node);

// The JSON text of `node`: a plain scalar that is a JSON number, true or
// false becomes that; null, ~ and an empty value become null; every other
// scalar, quoted or tagged, is a string. Maps need unique scalar keys. Fails
// (InvalidArgument, the reason without "payload: ") past kMaxPayloadDepth
// nested arrays and maps, past kMaxPayloadBytes of JSON, when the file's
// budget is spent, or on text that is not UTF-8. Charges `budget` for what it
// converted, also when it fails. Throws only what yaml-cpp throws.
Result<std::string> YamlPayloadToJson(const YAML::Node& node, FileBudget* budget);

}  // namespace chime::schedule::internal
