#include "common/db/auth_store.h"

#include <pqxx/pqxx>

#include <algorithm>

#include "common/db/job_store_sql.h"  // CHIME_US
#include "common/db/row_reader.h"

namespace chime::db {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

#define CHIME_TOKEN_COLUMNS                                                                     \
  "name, scope, " CHIME_US("created_at") ", created_by, " CHIME_US("expires_at") ", " CHIME_US( \
      "last_used_at") ", " CHIME_US("revoked_at")

// A revoked or expired token's name may be taken again: its row is
// replaced whole (new key material, times and creator).
constexpr const char* kCreate = R"sql(
INSERT INTO chime.api_tokens AS t (name, scope, secret_sha256, signing_key, created_by, expires_at)
VALUES ($1, $2, decode($3, 'hex'), decode($4, 'hex'), $5,
        now() + $6::bigint * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE
  SET scope = excluded.scope, secret_sha256 = excluded.secret_sha256,
      signing_key = excluded.signing_key, created_at = now(), created_by = excluded.created_by,
      expires_at = excluded.expires_at, last_used_at = NULL, revoked_at = NULL
  WHERE t.revoked_at IS NOT NULL OR t.expires_at <= now()
RETURNING )sql" CHIME_TOKEN_COLUMNS;

constexpr const char* kList = "SELECT " CHIME_TOKEN_COLUMNS " FROM chime.api_tokens ORDER BY name";

constexpr const char* kRevoke = R"sql(
UPDATE chime.api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE name = $1
RETURNING )sql" CHIME_TOKEN_COLUMNS;

constexpr const char* kFind = "SELECT " CHIME_TOKEN_COLUMNS
                              ", encode(secret_sha256, 'hex'), encode(signing_key, 'hex') "
                              "FROM chime.api_tokens WHERE name = $1";

constexpr const char* kLoadAll = "SELECT " CHIME_TOKEN_COLUMNS
                                 ", encode(secret_sha256, 'hex'), encode(signing_key, 'hex') "
                                 "FROM chime.api_tokens ORDER BY name LIMIT $1";

constexpr const char* kTouch = "UPDATE chime.api_tokens SET last_used_at = now() WHERE name = $1";

// One statement, so one round trip tells first use from replay. The commit
// need not wait for its WAL flush (synchronous_commit off for this
// transaction only): whatever the request then changes commits after it
// and flushes the WAL up to and including this row, so a nonce can be lost
// in a crash only together with every effect of its request.
constexpr const char* kNonceRecord = R"sql(
WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
INSERT INTO chime.admin_nonces (nonce, expires_at)
SELECT decode($1, 'hex'), to_timestamp($2::bigint / 1000000.0) FROM async
ON CONFLICT (nonce) DO NOTHING)sql";

// Oldest first through the expiry index, a bounded batch per call.
constexpr const char* kNoncesPrune = R"sql(
DELETE FROM chime.admin_nonces WHERE nonce IN (
  SELECT nonce FROM chime.admin_nonces WHERE expires_at < now() ORDER BY expires_at LIMIT $1))sql";

// Reads CHIME_TOKEN_COLUMNS starting at row[0].
ApiTokenRow ReadToken(const pqxx::row& row) {
  ApiTokenRow t;
  t.name = row[0].c_str();
  t.scope = row[1].c_str();
  t.created_at = MicrosToTime(row[2].as<int64_t>());
  t.created_by = row[3].c_str();
  t.expires_at = OptionalTime(row[4]);
  t.last_used_at = OptionalTime(row[5]);
  t.revoked_at = OptionalTime(row[6]);
  return t;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(digit(hex[2 * i]) * 16 + digit(hex[2 * i + 1]));
  }
  return out;
}

// Names are checked here, not only by the table's CHECK: libpq sends
// parameters as C strings, so "ci\0x" would otherwise revoke "ci".
Result<void> CheckName(const std::string& name) {
  const bool valid = !name.empty() && name.size() <= 64 && name != "bootstrap" &&
                     std::ranges::all_of(name, [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
                     });
  if (valid) return {};
  return Fail(ErrorCode::kInvalidArgument,
              "token name: must be 1-64 characters of A-Z a-z 0-9 _ . - (and not bootstrap)");
}

Error NoSuchToken(const std::string& name) {
  return Error{ErrorCode::kNotFound, "no token named '" + name + "'"};
}

}  // namespace

Result<ApiTokenRow> AuthStore::TokenCreate(const TokenCreateParams& p) {
  if (auto ok = CheckName(p.name); !ok) return std::unexpected(ok.error());
  if (p.scope != "read" && p.scope != "operate" && p.scope != "admin") {
    return Fail(ErrorCode::kInvalidArgument, "scope: must be read, operate or admin");
  }
  if (p.secret_sha256.size() != 32 || p.signing_key.size() != 32) {
    return Fail(ErrorCode::kInvalidArgument, "token: the digest and the public key must be 32 bytes each");
  }
  if (p.expires_in && p.expires_in->count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "expires: must be in the future");
  }
  if (p.created_by.size() > 64 || p.created_by.find('\0') != std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument, "created_by: at most 64 bytes, no NUL");
  }
  std::optional<int64_t> expires_ms;
  if (p.expires_in) expires_ms = p.expires_in->count();
  std::optional<ApiTokenRow> row;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(kCreate, p.name, p.scope, Hex(p.secret_sha256), Hex(p.signing_key),
                            p.created_by, expires_ms);
    if (!r.empty()) row = ReadToken(r[0]);
  });
  if (!ran) return std::unexpected(ran.error());
  if (!row) {
    return Fail(ErrorCode::kAlreadyExists,
                "token '" + p.name + "' exists; revoke it first or choose another name");
  }
  return *row;
}

Result<std::vector<ApiTokenRow>> AuthStore::TokensList() {
  std::vector<ApiTokenRow> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec(kList)) out.push_back(ReadToken(row));
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<ApiTokenRow> AuthStore::TokenRevoke(const std::string& name) {
  if (auto ok = CheckName(name); !ok) return std::unexpected(ok.error());
  std::optional<ApiTokenRow> row;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(kRevoke, name);
    if (!r.empty()) row = ReadToken(r[0]);
  });
  if (!ran) return std::unexpected(ran.error());
  if (!row) return std::unexpected(NoSuchToken(name));
  return *row;
}

Result<std::optional<ApiTokenRow>> AuthStore::TokenFind(const std::string& name) {
  if (auto ok = CheckName(name); !ok) return std::unexpected(ok.error());
  std::optional<ApiTokenRow> row;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(kFind, name);
    if (r.empty()) return;
    row = ReadToken(r[0]);
    row->secret_sha256 = Unhex(r[0][7].c_str());
    row->signing_key = Unhex(r[0][8].c_str());
  });
  if (!ran) return std::unexpected(ran.error());
  return row;
}

Result<std::vector<ApiTokenRow>> AuthStore::TokensLoadAll() {
  std::vector<ApiTokenRow> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    for (const auto& r : tx.exec_params(kLoadAll, kMaxTokensLoaded)) {
      ApiTokenRow row = ReadToken(r);
      row.secret_sha256 = Unhex(r[7].c_str());
      row.signing_key = Unhex(r[8].c_str());
      out.push_back(std::move(row));
    }
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<void> AuthStore::TokenTouch(const std::string& name) {
  if (auto ok = CheckName(name); !ok) return std::unexpected(ok.error());
  return conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    tx.exec_params(kTouch, name);
  });
}

Result<bool> AuthStore::NonceRecord(std::string_view nonce, TimePoint expires_at) {
  if (nonce.empty() || nonce.size() > 64) {
    return Fail(ErrorCode::kInvalidArgument, "nonce: must be 1-64 bytes");
  }
  const int64_t expires_us = duration_cast<microseconds>(expires_at.time_since_epoch()).count();
  bool first = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    first = tx.exec_params(kNonceRecord, Hex(nonce), expires_us).affected_rows() == 1;
  });
  if (!ran) return std::unexpected(ran.error());
  return first;
}

Result<int64_t> AuthStore::NoncesPrune(int limit) {
  if (limit < 1 || limit > kMaxPruneBatch) {
    return Fail(ErrorCode::kInvalidArgument, "limit: must be 1-" + std::to_string(kMaxPruneBatch));
  }
  int64_t deleted = 0;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    deleted = static_cast<int64_t>(tx.exec_params(kNoncesPrune, limit).affected_rows());
  });
  if (!ran) return std::unexpected(ran.error());
  return deleted;
}

#undef CHIME_TOKEN_COLUMNS

}  // namespace chime::db
