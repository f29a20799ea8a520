#include "common/schedule/yaml_payload.h"

#include <nlohmann/json.hpp>

#include <string_view>

namespace chime::schedule::internal {
namespace {

// "64 MiB", or "1000 bytes" when not a whole number of MiB.
std::string ShowBytes(size_t bytes) {
  if (bytes % (size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool LooksLikeJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// One conversion: walks the node tree depth-first, charging the budget as it goes.
class PayloadConverter {
 public:
  explicit PayloadConverter(FileBudget* budget) : budget_(budget) {}

  // The JSON text, or the reason (without "payload: ") it cannot be made.
  Result<std::string> Convert(const YAML::Node& node) {
    nlohmann::json json;
    if (!Visit(node, 0, &json)) return Fail(ErrorCode::kInvalidArgument, reason_);
    try {
      return json.dump();
    } catch (const nlohmann::json::type_error&) {
      return Fail(ErrorCode::kInvalidArgument, "holds text that is not valid UTF-8");
    }
  }

 private:
  // `depth` is the number of enclosing arrays and maps.
  bool Visit(const YAML::Node& node, int depth, nlohmann::json* out) {
    if (budget_->values_used == budget_->limits.max_values) {
      return Refuse("the file's payloads hold more than " + std::to_string(budget_->limits.max_values) +
                    " values in all (aliases expanding?)");
    }
    ++budget_->values_used;
    switch (node.Type()) {
      case YAML::NodeType::Null:
        *out = nullptr;
        return Count(4);
      case YAML::NodeType::Scalar:
        if (!Count(node.Scalar().size() + 2)) return false;
        *out = ScalarValue(node);
        return true;
      case YAML::NodeType::Sequence:
        if (!Enter(depth)) return false;
        *out = nlohmann::json::array();
        for (const YAML::Node& item : node) {
          nlohmann::json value;
          if (!Count(1) || !Visit(item, depth + 1, &value)) return false;
          out->push_back(std::move(value));
        }
        return true;
      case YAML::NodeType::Map:
        if (!Enter(depth)) return false;
        *out = nlohmann::json::object();
        for (const auto& pair : node) {
          const YAML::Node& key = pair.first;
          if (!key.IsScalar()) return Refuse("the map key at " + Where(key.Mark()) + " is not a scalar");
          const std::string& name = key.Scalar();
          if (!Count(name.size() + 4)) return false;
          if (out->contains(name)) {
            return Refuse("duplicate key " + Quoted(name) + " at " + Where(key.Mark()));
          }
          nlohmann::json value;
          if (!Visit(pair.second, depth + 1, &value)) return false;
          (*out)[name] = std::move(value);
        }
        return true;
      case YAML::NodeType::Undefined:
        break;
    }
    return Refuse("holds an undefined value");
  }

  static nlohmann::json ScalarValue(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    if (!IsPlain(node)) return text;
    if (text == "true") return true;
    if (text == "false") return false;
    if (LooksLikeJsonNumber(text)) {
      // Integers beyond 64 bits become doubles, as in nlohmann's own parser;
      // a float beyond double's range stays text.
      nlohmann::json number = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!number.is_discarded()) return number;
    }
    return text;
  }

  bool Enter(int depth) {
    if (depth < kMaxPayloadDepth) return true;
    return Refuse("nested deeper than " + std::to_string(kMaxPayloadDepth) + " levels");
  }

  // Charges `bytes` of JSON text to this payload and to the file.
  bool Count(size_t bytes) {
    bytes_ += bytes;
    if (bytes_ > kMaxPayloadBytes) return Refuse("larger than the 1 MiB limit as JSON");
    if (bytes > budget_->limits.max_text_bytes - budget_->text_used) {
      return Refuse("the file's payloads hold more than " + ShowBytes(budget_->limits.max_text_bytes) +
                    " of text in all (aliases expanding?)");
    }
    budget_->text_used += bytes;
    return true;
  }

  bool Refuse(std::string reason) {
    reason_ = std::move(reason);
    return false;
  }

  FileBudget* budget_;
  size_t bytes_ = 0;
  std::string reason_;
};

}  // namespace

std::string Where(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

bool IsPlain(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

Result<std::string> YamlPayloadToJson(const YAML::Node& node, FileBudget* budget) {
  return PayloadConverter(budget).Convert(node);
}

}  // namespace chime::schedule::internal
