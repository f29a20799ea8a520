#include "worker/kinds/app_config.h"

#include <string_view>

namespace chime::worker::kinds {
namespace {

std::string QuoteIdentifier(std::string_view part) {
  std::string out = "\"";
  for (char c : part) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Provider MakeProvider(std::string name, int cadence_minutes) {
  Provider p;
  p.name = std::move(name);
  p.cadence = std::chrono::minutes(cadence_minutes);
  return p;
}

}  // namespace

AppConfig DefaultAppConfig() {
  AppConfig config;
  config.providers = {MakeProvider("github", 15), MakeProvider("notion", 30),
                      MakeProvider("slack", 30), MakeProvider("google_calendar", 30)};
  return config;
}

std::string QuoteTable(const std::string& name) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return QuoteIdentifier(name);
  return QuoteIdentifier(std::string_view(name).substr(0, dot)) + "." +
         QuoteIdentifier(std::string_view(name).substr(dot + 1));
}

std::string QuoteColumn(const std::string& name) { return QuoteIdentifier(name); }

const Endpoint* FindWebhookTarget(const AppConfig& config, std::string_view name) {
  if (name == kCapacityWebhookTarget) return config.capacity_webhook ? &*config.capacity_webhook : nullptr;
  for (const WebhookTarget& target : config.webhook_targets) {
    if (target.name == name) return &target.endpoint;
  }
  return nullptr;
}

}  // namespace chime::worker::kinds
