// A minimal RAII layer over libpq's C API for chime-bench: admin SQL (create
// and drop databases, truncate, bulk loads) and the "bare SQL" ceiling runs.
// chime-bench never uses libpqxx; only common/db does. Text format only.
// Thread-compatible: one thread uses a PqConnection at a time.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"

namespace chime::bench {

// The result of one statement; owns the PGresult.
class PqResult {
 public:
  explicit PqResult(PGresult* res) : res_(res, &PQclear) {}

  int rows() const { return PQntuples(res_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  // Text of a field ("" for NULL); valid while this result lives.
  const char* text(int row, int col) const { return PQgetvalue(res_.get(), row, col); }
  int64_t int64(int row, int col) const;
  // Rows an INSERT, UPDATE or DELETE touched (PQcmdTuples; 0 for others).
  int64_t affected_rows() const;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> res_;
};

class PqConnection {
 public:
  // Connects now; Unavailable with libpq's message if that fails.
  [[nodiscard]] static Result<PqConnection> Open(const std::string& conninfo);

  PqConnection(PqConnection&&) noexcept = default;
  PqConnection& operator=(PqConnection&&) noexcept = default;

  // Runs one or more statements without parameters.
  [[nodiscard]] Result<PqResult> Exec(const std::string& sql);
  // Runs one statement with text parameters (nullopt = NULL).
  [[nodiscard]] Result<PqResult> ExecParams(const std::string& sql,
                                            const std::vector<std::optional<std::string>>& params);
  [[nodiscard]] Result<void> Prepare(const std::string& name, const std::string& sql);
  [[nodiscard]] Result<PqResult> ExecPrepared(const std::string& name,
                                              const std::vector<std::optional<std::string>>& params);

  // Server version as text, e.g. "15.4".
  std::string ServerVersion() const;

 private:
  explicit PqConnection(PGconn* conn) : conn_(conn, &PQfinish) {}
  Result<PqResult> Check(PGresult* res, const std::string& what);

  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// Returns `conninfo` (a URI or key=value string) with its database replaced
// by `dbname`, as a key=value string. InvalidArgument if libpq cannot parse it.
[[nodiscard]] Result<std::string> ConninfoWithDatabase(const std::string& conninfo,
                                                       const std::string& dbname);

// Quotes an identifier for SQL ("chime_bench_1" -> "\"chime_bench_1\"").
std::string QuoteIdent(const std::string& name);

}  // namespace chime::bench
