// Process-wide logging setup on spdlog. Call InitLogging once from main().
#pragma once

#include <string_view>

namespace chime {

// Sets the default spdlog logger to stderr with the given level
// ("trace".."off"); an unknown level returns false and leaves the default.
bool InitLogging(std::string_view process_name, std::string_view level);

}  // namespace chime
