#include "common/base/env_setting.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace chime {

Result<std::optional<std::string>> EnvSetting(const std::string& name) {
  const std::string file_var = name + "_FILE";
  const char* value = std::getenv(name.c_str());
  const char* file = std::getenv(file_var.c_str());
  const bool has_value = value != nullptr && *value != '\0';
  const bool has_file = file != nullptr && *file != '\0';
  if (has_value && has_file) {
    return Fail(ErrorCode::kInvalidArgument, "set " + name + " or " + file_var + ", not both");
  }
  if (has_value) return std::optional<std::string>(value);
  if (!has_file) return std::optional<std::string>();

  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInvalidArgument, file_var + ": cannot read " + file);
  std::ostringstream text;
  text << in.rdbuf();
  std::string contents = text.str();
  if (contents.ends_with("\r\n")) {
    contents.resize(contents.size() - 2);
  } else if (contents.ends_with('\n')) {
    contents.pop_back();
  }
  if (contents.empty()) return Fail(ErrorCode::kInvalidArgument, file_var + ": " + file + " is empty");
  return std::optional<std::string>(std::move(contents));
}

}  // namespace chime
