// Reads the `health:` map of a schedule-file entry. Internal to
// common/schedule. Thread-safe (pure).
#pragma once

#include <yaml-cpp/yaml.h>

#include "common/base/error.h"
#include "common/schedule/health_spec.h"

namespace chime::schedule::internal {

// An empty value is the defaults. Unknown or repeated keys, values of the
// wrong type and ValidateHealth failures are InvalidArgument starting with
// "health: <key>: ". Throws only what yaml-cpp throws.
[[nodiscard]] Result<HealthSpec> ReadHealthYaml(const YAML::Node& node);

}  // namespace chime::schedule::internal
