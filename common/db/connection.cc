#include "common/db/connection.h"

#include <errno.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <pqxx/pqxx>
#include <regex>

#include <spdlog/spdlog.h>

#include "common/base/env_setting.h"

namespace chime::db {
namespace {

constexpr std::string_view kLostPrefix = "database connection lost: ";

bool IsConnectionState(const std::string& sqlstate) {
  // Class 08: connection exception; 57P01..03: server shutting down.
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

// The password a libpq URL or key=value string carries, or "" when it has
// none or does not parse.
std::string PasswordOf(const std::string& url) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(url.c_str(), &error), &PQconninfoFree);
  PQfreemem(error);
  if (!options) return {};
  for (auto* o = options.get(); o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) return o->val;
  }
  return {};
}

// libpq echoes parts of a bad URL back in its messages; a password must
// never reach a log or an error value.
std::string Scrub(std::string message, const std::string& url) {
  message = RedactUrl(message);
  const std::string password = PasswordOf(url);
  if (password.empty()) return message;
  for (size_t at = message.find(password); at != std::string::npos;
       at = message.find(password, at + 3)) {
    message.replace(at, password.size(), "***");
  }
  return message;
}

std::string TrimEnd(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A libpq keyword value, quoted for a key=value connection string.
std::string QuoteConninfoValue(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string WithSessionDefaults(const std::string& url) {
  // TCP keepalives: a peer that vanished (a partition, a dead host) is noticed
  // in about 10 + 3 x 5 s instead of the kernel's two hours, and unacked data
  // gives up after 30 s; the server side ends such a session the same way, so
  // its row locks and leases are not held on behalf of a process cut off.
  // The session is named after the process ("chime-scheduler-4242") unless
  // the URL or PGAPPNAME names it: pg_stat_activity then shows whose it is.
  static const std::string kProcessName =
      std::string(program_invocation_short_name) + "-" + std::to_string(getpid());
  const std::pair<std::string_view, std::string_view> kDefaults[] = {
      {"fallback_application_name", kProcessName},
      {"keepalives", "1"},         {"keepalives_idle", "10"}, {"keepalives_interval", "5"},
      {"keepalives_count", "3"},   {"tcp_user_timeout", "30000"}};
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(url.c_str(), &error), &PQconninfoFree);
  PQfreemem(error);
  if (!options) return url;  // Validate() reports the parse error.
  std::string out;
  for (auto* o = options.get(); o->keyword != nullptr; ++o) {
    std::string_view keyword = o->keyword;
    std::optional<std::string_view> value;
    if (o->val != nullptr) {
      value = o->val;
    } else {
      for (const auto& [key, fallback] : kDefaults) {
        if (key == keyword) value = fallback;
      }
    }
    if (!value) continue;
    if (!out.empty()) out += ' ';
    out += std::string(keyword) + "=" + QuoteConninfoValue(*value);
  }
  return out;
}

struct Connection::Session {
  explicit Session(const std::string& url) : conn(WithSessionDefaults(url)) {}
  pqxx::connection conn;
};

Result<void> ConnectionConfig::Validate() const {
  if (url.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "database url: empty (set CHIME_DATABASE_URL or --database-url)");
  }
  if (reconnect.base.count() <= 0 || reconnect.cap < reconnect.base) {
    return Fail(ErrorCode::kInvalidArgument, "database reconnect backoff: base must be > 0 and <= cap");
  }
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(url.c_str(), &error), &PQconninfoFree);
  if (!options) {
    std::string why = error != nullptr ? TrimEnd(error) : "out of memory";
    PQfreemem(error);
    return Fail(ErrorCode::kInvalidArgument, "database url: " + Scrub(why, url));
  }
  if (!listen_url.empty()) {
    ConnectionConfig listen = *this;
    listen.url = listen_url;
    listen.listen_url.clear();
    if (auto ok = listen.Validate(); !ok) {
      std::string why = ok.error().message;
      if (why.starts_with("database url: ")) why.erase(0, 14);
      return Fail(ErrorCode::kInvalidArgument, "database listen url: " + why);
    }
  }
  return {};
}

ConnectionConfig ConnectionConfig::ForListen() const {
  ConnectionConfig listen = *this;
  if (!listen_url.empty()) listen.url = listen_url;
  listen.listen_url.clear();
  listen.pooled = false;
  return listen;
}

Result<bool> ParsePooler(std::string_view mode) {
  if (mode == "transaction") return true;
  // A session pooler keeps each client's server session: nothing changes.
  if (mode.empty() || mode == "none" || mode == "session") return false;
  return Fail(ErrorCode::kInvalidArgument,
              "database pooler (CHIME_DATABASE_POOLER, --database-pooler): '" +
                  std::string(mode.substr(0, 64)) + "' is not transaction, session or none");
}

Result<void> ApplyPoolerSettings(ConnectionConfig& config, const std::optional<std::string>& pooler,
                                 const std::optional<std::string>& listen_url) {
  const char* env = std::getenv("CHIME_DATABASE_POOLER");
  auto pooled = ParsePooler(pooler ? *pooler : env != nullptr ? env : "");
  if (!pooled) return std::unexpected(pooled.error());
  config.pooled = *pooled;
  if (listen_url) {
    config.listen_url = *listen_url;
  } else {
    auto setting = EnvSetting("CHIME_DATABASE_LISTEN_URL");
    if (!setting) return std::unexpected(setting.error());
    if (*setting) config.listen_url = **setting;
  }
  return config.Validate();
}

Connection::Connection(ConnectionConfig config, Clock& clock, Rng* rng)
    : config_(std::move(config)), clock_(clock), rng_(rng) {
  if (rng_ == nullptr) {
    owned_rng_ = std::make_unique<DefaultRng>();
    rng_ = owned_rng_.get();
  }
}

Connection::~Connection() = default;

bool Connection::connected() const { return conn_ != nullptr && conn_->conn.is_open(); }

void Connection::Prepare(std::string name, std::string sql) {
  for (const auto& [n, existing] : prepared_) {
    if (n == name) {
      if (existing != sql) std::abort();  // Two statements under one name: a bug.
      return;
    }
  }
  if (conn_ && !config_.pooled) conn_->conn.prepare(name, sql);
  prepared_.emplace_back(std::move(name), std::move(sql));
}

// What a session keeps between transactions: the prepared statements and
// the settings. Never through a transaction pooler (see ConnectionConfig).
void Connection::ApplySessionState(pqxx::connection_base& conn) {
  for (const auto& [name, sql] : prepared_) conn.prepare(name, sql);
  if (config_.statement_timeout.count() > 0) {
    pqxx::nontransaction tx(conn);
    tx.exec("SET statement_timeout = " + std::to_string(config_.statement_timeout.count()));
  }
  if (config_.idle_in_transaction_timeout.count() > 0) {
    pqxx::nontransaction tx(conn);
    tx.exec("SET idle_in_transaction_session_timeout = " +
            std::to_string(config_.idle_in_transaction_timeout.count()));
  }
  {
    // The server's side of the socket probes the same way, so a session
    // whose client vanished is closed there too (behind a session pooler
    // it guards the pooler's link, where the client's own settings end).
    pqxx::nontransaction tx(conn);
    tx.exec("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; "
            "SET tcp_keepalives_count = 3; SET tcp_user_timeout = 30000");
  }
}

Result<void> Connection::Connect() { return EnsureConnected(); }

Result<void> Connection::EnsureConnected() {
  if (connected()) return {};
  conn_.reset();
  const auto now = clock_.SteadyNow();
  if (failures_ > 0 && now < next_attempt_) {
    return Fail(ErrorCode::kUnavailable, "database unavailable; next reconnect attempt pending");
  }
  if (auto valid = config_.Validate(); !valid) return valid;
  try {
    auto conn = std::make_unique<Session>(config_.url);
    if (!config_.pooled) ApplySessionState(conn->conn);
    conn_ = std::move(conn);
    if (failures_ > 0) spdlog::info("database reconnected after {} failed attempts", failures_);
    failures_ = 0;
    return {};
  } catch (...) {
    Error error = MapCurrentException();
    // A failed connect surfaces as broken_connection; say what happened.
    if (error.message.starts_with(kLostPrefix)) error.message.erase(0, kLostPrefix.size());
    error.message = Scrub(TrimEnd(std::move(error.message)), config_.url);
    ++failures_;
    next_attempt_ = now + BackoffDelay(config_.reconnect, failures_, *rng_);
    if (error.code != ErrorCode::kInvalidArgument) error.code = ErrorCode::kUnavailable;
    error.message = "cannot connect to database: " + error.message;
    return std::unexpected(std::move(error));
  }
}

Result<void> Connection::Run(const std::function<void(pqxx::connection_base&)>& fn) {
  if (auto ok = EnsureConnected(); !ok) return ok;
  try {
    fn(conn_->conn);
    return {};
  } catch (...) {
    Error error = MapCurrentException();
    if (!conn_->conn.is_open() || error.code == ErrorCode::kUnavailable) {
      // Drop the session; the next call reconnects once the backoff allows.
      conn_.reset();
      failures_ = std::max(failures_, 1);
      next_attempt_ = clock_.SteadyNow() + BackoffDelay(config_.reconnect, failures_, *rng_);
    }
    return std::unexpected(std::move(error));
  }
}

Error MapCurrentException() {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return {ErrorCode::kUnavailable, std::string(kLostPrefix) + e.what()};
  } catch (const pqxx::in_doubt_error& e) {
    return {ErrorCode::kUnavailable,
            std::string("connection lost during commit; outcome unknown: ") + e.what()};
  } catch (const pqxx::serialization_failure& e) {
    // libpqxx 6 throws the 40xxx family (transaction_rollback) outside
    // sql_error and without a SQLSTATE, and insufficient_privilege without
    // one: they are told apart by type.
    return {ErrorCode::kRetryable, TrimEnd(e.what())};
  } catch (const pqxx::deadlock_detected& e) {
    return {ErrorCode::kRetryable, TrimEnd(e.what())};
  } catch (const pqxx::transaction_rollback& e) {
    return {ErrorCode::kInternal, TrimEnd(e.what()) + " (transaction rolled back)"};
  } catch (const pqxx::insufficient_privilege& e) {
    return {ErrorCode::kUnauthenticated, TrimEnd(e.what())};
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    std::string message = e.what();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    if (IsConnectionState(state)) return {ErrorCode::kUnavailable, message};
    if (state == "40001" || state == "40P01") return {ErrorCode::kRetryable, message};
    if (state == "23505") return {ErrorCode::kAlreadyExists, message};
    if (state.starts_with("22") || state == "23514" || state == "23502") {
      return {ErrorCode::kInvalidArgument, message};
    }
    if (state == "42501") return {ErrorCode::kUnauthenticated, message};
    return {ErrorCode::kInternal, message + " (sqlstate " + state + ")"};
  } catch (const pqxx::usage_error& e) {
    return {ErrorCode::kInternal, std::string("database usage error: ") + e.what()};
  } catch (const pqxx::conversion_error& e) {
    return {ErrorCode::kInternal, std::string("database conversion error: ") + e.what()};
  } catch (const std::exception& e) {
    return {ErrorCode::kInternal, e.what()};
  } catch (...) {
    return {ErrorCode::kInternal, "unknown exception"};
  }
}

std::string RedactUrl(const std::string& url) {
  // postgresql://user:secret@host -> postgresql://user:***@host, anywhere.
  static const std::regex kUriPassword(R"(([a-z]+://[^:/@\s]*):[^@\s]*@)");
  // password=secret or password='se cret' in key=value strings and query params.
  static const std::regex kKeyPassword(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*))");
  std::string out = std::regex_replace(url, kUriPassword, "$1:***@");
  return std::regex_replace(out, kKeyPassword, "$1***");
}

}  // namespace chime::db
