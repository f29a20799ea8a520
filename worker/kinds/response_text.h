// Text from an endpoint's response made fit for a run's error list, on top
// of common/base/utf8.h (RepairUtf8, CutUtf8). Pure; thread-safe.
#pragma once

#include "common/base/utf8.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace chime::worker::kinds {

// One line for an error list: RepairUtf8, then every control character
// (C0, DEL, C1) becomes a space, then cut to `max_bytes` with "..." when
// something was cut.
std::string ErrorLine(std::string_view text, size_t max_bytes);

}  // namespace chime::worker::kinds
