#include "bench/pq.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace chime::bench {
namespace {

std::string Trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Pointers into `params` for libpq; NULL for nullopt.
std::vector<const char*> Pointers(const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> out;
  out.reserve(params.size());
  for (const auto& p : params) out.push_back(p ? p->c_str() : nullptr);
  return out;
}

// Key=value quoting: single quotes, with ' and \ escaped.
std::string QuoteValue(const char* value) {
  std::string out = "'";
  for (const char* p = value; *p; ++p) {
    if (*p == '\'' || *p == '\\') out.push_back('\\');
    out.push_back(*p);
  }
  return out + "'";
}

// Server notices ("database ... does not exist, skipping") go to the debug
// log instead of libpq's default of stderr.
void LogNotice(void* /*arg*/, const char* message) { spdlog::debug("postgres: {}", Trimmed(message)); }

}  // namespace

int64_t PqResult::affected_rows() const {
  const char* n = PQcmdTuples(res_.get());
  return n[0] == '\0' ? 0 : std::strtoll(n, nullptr, 10);
}

int64_t PqResult::int64(int row, int col) const {
  return std::strtoll(text(row, col), nullptr, 10);
}

Result<PqConnection> PqConnection::Open(const std::string& conninfo) {
  PGconn* raw = PQconnectdb(conninfo.c_str());
  PqConnection conn(raw);
  if (raw == nullptr) return Fail(ErrorCode::kUnavailable, "libpq: out of memory");
  if (PQstatus(raw) != CONNECTION_OK) {
    return Fail(ErrorCode::kUnavailable, "cannot connect to database: " + Trimmed(PQerrorMessage(raw)));
  }
  PQsetNoticeProcessor(raw, &LogNotice, nullptr);
  return conn;
}

Result<PqResult> PqConnection::Check(PGresult* res, const std::string& what) {
  PqResult out(res);
  const auto status = PQresultStatus(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return out;
  const bool lost = PQstatus(conn_.get()) != CONNECTION_OK;
  std::string message = res ? Trimmed(PQresultErrorMessage(res)) : Trimmed(PQerrorMessage(conn_.get()));
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  if (state) message += std::string(" (sqlstate ") + state + ")";
  return Fail(lost ? ErrorCode::kUnavailable : ErrorCode::kInternal, what + ": " + message);
}

Result<PqResult> PqConnection::Exec(const std::string& sql) {
  return Check(PQexec(conn_.get(), sql.c_str()), "query failed");
}

Result<PqResult> PqConnection::ExecParams(const std::string& sql,
                                          const std::vector<std::optional<std::string>>& params) {
  auto ptrs = Pointers(params);
  return Check(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(ptrs.size()), nullptr,
                            ptrs.data(), nullptr, nullptr, 0),
               "query failed");
}

Result<void> PqConnection::Prepare(const std::string& name, const std::string& sql) {
  auto res = Check(PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr),
                   "prepare " + name + " failed");
  if (!res) return std::unexpected(res.error());
  return {};
}

Result<PqResult> PqConnection::ExecPrepared(const std::string& name,
                                            const std::vector<std::optional<std::string>>& params) {
  auto ptrs = Pointers(params);
  return Check(PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(ptrs.size()),
                              ptrs.data(), nullptr, nullptr, 0),
               name + " failed");
}

std::string PqConnection::ServerVersion() const {
  const char* v = PQparameterStatus(conn_.get(), "server_version");
  return v ? v : "?";
}

Result<std::string> ConninfoWithDatabase(const std::string& conninfo, const std::string& dbname) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts == nullptr) {
    std::string message = err ? Trimmed(err) : "out of memory";
    PQfreemem(err);
    return Fail(ErrorCode::kInvalidArgument, "database url: " + message);
  }
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string(o->keyword) == "dbname") continue;
    out += std::string(o->keyword) + "=" + QuoteValue(o->val) + " ";
  }
  PQconninfoFree(opts);
  return out + "dbname=" + QuoteValue(dbname.c_str());
}

std::string QuoteIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace chime::bench
