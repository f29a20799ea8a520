// Settings read from the environment either as NAME=value or as
// NAME_FILE=/path, a file holding the value, the way Docker and Kubernetes
// mount secrets. Errors name the variable and the path, never the value.
#pragma once

#include <optional>
#include <string>

#include "common/base/error.h"

namespace chime {

// The value of `name` (e.g. "CHIME_DATABASE_URL") or the contents of the file
// named by `name` + "_FILE", without one trailing newline (LF or CRLF).
// Neither set (or empty): nullopt. Both set, or an unreadable or empty file:
// InvalidArgument.
[[nodiscard]] Result<std::optional<std::string>> EnvSetting(const std::string& name);

}  // namespace chime
