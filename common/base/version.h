// The version every Chime binary reports: in a worker's hello
// ("chime-worker 0.1") and in outbound requests' User-Agent ("chime/0.1").
#pragma once

#include <string_view>

namespace chime {

inline constexpr std::string_view kVersion = "0.1";

}  // namespace chime
