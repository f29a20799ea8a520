#include "worker/kinds/http_response.h"

#include <algorithm>
#include <cctype>

#include "worker/kinds/response_text.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;
using Kind = ResponseVerdict::Kind;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Nesting depth of JSON text, strings skipped; stops counting past `limit`.
int Depth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

bool LooksLikeJson(std::string_view content_type, std::string_view body) {
  if (Lower(content_type).find("json") != std::string::npos) return true;
  const size_t first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (body[first] == '{' || body[first] == '[');
}

// jsonb refuses U+0000 in strings and keys: it becomes U+FFFD.
void ReplaceNul(std::string& s) {
  for (size_t at = s.find('\0'); at != std::string::npos; at = s.find('\0', at)) s.replace(at, 1, "\xEF\xBF\xBD");
}

void Clean(json& value) {
  if (value.is_string()) {
    ReplaceNul(value.get_ref<std::string&>());
  } else if (value.is_array()) {
    for (auto& item : value) Clean(item);
  } else if (value.is_object()) {
    const bool nul_key = std::any_of(value.items().begin(), value.items().end(),
                                     [](const auto& item) { return item.key().find('\0') != std::string::npos; });
    if (nul_key) {
      json rebuilt = json::object();
      for (auto& [key, item] : value.items()) {
        std::string k = key;
        ReplaceNul(k);
        rebuilt[k] = std::move(item);
      }
      value = std::move(rebuilt);
    }
    for (auto& [key, item] : value.items()) Clean(item);
  }
}

// The field `key`, at the payload's pointer when it gives one, else at the
// top level, else under "data". Null when absent.
const json* Field(const json& doc, std::string_view key, const std::optional<std::string>& pointer) {
  if (pointer) {
    try {
      const json::json_pointer p(*pointer);
      return doc.contains(p) ? &doc.at(p) : nullptr;
    } catch (const json::exception&) {
      return nullptr;
    }
  }
  if (!doc.is_object()) return nullptr;
  if (auto it = doc.find(key); it != doc.end()) return &*it;
  if (auto data = doc.find("data"); data != doc.end() && data->is_object()) {
    if (auto it = data->find(key); it != data->end()) return &*it;
  }
  return nullptr;
}

std::string TextOf(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object()) {
    for (const char* key : {"message", "error", "detail"}) {
      if (auto it = value.find(key); it != value.end() && it->is_string()) return it->get<std::string>();
    }
  }
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The body's own word on what went wrong: "error" or "message".
std::string MessageOf(const json& doc) {
  for (const char* key : {"error", "message"}) {
    if (const json* v = Field(doc, key, std::nullopt); v != nullptr && !v->is_null()) {
      return ErrorLine(TextOf(*v), kMaxErrorBytes);
    }
  }
  return "";
}

// Numbers of `object`, added to `counts` unless a name is there already.
void AddNumbers(const json& object, json& counts) {
  if (!object.is_object()) return;
  for (const auto& [key, value] : object.items()) {
    if (value.is_number() && !counts.contains(key)) counts[key] = value;
  }
}

json Counts(const json& doc, const std::optional<std::string>& pointer) {
  json counts = json::object();
  if (pointer) {
    if (const json* c = Field(doc, "counts", pointer); c != nullptr) AddNumbers(*c, counts);
    return counts;
  }
  if (!doc.is_object()) return counts;
  AddNumbers(doc, counts);
  if (auto it = doc.find("summary"); it != doc.end()) AddNumbers(*it, counts);
  if (auto data = doc.find("data"); data != doc.end() && data->is_object()) {
    AddNumbers(*data, counts);
    if (auto it = data->find("summary"); it != data->end()) AddNumbers(*it, counts);
  }
  return counts;
}

// The "errors" items as error lines (the first 100), and how many there were.
std::vector<std::string> ErrorItems(const json* errors, size_t* total) {
  std::vector<std::string> out;
  *total = 0;
  if (errors == nullptr || !errors->is_array()) return out;
  *total = errors->size();
  for (const auto& item : *errors) {
    if (out.size() == kMaxResponseErrors) break;
    out.push_back(ErrorLine(TextOf(item), kMaxErrorBytes));
  }
  return out;
}

json Excerpt(std::string_view text, uint64_t bytes, size_t max) {
  return {{"truncated", true}, {"bytes", bytes}, {"excerpt", std::string(CutUtf8(text, max))}};
}

ResponseVerdict Failed(std::vector<std::string> errors, bool retryable, json fields) {
  return {.kind = Kind::kFailed, .retryable = retryable, .errors = std::move(errors), .fields = std::move(fields)};
}

bool Expected(const payload::HttpRequestPayload& request, int status) {
  if (request.expect_status.empty()) return status >= 200 && status < 300;
  return std::find(request.expect_status.begin(), request.expect_status.end(), status) !=
         request.expect_status.end();
}

}  // namespace

ResponseVerdict JudgeResponse(const ResponseInput& in, const payload::HttpRequestPayload& request,
                              std::string_view where) {
  // Valid UTF-8, and no raw NUL: jsonb refuses U+0000 even escaped (a raw
  // NUL is not JSON anyway, so a JSON body reads the same).
  std::string text = RepairUtf8(in.body);
  ReplaceNul(text);
  json fields = {{"httpStatus", in.status},
                 {"contentType", ErrorLine(in.content_type, 200)},
                 {"responseBytes", in.body_bytes},
                 {"responseComplete", in.body_complete}};
  const std::string answered = std::string(where) + " answered HTTP " + std::to_string(in.status);
  const bool expected = Expected(request, in.status);

  json doc = json(json::value_t::discarded);
  if (LooksLikeJson(in.content_type, text)) {
    if (in.body_complete && Depth(text, kMaxResponseDepth) <= kMaxResponseDepth) {
      doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    }
    if (!doc.is_discarded()) {
      Clean(doc);
      const std::string dumped = doc.dump(-1, ' ', false, json::error_handler_t::replace);
      fields["response"] = dumped.size() <= kMaxResponseJsonBytes ? doc : Excerpt(dumped, in.body_bytes,
                                                                                   kMaxResponseJsonBytes);
    } else {
      // Cut at the cap, too deep, or not JSON after all: kept as text.
      fields["response"] = Excerpt(text, in.body_bytes, kMaxResponseJsonBytes);
    }
  }
  if (doc.is_discarded()) {
    if (!fields.contains("response")) {
      fields["bodyExcerpt"] = std::string(CutUtf8(text, kBodyExcerptBytes));
      fields["bodyTruncated"] = !in.body_complete || text.size() > kBodyExcerptBytes;
    }
    if (expected) return {.kind = Kind::kSucceeded, .fields = std::move(fields)};
    return Failed({answered}, request.retry_on.RetriesStatus(in.status), std::move(fields));
  }

  const auto& map = request.response;
  json counts = Counts(doc, map.counts);
  if (!counts.empty()) fields["counts"] = counts;
  size_t error_total = 0;
  std::vector<std::string> items = ErrorItems(Field(doc, "errors", map.errors), &error_total);
  if (error_total > 0) fields["errorCount"] = error_total;
  const std::string message = MessageOf(doc);

  if (!expected) {
    std::vector<std::string> errors{answered + (message.empty() ? "" : ": " + message)};
    errors.insert(errors.end(), items.begin(), items.end());
    return Failed(std::move(errors), request.retry_on.RetriesStatus(in.status), std::move(fields));
  }
  if (const json* skipped = Field(doc, "skipped", map.skipped); skipped != nullptr && *skipped == true) {
    std::string reason = "skipped by the endpoint";
    if (const json* r = Field(doc, "reason", map.reason); r != nullptr && !r->is_null()) {
      reason = ErrorLine(TextOf(*r), kMaxErrorBytes);
    }
    return {.kind = Kind::kSkipped, .skip_reason = std::move(reason), .fields = std::move(fields)};
  }
  const json* success = Field(doc, "success", map.success);
  const json* status = Field(doc, "status", map.status);
  const std::string status_text = status != nullptr && status->is_string() ? Lower(status->get<std::string>()) : "";
  if ((success != nullptr && *success == false) || status_text == "failed" || status_text == "error") {
    std::string head = std::string(where) + ": the endpoint reported failure";
    if (!status_text.empty()) head += " (status \"" + status_text + "\")";
    if (!message.empty()) head += ": " + message;
    std::vector<std::string> errors{ErrorLine(head, kMaxErrorBytes)};
    errors.insert(errors.end(), items.begin(), items.end());
    return Failed(std::move(errors), request.retry_on.failure_body, std::move(fields));
  }
  if (!items.empty()) return {.kind = Kind::kPartial, .errors = std::move(items), .fields = std::move(fields)};
  if (status_text == "partial") {
    std::string line = "the endpoint reported status \"partial\"";
    if (!message.empty()) line += ": " + message;
    return {.kind = Kind::kPartial, .errors = {ErrorLine(line, kMaxErrorBytes)}, .fields = std::move(fields)};
  }
  return {.kind = Kind::kSucceeded, .fields = std::move(fields)};
}

}  // namespace chime::worker::kinds
