// Chime's version, defined once: the CMake project version (CMakeLists.txt),
// compiled into version.cc by configure_file. Every binary's --version,
// /healthz, the worker's hello (jobctl workers, chime.workers), the HTTP
// client's User-Agent and /metrics' chime_build_info say this string.
#pragma once

#include <string>
#include <string_view>

namespace chime {

// "0.1.0": major.minor.patch.
std::string_view Version();

// What `--version` prints: "<program> <version>", e.g. "jobctl 0.1.0".
std::string VersionLine(std::string_view program);

// "chime/0.1.0": the User-Agent of Chime's outbound HTTP requests.
std::string UserAgent();

}  // namespace chime
