#include "jobctl/token_commands.h"

#include <nlohmann/json.hpp>

#include <ostream>

#include "common/auth/api_token.h"
#include "common/base/text_format.h"
#include "common/view/json_view.h"
#include "jobctl/text_view.h"

namespace chime::jobctl {
namespace {

using json = nlohmann::ordered_json;

json TimeOrNull(const std::optional<TimePoint>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

std::string TimeOrDash(const std::optional<TimePoint>& t) { return t ? FormatRfc3339(*t) : "-"; }

json TokenJson(const db::ApiTokenRow& row, TimePoint now) {
  return json{{"name", row.name},
              {"scope", row.scope},
              {"state", TokenState(row, now)},
              {"created_at", FormatRfc3339(row.created_at)},
              {"created_by", row.created_by},
              {"last_used_at", TimeOrNull(row.last_used_at)},
              {"expires_at", TimeOrNull(row.expires_at)},
              {"revoked_at", TimeOrNull(row.revoked_at)}};
}

using view::DumpJson;

}  // namespace

std::string TokenState(const db::ApiTokenRow& row, TimePoint now) {
  if (row.revoked_at) return "revoked";
  if (row.expires_at && *row.expires_at <= now) return "expired";
  return "active";
}

Result<void> RunTokenCreate(CommandContext& ctx, const TokenCreateOptions& o) {
  auto scope = auth::ParseScope(o.scope);
  if (!scope) return Fail(ErrorCode::kInvalidArgument, "--" + scope.error().message);
  std::optional<std::chrono::milliseconds> expires_in;
  if (o.expires) {
    auto d = ParseDuration(*o.expires);
    if (!d) return Fail(ErrorCode::kInvalidArgument, "--expires: " + d.error().message);
    if (d->count() <= 0) return Fail(ErrorCode::kInvalidArgument, "--expires: must be positive");
    expires_in = *d;
  }
  auto token = auth::ApiToken::Generate(o.name);
  if (!token) return Fail(ErrorCode::kInvalidArgument, "NAME: " + token.error().message);
  auto row = ctx.backend.TokenCreate(*token, *scope, expires_in);
  if (!row) return std::unexpected(row.error());
  // The one time the token is shown: only here, never in a log or the database.
  if (o.json) {
    json j = TokenJson(*row, ctx.now);
    j["token"] = token->text();
    ctx.out << DumpJson(j);
  } else {
    ctx.out << token->text() << "\n";
  }
  if (ctx.err != nullptr) {
    *ctx.err << "token '" << row->name << "' (scope " << row->scope << ", expires "
             << (row->expires_at ? FormatRfc3339(*row->expires_at) : std::string("never"))
             << ") created; it is shown this once: store it now\n";
  }
  return {};
}

Result<void> RunTokenList(CommandContext& ctx, const TokenListOptions& o) {
  auto rows = ctx.backend.TokensList();
  if (!rows) return std::unexpected(rows.error());
  if (o.json) {
    json list = json::array();
    for (const auto& row : *rows) list.push_back(TokenJson(row, ctx.now));
    ctx.out << DumpJson(json{{"tokens", list}});
    return {};
  }
  if (rows->empty()) {
    ctx.out << "no tokens (jobctl token create NAME --scope read|operate|admin)\n";
    return {};
  }
  Table table({"NAME", "SCOPE", "STATE", "CREATED", "CREATED BY", "LAST USED", "EXPIRES"});
  for (const auto& row : *rows) {
    table.AddRow({row.name, row.scope, TokenState(row, ctx.now), FormatRfc3339(row.created_at),
                  OneLine(row.created_by, 64), TimeOrDash(row.last_used_at), TimeOrDash(row.expires_at)});
  }
  ctx.out << table.Render();
  return {};
}

Result<void> RunTokenRevoke(CommandContext& ctx, const TokenRevokeOptions& o) {
  if (auto ok = auth::CheckTokenName(o.name); !ok) return Fail(ErrorCode::kInvalidArgument, "NAME: " + ok.error().message);
  auto row = ctx.backend.TokenRevoke(o.name);
  if (!row) return std::unexpected(row.error());
  if (o.json) {
    ctx.out << DumpJson(TokenJson(*row, ctx.now));
  } else {
    ctx.out << "token '" << row->name << "' revoked at " << TimeOrDash(row->revoked_at)
            << " (every scheduler refuses it within seconds)\n";
  }
  return {};
}

Result<void> RunWhoami(CommandContext& ctx, const WhoamiOptions& o) {
  auto who = ctx.backend.Whoami();
  if (!who) return std::unexpected(who.error());
  if (o.json) {
    ctx.out << DumpJson(json{{"name", who->name},
                         {"scope", auth::ScopeName(who->scope)},
                         {"bootstrap", who->bootstrap},
                         {"expires_at", TimeOrNull(who->expires_at)}});
    return {};
  }
  ctx.out << (who->bootstrap ? "the bootstrap admin secret" : "token '" + who->name + "'") << " (scope "
          << auth::ScopeName(who->scope) << ", expires " << TimeOrDash(who->expires_at) << ")\n";
  return {};
}

}  // namespace chime::jobctl
