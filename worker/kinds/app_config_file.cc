// ParseAppConfig / LoadAppConfig: the worker's kinds file (YAML). The format
// is documented by example in deploy/kinds.example.yaml.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "common/base/text_format.h"
#include "common/http/address_policy.h"
#include "common/http/client.h"
#include "common/http/secret_ref.h"
#include "common/schedule/schedule_spec.h"
#include "worker/kinds/app_config.h"

namespace chime::worker::kinds {
namespace {

// A kinds file larger than this is refused before parsing: it holds a few
// dozen names, so anything near this is a mistake.
constexpr size_t kMaxFileBytes = size_t{1} << 20;
// PostgreSQL truncates longer identifiers silently (NAMEDATALEN - 1).
constexpr size_t kMaxIdentifierBytes = 63;
constexpr size_t kMaxProviderNameBytes = 64;
constexpr size_t kMaxUrlBytes = 2048;
constexpr auto kMaxTimeout = std::chrono::minutes(10);

Result<void> Bad(const std::string& path, std::string message) {
  return Fail(ErrorCode::kInvalidArgument, path + ": " + message);
}

std::string Child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// Every key of `map` must be a distinct scalar among `allowed`: a misspelt
// key would otherwise leave a default in place without a word.
Result<void> CheckKeys(const std::string& path, const YAML::Node& map,
                       std::initializer_list<std::string_view> allowed) {
  std::set<std::string, std::less<>> seen;
  for (const auto& pair : map) {
    if (!pair.first.IsScalar()) return Bad(path.empty() ? "(top level)" : path, "keys must be strings");
    const std::string& key = pair.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Bad(Child(path, key), "unknown key (expected one of: " + list + ")");
    }
    if (!seen.insert(key).second) return Bad(Child(path, key), "appears twice");
  }
  return {};
}

Result<void> RequireMap(const std::string& path, const YAML::Node& node) {
  if (!node.IsMap()) return Bad(path, "must be a map");
  return {};
}

Result<std::string> ReadString(const std::string& path, const YAML::Node& node) {
  if (node.IsNull()) return std::unexpected(Error{ErrorCode::kInvalidArgument, path + ": has no value"});
  if (!node.IsScalar()) return std::unexpected(Error{ErrorCode::kInvalidArgument, path + ": must be a string"});
  return node.Scalar();
}

bool IsIdentifier(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdentifierBytes) return false;
  if (!(std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_')) return false;
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// A column: one identifier. A table: an identifier, optionally "schema.table".
Result<void> ReadIdentifier(const std::string& path, const YAML::Node& node, bool table,
                            std::string* out) {
  auto text = ReadString(path, node);
  if (!text) return std::unexpected(text.error());
  const auto dot = text->find('.');
  const bool ok = (table && dot != std::string::npos)
                      ? IsIdentifier(std::string_view(*text).substr(0, dot)) &&
                            IsIdentifier(std::string_view(*text).substr(dot + 1))
                      : IsIdentifier(*text);
  if (!ok) {
    return Bad(path, "\"" + OneLine(*text, 80) + "\" is not " +
                         (table ? "a table name ([schema.]name" : "a column name (name") +
                         ", each name [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)");
  }
  *out = *text;
  return {};
}

// One configurable name of a table struct: its key in the file, where it
// lives, and whether it is a table (may be schema-qualified).
template <typename Tables>
struct NameField {
  std::string_view key;
  std::string Tables::*member;
  bool table;
};

template <typename Tables, size_t N>
Result<void> ReadNames(const std::string& path, const YAML::Node& node,
                       const NameField<Tables> (&fields)[N], Tables* out) {
  if (auto ok = RequireMap(path, node); !ok) return ok;
  for (const auto& pair : node) {
    if (!pair.first.IsScalar()) return Bad(path, "keys must be strings");
    const auto* field = std::find_if(std::begin(fields), std::end(fields),
                                     [&](const auto& f) { return f.key == pair.first.Scalar(); });
    if (field == std::end(fields)) {
      std::string list;
      for (const auto& f : fields) list += (list.empty() ? "" : ", ") + std::string(f.key);
      return Bad(Child(path, pair.first.Scalar()), "unknown key (expected one of: " + list + ")");
    }
    const std::string field_path = Child(path, field->key);
    if (auto ok = ReadIdentifier(field_path, pair.second, field->table, &(out->*(field->member))); !ok) {
      return ok;
    }
  }
  // Duplicates are caught after the fact so the message names the key.
  std::set<std::string, std::less<>> seen;
  for (const auto& pair : node) {
    if (!seen.insert(pair.first.Scalar()).second) return Bad(Child(path, pair.first.Scalar()), "appears twice");
  }
  return {};
}

constexpr NameField<IntegrationTables> kIntegrationFields[] = {
    {"users", &IntegrationTables::users, true},
    {"user_id", &IntegrationTables::user_id, false},
    {"user_active", &IntegrationTables::user_active, false},
    {"integrations", &IntegrationTables::integrations, true},
    {"integration_user_id", &IntegrationTables::integration_user_id, false},
    {"provider", &IntegrationTables::provider, false},
    {"integration_active", &IntegrationTables::integration_active, false},
    {"last_synced_at", &IntegrationTables::last_synced_at, false},
    {"needs_reauth", &IntegrationTables::needs_reauth, false},
    {"items_synced", &IntegrationTables::items_synced, false},
    {"cadence_minutes", &IntegrationTables::cadence_minutes, false},
};

constexpr NameField<ExamTables> kExamFields[] = {
    {"exams", &ExamTables::exams, true},
    {"exam_id", &ExamTables::exam_id, false},
    {"exam_date", &ExamTables::exam_date, false},
    {"mock_type", &ExamTables::mock_type, false},
    {"exam_active", &ExamTables::exam_active, false},
    {"booking_count", &ExamTables::booking_count, false},
    {"bookings", &ExamTables::bookings, true},
    {"booking_exam_id", &ExamTables::booking_exam_id, false},
    {"booking_active", &ExamTables::booking_active, false},
};

Result<std::chrono::milliseconds> ReadDuration(const std::string& path, const YAML::Node& node) {
  auto text = ReadString(path, node);
  if (!text) return std::unexpected(text.error());
  auto duration = ParseDuration(*text);
  if (!duration) return std::unexpected(Error{ErrorCode::kInvalidArgument, path + ": " + duration.error().message});
  return *duration;
}

Result<void> ReadCadence(const std::string& path, const YAML::Node& node, std::chrono::minutes* out) {
  auto duration = ReadDuration(path, node);
  if (!duration) return std::unexpected(duration.error());
  if (*duration < std::chrono::minutes(1) || *duration % std::chrono::minutes(1) != std::chrono::milliseconds(0)) {
    return Bad(path, "must be a whole number of minutes, at least 1m (e.g. 15m, 2h)");
  }
  *out = std::chrono::duration_cast<std::chrono::minutes>(*duration);
  return {};
}

Result<AuthStyle> ParseAuth(const std::string& path, const YAML::Node& node) {
  auto text = ReadString(path, node);
  if (!text) return std::unexpected(text.error());
  if (*text == "standard-webhooks") return AuthStyle::kStandardWebhooks;
  if (*text == "bearer") return AuthStyle::kBearer;
  if (*text == "x-cron-secret") return AuthStyle::kCronSecretHeader;
  if (*text == "none") return AuthStyle::kNone;
  return std::unexpected(Error{ErrorCode::kInvalidArgument,
                               path + ": \"" + OneLine(*text, 40) +
                                   "\" is not one of standard-webhooks, bearer, x-cron-secret, none"});
}

Result<void> ReadUrl(const std::string& path, const YAML::Node& node, std::string* out) {
  auto url = ReadString(path, node);
  if (!url) return std::unexpected(url.error());
  if (!url->starts_with("http://") && !url->starts_with("https://")) {
    return Bad(path, "must start with http:// or https://");
  }
  if (url->size() > kMaxUrlBytes) return Bad(path, "is longer than " + std::to_string(kMaxUrlBytes) + " bytes");
  *out = *url;
  return {};
}

// A secret reference, never the secret: only its form is checked here. A
// value of neither form may be a pasted secret, so it is not echoed.
Result<void> ReadSecretRef(const std::string& path, const YAML::Node& node, std::string* out) {
  auto ref = ReadString(path, node);
  if (!ref) return std::unexpected(ref.error());
  if (!ref->starts_with("env:") && !ref->starts_with("file:")) {
    return Bad(path,
               "must be a reference, env:NAME or file:/absolute/path (the secret itself does not belong in "
               "this file)");
  }
  if (auto parsed = http::SecretRef::Parse(*ref); !parsed) return Bad(path, parsed.error().message);
  *out = *ref;
  return {};
}

Result<Endpoint> ReadEndpoint(const std::string& path, const YAML::Node& node) {
  if (auto ok = RequireMap(path, node); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckKeys(path, node, {"url", "secret", "auth", "timeout"}); !ok) {
    return std::unexpected(ok.error());
  }
  Endpoint endpoint;
  if (!node["url"]) return std::unexpected(Error{ErrorCode::kInvalidArgument, Child(path, "url") + ": is required"});
  if (auto ok = ReadUrl(Child(path, "url"), node["url"], &endpoint.url); !ok) return std::unexpected(ok.error());
  if (node["auth"]) {
    auto auth = ParseAuth(Child(path, "auth"), node["auth"]);
    if (!auth) return std::unexpected(auth.error());
    endpoint.auth = *auth;
  }
  if (node["secret"]) {
    if (auto ok = ReadSecretRef(Child(path, "secret"), node["secret"], &endpoint.secret_ref); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (endpoint.auth == AuthStyle::kNone && !endpoint.secret_ref.empty()) {
    return std::unexpected(Error{ErrorCode::kInvalidArgument, Child(path, "secret") + ": must be left out with auth: none"});
  }
  if (endpoint.auth != AuthStyle::kNone && endpoint.secret_ref.empty()) {
    return std::unexpected(Error{ErrorCode::kInvalidArgument,
                                 Child(path, "secret") + ": is required (env:NAME or file:/path) unless auth is none"});
  }
  if (node["timeout"]) {
    auto timeout = ReadDuration(Child(path, "timeout"), node["timeout"]);
    if (!timeout) return std::unexpected(timeout.error());
    if (timeout->count() <= 0 || *timeout > kMaxTimeout) {
      return std::unexpected(Error{ErrorCode::kInvalidArgument, Child(path, "timeout") + ": must be above 0 and at most 10m"});
    }
    endpoint.timeout = *timeout;
  }
  return endpoint;
}

bool IsProviderName(std::string_view name) {
  if (name.empty() || name.size() > kMaxProviderNameBytes) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

// An entry overrides the provider of the same name (its cadence and endpoint,
// as far as given) or adds a provider; listing only an endpoint for github
// keeps github's 15-minute cadence.
Result<void> ReadProvider(const std::string& path, const YAML::Node& node, std::set<std::string>* seen,
                          std::vector<Provider>* providers) {
  if (auto ok = RequireMap(path, node); !ok) return ok;
  if (auto ok = CheckKeys(path, node, {"name", "cadence", "endpoint"}); !ok) return ok;
  if (!node["name"]) return Bad(Child(path, "name"), "is required");
  auto name = ReadString(Child(path, "name"), node["name"]);
  if (!name) return std::unexpected(name.error());
  if (!IsProviderName(*name)) {
    return Bad(Child(path, "name"), "must be 1-64 of A-Z a-z 0-9 _ - .");
  }
  if (!seen->insert(*name).second) return Bad(Child(path, "name"), "\"" + *name + "\" is listed twice");
  auto it = std::find_if(providers->begin(), providers->end(), [&](const Provider& p) { return p.name == *name; });
  if (it == providers->end()) {
    providers->push_back(Provider{.name = *name});
    it = providers->end() - 1;
  }
  if (node["cadence"]) {
    if (auto ok = ReadCadence(Child(path, "cadence"), node["cadence"], &it->cadence); !ok) return ok;
  }
  if (node["endpoint"]) {
    auto endpoint = ReadEndpoint(Child(path, "endpoint"), node["endpoint"]);
    if (!endpoint) return std::unexpected(endpoint.error());
    it->endpoint = *endpoint;
  }
  return {};
}

Result<void> ReadProviders(const YAML::Node& node, std::vector<Provider>* providers) {
  if (!node.IsSequence()) return Bad("providers", "must be a list");
  std::set<std::string> seen;
  for (size_t i = 0; i < node.size(); ++i) {
    if (auto ok = ReadProvider("providers[" + std::to_string(i) + "]", node[i], &seen, providers); !ok) return ok;
  }
  return {};
}

Result<void> ReadCidrList(const std::string& path, const YAML::Node& node, std::vector<std::string>* out) {
  if (!node.IsSequence()) return Bad(path, "must be a list of CIDR ranges");
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    auto text = ReadString(item_path, node[i]);
    if (!text) return std::unexpected(text.error());
    if (auto cidr = http::Cidr::Parse(*text); !cidr) return Bad(item_path, cidr.error().message);
    out->push_back(*text);
  }
  return {};
}

Result<void> ReadHttp(const YAML::Node& node, AppConfig* config) {
  if (auto ok = RequireMap("http", node); !ok) return ok;
  if (auto ok = CheckKeys("http", node, {"allow", "deny"}); !ok) return ok;
  if (node["allow"]) {
    if (auto ok = ReadCidrList("http.allow", node["allow"], &config->http_allow); !ok) return ok;
  }
  if (node["deny"]) {
    if (auto ok = ReadCidrList("http.deny", node["deny"], &config->http_deny); !ok) return ok;
  }
  return {};
}

// An origin a secret may go to: http(s)://host[:port], nothing after it
// but an optional "/". Stored as UrlOrigin spells it.
Result<std::string> ReadOrigin(const std::string& path, const YAML::Node& node) {
  auto text = ReadString(path, node);
  if (!text) return std::unexpected(text.error());
  const std::string hint = "must be an origin, http(s)://host[:port] (no path, query or credentials)";
  const size_t scheme_end = text->find("://");
  if (scheme_end == std::string::npos || text->find_first_of("@?#\\") != std::string::npos) {
    return std::unexpected(Error{ErrorCode::kInvalidArgument, path + ": " + hint});
  }
  const size_t slash = text->find('/', scheme_end + 3);
  if (slash != std::string::npos && slash + 1 != text->size()) {
    return std::unexpected(Error{ErrorCode::kInvalidArgument, path + ": " + hint});
  }
  auto origin = http::UrlOrigin(*text);
  if (!origin) return std::unexpected(Error{ErrorCode::kInvalidArgument, path + ": " + hint});
  return *origin;
}

// One entry of http_request.secrets: a reference, or {ref, origins}.
Result<SecretGrant> ReadSecretGrant(const std::string& path, const YAML::Node& node) {
  SecretGrant grant;
  if (!node.IsMap()) {
    if (auto ok = ReadSecretRef(path, node, &grant.ref); !ok) return std::unexpected(ok.error());
    return grant;
  }
  if (auto ok = CheckKeys(path, node, {"ref", "origins"}); !ok) return std::unexpected(ok.error());
  if (!node["ref"]) return std::unexpected(Error{ErrorCode::kInvalidArgument, Child(path, "ref") + ": is required"});
  if (auto ok = ReadSecretRef(Child(path, "ref"), node["ref"], &grant.ref); !ok) return std::unexpected(ok.error());
  if (const YAML::Node origins = node["origins"]; origins) {
    const std::string at = Child(path, "origins");
    if (!origins.IsSequence() || origins.size() == 0) {
      return std::unexpected(Error{ErrorCode::kInvalidArgument,
                                   at + ": must be a non-empty list of origins (leave it out for any origin)"});
    }
    for (size_t i = 0; i < origins.size(); ++i) {
      auto origin = ReadOrigin(at + "[" + std::to_string(i) + "]", origins[i]);
      if (!origin) return std::unexpected(origin.error());
      grant.origins.push_back(std::move(*origin));
    }
  }
  return grant;
}

// http_request: {secrets: [...]}. The list replaces the default
// (env:CRON_SECRET) rather than adding to it, so an operator can also
// withdraw that one.
Result<void> ReadHttpRequest(const YAML::Node& node, std::vector<SecretGrant>* secrets) {
  if (auto ok = RequireMap("http_request", node); !ok) return ok;
  if (auto ok = CheckKeys("http_request", node, {"secrets"}); !ok) return ok;
  if (!node["secrets"]) return {};
  const YAML::Node& list = node["secrets"];
  if (!list.IsSequence()) {
    return Bad("http_request.secrets", "must be a list of env:NAME / file:/path references or {ref, origins}");
  }
  secrets->clear();
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = "http_request.secrets[" + std::to_string(i) + "]";
    auto grant = ReadSecretGrant(at, list[i]);
    if (!grant) return std::unexpected(grant.error());
    if (!seen.insert(grant->ref).second) return Bad(at, grant->ref + " is listed twice");
    secrets->push_back(std::move(*grant));
  }
  return {};
}

bool IsTargetName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// webhook_targets: [{name, url, secret, auth, timeout}, ...].
Result<void> ReadWebhookTargets(const YAML::Node& node, std::vector<WebhookTarget>* targets) {
  if (!node.IsSequence()) return Bad("webhook_targets", "must be a list of {name, url, secret, auth, timeout}");
  std::set<std::string> seen;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string at = "webhook_targets[" + std::to_string(i) + "]";
    if (auto ok = RequireMap(at, node[i]); !ok) return ok;
    if (!node[i]["name"]) return Bad(Child(at, "name"), "is required");
    auto name = ReadString(Child(at, "name"), node[i]["name"]);
    if (!name) return std::unexpected(name.error());
    if (!IsTargetName(*name)) return Bad(Child(at, "name"), "must be 1-64 of A-Z a-z 0-9 _ - .");
    if (*name == kCapacityWebhookTarget) {
      return Bad(Child(at, "name"), "capacity_webhook is the top-level key's; pick another name");
    }
    if (!seen.insert(*name).second) return Bad(Child(at, "name"), "\"" + *name + "\" is listed twice");
    YAML::Node endpoint_node = YAML::Clone(node[i]);
    endpoint_node.remove("name");
    auto endpoint = ReadEndpoint(at, endpoint_node);
    if (!endpoint) return std::unexpected(endpoint.error());
    targets->push_back(WebhookTarget{.name = *name, .endpoint = *endpoint});
  }
  return {};
}

Result<void> ReadTop(const YAML::Node& top, AppConfig* config) {
  // limits: the scheduler's (chime-scheduler --kinds-config applies them);
  // checked in ParseAppConfig so that a bad one stops the worker too.
  if (auto ok = CheckKeys("", top, {"integrations", "exams", "providers", "capacity_webhook", "webhook_targets",
                                    "http", "http_request", "limits"});
      !ok) {
    return ok;
  }
  if (top["integrations"]) {
    if (auto ok = ReadNames("integrations", top["integrations"], kIntegrationFields, &config->integrations); !ok) {
      return ok;
    }
  }
  if (top["exams"]) {
    if (auto ok = ReadNames("exams", top["exams"], kExamFields, &config->exams); !ok) return ok;
  }
  if (top["providers"]) {
    if (auto ok = ReadProviders(top["providers"], &config->providers); !ok) return ok;
  }
  if (top["capacity_webhook"]) {
    auto endpoint = ReadEndpoint("capacity_webhook", top["capacity_webhook"]);
    if (!endpoint) return std::unexpected(endpoint.error());
    config->capacity_webhook = *endpoint;
  }
  if (top["webhook_targets"]) {
    if (auto ok = ReadWebhookTargets(top["webhook_targets"], &config->webhook_targets); !ok) return ok;
  }
  if (top["http"]) {
    if (auto ok = ReadHttp(top["http"], config); !ok) return ok;
  }
  if (top["http_request"]) {
    if (auto ok = ReadHttpRequest(top["http_request"], &config->http_request_secrets); !ok) return ok;
  }
  return {};
}

}  // namespace

Result<AppConfig> ParseAppConfig(const std::string& yaml_text) {
  if (yaml_text.size() > kMaxFileBytes) {
    return Fail(ErrorCode::kInvalidArgument, "kinds file is larger than 1 MiB");
  }
  AppConfig config = DefaultAppConfig();
  try {
    const YAML::Node top = YAML::Load(yaml_text);
    if (top.IsNull()) return config;  // An empty file: every default.
    if (!top.IsMap()) return Fail(ErrorCode::kInvalidArgument, "(top level): must be a map");
    if (auto ok = ReadTop(top, &config); !ok) return std::unexpected(ok.error());
  } catch (const YAML::Exception& e) {
    return Fail(ErrorCode::kInvalidArgument, std::string("not valid YAML: ") + e.what());
  }
  // The same reader as the scheduler's, which applies them; the worker
  // only refuses a file the scheduler would refuse.
  auto limits = schedule::ParseKindsFileLimits(yaml_text, "limits");
  if (!limits) return std::unexpected(limits.error());
  if (!limits->problems.empty()) {
    const schedule::Problem& p = limits->problems.front();
    return Fail(ErrorCode::kInvalidArgument, "limits[" + std::to_string(p.index) + "]" +
                                                 (p.name.empty() ? "" : " (" + OneLine(p.name, 64) + ")") + ": " +
                                                 OneLine(p.message, 512));
  }
  return config;
}

Result<AppConfig> LoadAppConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kNotFound, path + ": cannot open the kinds file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Fail(ErrorCode::kInvalidArgument, path + ": cannot read the kinds file");
  auto config = ParseAppConfig(text.str());
  if (!config) return Fail(config.error().code, path + ": " + config.error().message);
  return config;
}

}  // namespace chime::worker::kinds
