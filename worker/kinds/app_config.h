// Where the seeds' job kinds find the application's data and endpoints.
//
// The defaults name the schema Chime ships (common/app/app_schema.sql,
// schema "chime_app"); a deployment whose tables are its own points the kinds
// at them in the worker's kinds file (YAML, --kinds-config /
// CHIME_KINDS_CONFIG). Every table and column name is an SQL identifier
// (optionally schema-qualified for tables), checked when the file is loaded
// and always quoted when used; a bad one stops the worker naming the field.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"

namespace chime::worker::kinds {

// Users and their integrations, per provider (process_all_users,
// sync_integration).
struct IntegrationTables {
  std::string users = "chime_app.users";
  std::string user_id = "id";          // bigint
  std::string user_active = "active";  // boolean

  std::string integrations = "chime_app.integrations";
  std::string integration_user_id = "user_id";           // bigint
  std::string provider = "provider";                     // text: github, notion, ...
  std::string integration_active = "active";             // boolean
  std::string last_synced_at = "last_synced_at";         // timestamptz, NULL: never
  std::string needs_reauth = "needs_reauth";             // boolean, set on 401/403
  std::string items_synced = "items_synced";             // bigint, last sync's count
  std::string cadence_minutes = "cadence_minutes";       // integer, NULL: the provider's
};

// Exams and bookings (reconcile_exam_capacity). The stored counter is the
// exam's booking_count; the source of truth is the active bookings.
struct ExamTables {
  std::string exams = "chime_app.exams";
  std::string exam_id = "id";                // bigint
  std::string exam_date = "exam_date";       // date
  std::string mock_type = "mock_type";       // text
  std::string exam_active = "active";        // boolean
  std::string booking_count = "booking_count";  // integer: the stored counter

  std::string bookings = "chime_app.bookings";
  std::string booking_exam_id = "exam_id";   // bigint
  std::string booking_active = "active";     // boolean
};

// How an outbound request proves who sent it. Standard Webhooks signing
// (webhook-id, webhook-timestamp, webhook-signature) is the default; the
// seeds' endpoints expect a bearer token or an x-cron-secret header.
enum class AuthStyle { kStandardWebhooks, kBearer, kCronSecretHeader, kNone };

// An HTTP endpoint a kind calls, with the named reference of its secret
// ("env:NAME" or "file:/path"; the secret itself is never in the file).
struct Endpoint {
  std::string url;
  std::string secret_ref;  // Empty only with AuthStyle::kNone.
  AuthStyle auth = AuthStyle::kStandardWebhooks;
  std::chrono::milliseconds timeout{10000};
};

// A secret reference http_request payloads may name, and the origins it may
// be sent to. A payload naming it for any other origin is refused before a
// byte is sent; redirects never carry it across origins (the client drops
// credential headers when the origin changes).
struct SecretGrant {
  std::string ref;  // env:NAME or file:/absolute/path
  // "https://app.example.com:443" (scheme://host:port, lower case, the port
  // spelled out) after loading. Empty: any origin (the worker warns at start).
  std::vector<std::string> origins;

  bool operator==(const SecretGrant&) const = default;
};

// A webhook destination outbox rows name (chime.webhook_outbox.target): the
// URL, auth and secret come from here, never from the row, so whoever can
// write a row cannot choose where a secret goes. `capacity_webhook` is the
// target of that name.
struct WebhookTarget {
  std::string name;  // [A-Za-z0-9_.-], 1-64
  Endpoint endpoint;
};

inline constexpr std::string_view kCapacityWebhookTarget = "capacity_webhook";

// One integration provider: how often a user's integration is due, and the
// endpoint sync_integration calls for it.
struct Provider {
  std::string name;  // github, notion, slack, google_calendar
  std::chrono::minutes cadence{30};
  Endpoint endpoint;
};

struct AppConfig {
  IntegrationTables integrations;
  ExamTables exams;
  // Defaults (001_8e7c22c027dcc927.txt): GitHub every 15 minutes; Notion,
  // Slack and Google Calendar every 30. Their endpoints are unset until the
  // kinds file gives them: sync_integration then fails permanently, naming
  // the provider.
  std::vector<Provider> providers;
  // Where reconcile_exam_capacity sends one signed webhook per correction.
  // Unset: corrections are made and reported without a webhook.
  std::optional<Endpoint> capacity_webhook;
  // Extra address ranges (CIDR) outbound requests may reach although the
  // default policy denies them: e.g. a provider on a private network.
  std::vector<std::string> http_allow;
  std::vector<std::string> http_deny;
  // Named webhook destinations for outbox rows, besides capacity_webhook.
  std::vector<WebhookTarget> webhook_targets;
  // The secret references (env:NAME, file:/path) http_request payloads may
  // name, each with the origins it may go to; any other reference in a
  // payload is refused. The default is the seeds' CRON_SECRET, which jobctl
  // schedule import-vercel writes, unbound.
  std::vector<SecretGrant> http_request_secrets{SecretGrant{.ref = "env:CRON_SECRET", .origins = {}}};
};

// The outbox target named `name`: capacity_webhook or one of
// webhook_targets. Null when the kinds file has none of that name.
const Endpoint* FindWebhookTarget(const AppConfig& config, std::string_view name);

// The defaults: the shipped schema and the seeds' four providers.
AppConfig DefaultAppConfig();

// Reads a kinds file (YAML); any field left out keeps its default. Errors
// name the field ("providers[1].cadence: ...").
[[nodiscard]] Result<AppConfig> LoadAppConfig(const std::string& path);
[[nodiscard]] Result<AppConfig> ParseAppConfig(const std::string& yaml_text);

// Quotes a configured table ("schema.table" or "table") or column name for
// SQL; the names were validated at load.
std::string QuoteTable(const std::string& name);
std::string QuoteColumn(const std::string& name);

}  // namespace chime::worker::kinds
