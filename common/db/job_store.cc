#include "common/db/job_store.h"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <random>

#include "common/base/name_rule.h"
#include "common/db/job_store_sql.h"
#include "common/db/pg_array.h"
#include "common/db/row_reader.h"
#include "common/payload/job_payload.h"

namespace chime::db {
namespace {

using std::chrono::milliseconds;

constexpr int kMaxClaim = 1000;
constexpr int kMaxListLimit = 1000;
constexpr size_t kMaxUniqueKeyBytes = 512;
constexpr size_t kMaxWorkerIdBytes = 256;
// Deep enough for any real payload; jsonb itself fails somewhere past 1,000.
constexpr int kMaxJsonDepth = 512;

// True when `s` is well-formed UTF-8 with no NUL byte.
bool ValidText(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    int extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // Truncated sequence.
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// How a JSON text fares against what PostgreSQL's jsonb will store.
enum class JsonVerdict { kOk, kInvalid, kTooDeep, kHasNul };

// Walks a JSON text without building it (nlohmann's SAX parser is
// iterative), so hostile nesting costs no stack. jsonb refuses \u0000 in
// strings and keys, and its own recursion gives out long before kMaxJsonDepth
// would matter to a real payload.
class JsonChecker final : public nlohmann::json_sax<nlohmann::json> {
 public:
  JsonVerdict verdict = JsonVerdict::kOk;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t& s) override { return NoNul(s); }
  bool binary(binary_t&) override { return true; }
  bool key(string_t& s) override { return NoNul(s); }
  bool start_object(std::size_t) override { return Enter(); }
  bool end_object() override { return Leave(); }
  bool start_array(std::size_t) override { return Enter(); }
  bool end_array() override { return Leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    if (verdict == JsonVerdict::kOk) verdict = JsonVerdict::kInvalid;
    return false;
  }

 private:
  bool NoNul(const string_t& s) {
    if (s.find('\0') == string_t::npos) return true;
    verdict = JsonVerdict::kHasNul;
    return false;
  }
  bool Enter() {
    if (++depth_ <= kMaxJsonDepth) return true;
    verdict = JsonVerdict::kTooDeep;
    return false;
  }
  bool Leave() {
    --depth_;
    return true;
  }
  int depth_ = 0;
};

// Finds a top-level "dry_run" or "dryRun" that is true, walking like
// JsonChecker (no recursion, so any nesting is safe).
class DryRunFinder final : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool found = false;

  bool null() override { return Value(); }
  bool boolean(bool v) override {
    if (v && depth_ == 1 && (key_ == "dry_run" || key_ == "dryRun")) found = true;
    return Value();
  }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool key(string_t& s) override {
    if (depth_ == 1) key_ = s;
    return true;
  }
  bool start_object(std::size_t) override { return Enter(); }
  bool end_object() override { return Leave(); }
  bool start_array(std::size_t) override { return Enter(); }
  bool end_array() override { return Leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool Value() {
    if (depth_ == 1) key_.clear();
    return !found;  // Stop once found.
  }
  bool Enter() {
    if (depth_ == 1) key_.clear();
    ++depth_;
    return depth_ <= kMaxJsonDepth;
  }
  bool Leave() {
    --depth_;
    return true;
  }
  int depth_ = 0;
  std::string key_;
};

JsonVerdict CheckJson(std::string_view text) {
  JsonChecker checker;
  const bool ok = nlohmann::json::sax_parse(text, &checker, nlohmann::json::input_format_t::json,
                                            /*strict=*/true);
  if (!ok && checker.verdict == JsonVerdict::kOk) return JsonVerdict::kInvalid;
  return checker.verdict;
}

// Makes an arbitrary handler-provided string storable: invalid UTF-8 bytes
// become U+FFFD and NUL becomes "\0", so errors are never lost to encoding.
std::string SanitizeText(std::string_view s) {
  if (ValidText(s)) return std::string(s);
  std::string out;
  for (size_t i = 0; i < s.size();) {
    // Find the longest valid prefix starting here (1..4 bytes).
    bool ok = false;
    for (size_t len = 1; len <= 4 && i + len <= s.size(); ++len) {
      if (ValidText(s.substr(i, len))) {
        out.append(s.substr(i, len));
        i += len;
        ok = true;
        break;
      }
    }
    if (!ok) {
      out += (s[i] == '\0') ? "\\0" : "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// A handler's summary: valid JSON stays, anything else is kept as a string.
std::string SanitizeSummary(const std::string& summary) {
  if (summary.empty()) return "{}";
  if (CheckJson(summary) == JsonVerdict::kOk) return summary;
  return nlohmann::json(SanitizeText(summary)).dump();
}

std::string ErrorsJson(const std::vector<std::string>& errors) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : errors) arr.push_back(SanitizeText(e));
  return arr.dump();
}

// A UUID's text as PostgreSQL prints it (lower case), for matching tokens.
std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// 8-4-4-4-12 hex digits.
bool ValidUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::optional<int64_t> RunAtMicros(const EnqueueParams& p) {
  if (!p.run_at) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::microseconds>(p.run_at->time_since_epoch()).count();
}

std::optional<int> TimeoutMs(const std::optional<milliseconds>& t) {
  if (!t) return std::nullopt;
  return static_cast<int>(t->count());
}

const char* HowName(CompletionKind kind) {
  switch (kind) {
    case CompletionKind::kSucceeded: return "succeeded";
    case CompletionKind::kFailed: return "failed";
    case CompletionKind::kFailedPermanent: return "failed_permanent";
    case CompletionKind::kCancelled: return "cancelled";
    case CompletionKind::kSkipped: return "skipped";
  }
  return "failed";
}

JobState StateOf(const pqxx::field& f) {
  auto s = ParseJobState(f.c_str());
  if (!s) throw std::runtime_error(std::string("unknown job state in database: ") + f.c_str());
  return *s;
}

// The statements the hot path runs prepared (see Exec).
struct Statement {
  const char* name;
  const char* sql;
};
constexpr Statement kInsertOneStatement{"chime_insert_one", sql::kInsertOne};
constexpr Statement kInsertManyStatement{"chime_insert_many", sql::kInsertMany};
constexpr Statement kClaimStatement{"chime_claim", sql::kClaim};
constexpr Statement kHeartbeatStatement{"chime_heartbeat", sql::kHeartbeat};
constexpr Statement kCompleteStatement{"chime_complete", sql::kComplete};
constexpr Statement kReleaseStatement{"chime_release", sql::kRelease};
constexpr Statement kStatements[] = {kInsertOneStatement,     kInsertManyStatement,
                                     kClaimStatement,
                                     kHeartbeatStatement,     kCompleteStatement,
                                     kReleaseStatement};

// RETURNING order is unspecified; jobs are handed out in claim order.
void SortInClaimOrder(std::vector<ClaimedJob>& jobs) {
  std::sort(jobs.begin(), jobs.end(), [](const ClaimedJob& a, const ClaimedJob& b) {
    return std::tie(a.priority, a.attempted_at, a.id) < std::tie(b.priority, b.attempted_at, b.id);
  });
}

// Runs `s` by name on a session that prepared it; `by_text`, as an unnamed
// statement of its text (parsed and planned each time): through a
// transaction pooler, where the next transaction may run on another server
// session, and in a caller's transaction, whose session may not have
// prepared it.
template <typename... Args>
pqxx::result Exec(pqxx::transaction_base& tx, bool by_text, const Statement& s, Args&&... args) {
  if (by_text) return tx.exec_params(s.sql, std::forward<Args>(args)...);
  return tx.exec_prepared(s.name, std::forward<Args>(args)...);
}


constexpr char kKeyKeptChangingHands[] = "unique key kept changing hands; retry";

// Every job of a batch, before any statement runs; the message names the
// job's index and its field.
Result<void> ValidateBatch(std::span<const EnqueueParams> params, size_t max_payload_bytes) {
  for (size_t i = 0; i < params.size(); ++i) {
    if (auto ok = ValidateEnqueue(params[i], max_payload_bytes); !ok) {
      return Fail(ErrorCode::kInvalidArgument, "job " + std::to_string(i) + ": " + ok.error().message);
    }
  }
  return {};
}

// One validated job with kInsertOne on `tx`; on a live unique key, that
// key's holder (existing=true). A holder may finish between our INSERT and
// SELECT; then the INSERT succeeds on the next round. Bounded: each round
// either inserts or sees a holder, unless holders keep finishing in
// between, and then nullopt. `by_text`: see Exec.
std::optional<EnqueueResult> InsertOneIn(pqxx::transaction_base& tx, bool by_text, const EnqueueParams& p) {
  for (int round = 0; round < 10; ++round) {
    auto r = Exec(tx, by_text, kInsertOneStatement, p.kind, p.queue, p.priority, p.payload, RunAtMicros(p),
                  static_cast<int64_t>(p.delay.count()), p.max_attempts, TimeoutMs(p.timeout), p.unique_key,
                  p.parent_id, DryRun(p), std::string(InvocationName(p.invocation)));
    if (!r.empty()) return EnqueueResult{r[0][0].as<int64_t>(), false, StateOf(r[0][1])};
    auto existing = tx.exec_params(sql::kSelectLiveUnique, p.kind, *p.unique_key);
    if (!existing.empty()) return EnqueueResult{existing[0][0].as<int64_t>(), true, StateOf(existing[0][1])};
  }
  return std::nullopt;
}

// Validated jobs with kInsertMany on `tx`. Sets out[i] and resolved[i] for
// each job inserted or whose unique key a live job holds; the ones left
// unresolved had a holder that finished in between (insert them one by one).
void InsertManyIn(pqxx::transaction_base& tx, bool by_text, std::span<const EnqueueParams> params,
                  std::vector<EnqueueResult>& out, std::vector<bool>& resolved) {
  PgArrayBuilder kinds, queues, priorities, payloads, run_ats, delays, attempts, timeouts, keys,
      parents, dry_runs, invocations;
  for (const auto& p : params) {
    kinds.AddText(p.kind);
    queues.AddText(p.queue);
    priorities.AddInt(p.priority);
    payloads.AddText(p.payload);
    run_ats.AddOptionalInt(RunAtMicros(p));
    delays.AddInt(p.delay.count());
    attempts.AddInt(p.max_attempts);
    timeouts.AddOptionalInt(TimeoutMs(p.timeout));
    keys.AddOptionalText(p.unique_key);
    parents.AddOptionalInt(p.parent_id);
    dry_runs.AddBool(DryRun(p));
    invocations.AddText(std::string(InvocationName(p.invocation)));
  }
  auto r = Exec(tx, by_text, kInsertManyStatement, kinds.Finish(), queues.Finish(), priorities.Finish(),
                payloads.Finish(), run_ats.Finish(), delays.Finish(), attempts.Finish(), timeouts.Finish(),
                keys.Finish(), parents.Finish(), dry_runs.Finish(), invocations.Finish());
  // Keyed rows match by (kind, key); the rest by position, since ids
  // ascend in input order within the statement.
  std::map<std::pair<std::string, std::string>, EnqueueResult> keyed;
  std::vector<EnqueueResult> plain;
  for (const auto& row : r) {
    EnqueueResult e{row[0].as<int64_t>(), false, StateOf(row[1])};
    if (row[3].is_null()) {
      plain.push_back(e);
    } else {
      keyed[{row[2].c_str(), row[3].c_str()}] = e;
    }
  }
  std::sort(plain.begin(), plain.end(), [](auto& a, auto& b) { return a.id < b.id; });
  size_t next_plain = 0;
  PgArrayBuilder miss_kinds, miss_keys;
  bool any_missing = false;
  std::map<std::pair<std::string, std::string>, bool> claimed_by_batch;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    if (!p.unique_key) {
      if (next_plain >= plain.size()) throw std::runtime_error("insert returned too few rows");
      out[i] = plain[next_plain++];
      resolved[i] = true;
      continue;
    }
    auto key = std::make_pair(p.kind, *p.unique_key);
    auto it = keyed.find(key);
    if (it != keyed.end()) {
      out[i] = it->second;
      out[i].existing = claimed_by_batch[key];  // A later duplicate in the batch.
      claimed_by_batch[key] = true;
      resolved[i] = true;
    } else {
      miss_kinds.AddText(p.kind);
      miss_keys.AddText(*p.unique_key);
      any_missing = true;
    }
  }
  if (!any_missing) return;
  auto existing = tx.exec_params(sql::kSelectLiveUniqueMany, miss_kinds.Finish(), miss_keys.Finish());
  std::map<std::pair<std::string, std::string>, EnqueueResult> holders;
  for (const auto& row : existing) {
    holders[{row[2].c_str(), row[3].c_str()}] = {row[0].as<int64_t>(), true, StateOf(row[1])};
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (resolved[i]) continue;
    auto it = holders.find({params[i].kind, *params[i].unique_key});
    if (it != holders.end()) {
      out[i] = it->second;
      resolved[i] = true;
    }
  }
}

}  // namespace

bool PayloadAsksDryRun(std::string_view payload) {
  // Most payloads never name it: a substring test spares them the walk.
  if (payload.find("ry_run") == std::string_view::npos && payload.find("ryRun") == std::string_view::npos) {
    return false;
  }
  DryRunFinder finder;
  nlohmann::json::sax_parse(payload, &finder, nlohmann::json::input_format_t::json, /*strict=*/false);
  return finder.found;
}

std::string NewClaimId() {
  std::random_device random;
  std::array<uint32_t, 4> words{random(), random(), random(), random()};
  words[1] = (words[1] & 0xffff0fffu) | 0x00004000u;  // Version 4,
  words[2] = (words[2] & 0x3fffffffu) | 0x80000000u;  // RFC 4122 variant.
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%04x%08x", words[0], words[1] >> 16,
                words[1] & 0xffffu, words[2] >> 16, words[2] & 0xffffu, words[3]);
  return text;
}

Result<void> JobStoreConfig::Validate() const {
  if (max_payload_bytes == 0) {
    return Fail(ErrorCode::kInvalidArgument, "max_payload_bytes: must be > 0");
  }
  if (retry_backoff.base.count() <= 0 || retry_backoff.cap < retry_backoff.base) {
    return Fail(ErrorCode::kInvalidArgument, "retry_backoff: base must be > 0 and <= cap");
  }
  if (retry_backoff.jitter < 0 || retry_backoff.jitter > 1) {
    return Fail(ErrorCode::kInvalidArgument, "retry_backoff.jitter: must be within [0, 1]");
  }
  return {};
}

Result<void> ValidateEnqueue(const EnqueueParams& p, size_t max_payload_bytes) {
  if (!IsValidName(p.kind)) {
    return Fail(ErrorCode::kInvalidArgument,
                "kind: must be " + std::string(kNameRule));
  }
  if (!IsValidName(p.queue)) {
    return Fail(ErrorCode::kInvalidArgument,
                "queue: must be " + std::string(kNameRule));
  }
  if (p.priority < 0 || p.priority > 9) {
    return Fail(ErrorCode::kInvalidArgument,
                "priority: " + std::to_string(p.priority) + " is out of range 0-9");
  }
  if (p.max_attempts < 1 || p.max_attempts > 1000) {
    return Fail(ErrorCode::kInvalidArgument,
                "max_attempts: " + std::to_string(p.max_attempts) + " is out of range 1-1000");
  }
  if (p.delay.count() < 0) return Fail(ErrorCode::kInvalidArgument, "delay: must not be negative");
  if (p.timeout && (p.timeout->count() <= 0 || p.timeout->count() > INT32_MAX)) {
    return Fail(ErrorCode::kInvalidArgument, "timeout: must be between 1 ms and 24 days");
  }
  if (p.unique_key) {
    if (p.unique_key->empty() || p.unique_key->size() > kMaxUniqueKeyBytes) {
      return Fail(ErrorCode::kInvalidArgument, "unique_key: must be 1-512 bytes");
    }
    if (!ValidText(*p.unique_key)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "unique_key: must be valid UTF-8 without NUL bytes");
    }
  }
  if (p.parent_id && *p.parent_id <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "parent_id: must be a positive job id");
  }
  if (p.payload.size() > max_payload_bytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "payload: " + std::to_string(p.payload.size()) + " bytes exceeds the limit of " +
                    std::to_string(max_payload_bytes));
  }
  if (!ValidText(p.payload)) {
    return Fail(ErrorCode::kInvalidArgument, "payload: must be valid UTF-8 without NUL bytes");
  }
  switch (CheckJson(p.payload)) {
    case JsonVerdict::kOk: return payload::ValidateJobPayload(p.kind, p.payload);
    case JsonVerdict::kInvalid: return Fail(ErrorCode::kInvalidArgument, "payload: not valid JSON");
    case JsonVerdict::kTooDeep:
      return Fail(ErrorCode::kInvalidArgument,
                  "payload: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    case JsonVerdict::kHasNul:
      return Fail(ErrorCode::kInvalidArgument, "payload: strings must not contain \\u0000");
  }
  return {};
}

JobStore::JobStore(Connection& conn, JobStoreConfig config, Rng* rng)
    : conn_(conn), config_(std::move(config)), rng_(rng) {
  if (rng_ == nullptr) {
    owned_rng_ = std::make_unique<DefaultRng>();
    rng_ = owned_rng_.get();
  }
  // The hot path runs prepared: parsed and planned once per session.
  for (const Statement& s : kStatements) conn_.Prepare(s.name, s.sql);
}

JobStore::~JobStore() = default;

Result<EnqueueResult> JobStore::JobInsert(const EnqueueParams& p) {
  if (auto ok = ValidateEnqueue(p, config_.max_payload_bytes); !ok) return std::unexpected(ok.error());
  std::optional<EnqueueResult> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    out = InsertOneIn(tx, conn_.pooled(), p);
  });
  if (!ran) return std::unexpected(ran.error());
  if (!out) return Fail(ErrorCode::kRetryable, kKeyKeptChangingHands);
  return *out;
}

Result<std::vector<EnqueueResult>> JobStore::JobsInsertMany(std::span<const EnqueueParams> params) {
  if (params.empty()) return std::vector<EnqueueResult>{};
  if (auto ok = ValidateBatch(params, config_.max_payload_bytes); !ok) return std::unexpected(ok.error());
  if (CopyEligible(params)) return JobsInsertByCopy(params);
  std::vector<EnqueueResult> out(params.size());
  std::vector<bool> resolved(params.size(), false);
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    InsertManyIn(tx, conn_.pooled(), params, out, resolved);
  });
  if (!ran) return std::unexpected(ran.error());
  // Holders that finished in between: insert those one by one.
  for (size_t i = 0; i < params.size(); ++i) {
    if (resolved[i]) continue;
    auto one = JobInsert(params[i]);
    if (!one) return std::unexpected(one.error());
    out[i] = *one;
  }
  return out;
}

Result<EnqueueResult> JobStore::JobInsertTx(pqxx::transaction_base& tx, const EnqueueParams& p) {
  if (auto ok = ValidateEnqueue(p, config_.max_payload_bytes); !ok) return std::unexpected(ok.error());
  auto out = InsertOneIn(tx, /*by_text=*/true, p);
  if (!out) return Fail(ErrorCode::kRetryable, kKeyKeptChangingHands);
  return *out;
}

Result<std::vector<EnqueueResult>> JobStore::JobsInsertManyTx(pqxx::transaction_base& tx,
                                                              std::span<const EnqueueParams> params) {
  if (params.empty()) return std::vector<EnqueueResult>{};
  if (auto ok = ValidateBatch(params, config_.max_payload_bytes); !ok) return std::unexpected(ok.error());
  std::vector<EnqueueResult> out(params.size());
  std::vector<bool> resolved(params.size(), false);
  InsertManyIn(tx, /*by_text=*/true, params, out, resolved);
  for (size_t i = 0; i < params.size(); ++i) {
    if (resolved[i]) continue;
    auto one = InsertOneIn(tx, /*by_text=*/true, params[i]);
    if (!one) return Fail(ErrorCode::kRetryable, kKeyKeptChangingHands);
    out[i] = *one;
  }
  return out;
}

Result<std::vector<std::optional<std::string>>> JobStore::JobsInsertSelected(
    std::string_view ctes, std::string_view result, std::span<const std::string> params) {
  const std::string statement = sql::InsertSelected(ctes, result);
  std::vector<std::optional<std::string>> row;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    row.clear();
    pqxx::nontransaction tx(c);
    const auto r = tx.exec_params(statement, pqxx::prepare::make_dynamic_params(params.begin(), params.end()));
    if (r.empty()) return;
    for (const auto& field : r[0]) {
      row.push_back(field.is_null() ? std::nullopt : std::optional<std::string>(field.c_str()));
    }
  });
  if (!ran) return std::unexpected(ran.error());
  return row;
}

Result<std::vector<ClaimedJob>> JobStore::JobsClaim(const ClaimParams& params) {
  if (params.limit < 1 || params.limit > kMaxClaim) {
    return Fail(ErrorCode::kInvalidArgument, "limit: must be 1-1000");
  }
  if (params.queues.empty()) return Fail(ErrorCode::kInvalidArgument, "queues: empty");
  for (const auto& q : params.queues) {
    if (!IsValidName(q)) return Fail(ErrorCode::kInvalidArgument, "queues: invalid name");
  }
  if (params.lease.count() <= 0) return Fail(ErrorCode::kInvalidArgument, "lease: must be > 0");
  if (params.worker_id.empty() || params.worker_id.size() > kMaxWorkerIdBytes ||
      !ValidText(params.worker_id)) {
    return Fail(ErrorCode::kInvalidArgument,
                "worker_id: must be 1-256 bytes of UTF-8 without NUL bytes");
  }
  if (!params.claim_id.empty() && !ValidUuid(params.claim_id)) {
    return Fail(ErrorCode::kInvalidArgument, "claim_id: must be a UUID");
  }
  const std::string claim_id = params.claim_id.empty() ? NewClaimId() : params.claim_id;
  std::vector<ClaimedJob> jobs;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    const auto lease_ms = static_cast<int64_t>(params.lease.count());
    PgArrayBuilder queues;
    for (const auto& q : params.queues) queues.AddText(q);
    const pqxx::result r = Exec(tx, conn_.pooled(), kClaimStatement, queues.Finish(), params.limit,
                                lease_ms, params.worker_id, claim_id);
    jobs.reserve(r.size());
    for (const auto& row : r) jobs.push_back(ReadClaimedJob(row));
  });
  if (!ran) return std::unexpected(ran.error());
  SortInClaimOrder(jobs);
  return jobs;
}

Result<std::vector<ClaimedJob>> JobStore::JobsClaimRecover(const ClaimParams& params) {
  if (!ValidUuid(params.claim_id)) return Fail(ErrorCode::kInvalidArgument, "claim_id: must be a UUID");
  if (params.lease.count() <= 0) return Fail(ErrorCode::kInvalidArgument, "lease: must be > 0");
  std::vector<ClaimedJob> jobs;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    // Rare (only after a lost reply): an unnamed statement, pooled or not.
    auto r = tx.exec_params(sql::kClaimRecover, params.claim_id, params.worker_id,
                            static_cast<int64_t>(params.lease.count()));
    jobs.reserve(r.size());
    for (const auto& row : r) jobs.push_back(ReadClaimedJob(row));
  });
  if (!ran) return std::unexpected(ran.error());
  SortInClaimOrder(jobs);
  return jobs;
}

Result<HeartbeatResult> JobStore::JobsHeartbeat(std::span<const Lease> leases,
                                                milliseconds extension) {
  HeartbeatResult out;
  if (leases.empty()) return out;
  if (extension.count() <= 0) return Fail(ErrorCode::kInvalidArgument, "extension: must be > 0");
  PgArrayBuilder ids, tokens;
  std::vector<int64_t> asked;
  for (const auto& l : leases) {
    if (!ValidUuid(l.token)) {
      out.lost.push_back(l.job_id);  // A malformed token cannot hold any lease.
      continue;
    }
    ids.AddInt(l.job_id);
    tokens.AddText(l.token);
    asked.push_back(l.job_id);
  }
  if (asked.empty()) return out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    auto r = Exec(tx, conn_.pooled(), kHeartbeatStatement, ids.Finish(), tokens.Finish(),
                  static_cast<int64_t>(extension.count()));
    for (const auto& row : r) {
      const auto id = row[0].as<int64_t>();
      out.extended.push_back(id);
      if (row[1].as<bool>()) out.cancel_requested.push_back(id);
    }
  });
  if (!ran) return std::unexpected(ran.error());
  std::sort(out.extended.begin(), out.extended.end());
  for (auto id : asked) {
    if (!std::binary_search(out.extended.begin(), out.extended.end(), id)) out.lost.push_back(id);
  }
  return out;
}

Result<std::vector<CompletionResult>> JobStore::JobsCompleteIfLeased(
    std::span<const Completion> completions) {
  std::vector<CompletionResult> out;
  if (completions.empty()) return out;
  PgArrayBuilder ids, tokens, hows, delays, summaries, errors, workers;
  for (const auto& c : completions) {
    out.push_back({c.lease.job_id, false, std::nullopt});
    if (!ValidUuid(c.lease.token)) continue;
    ids.AddInt(c.lease.job_id);
    tokens.AddText(c.lease.token);
    hows.AddText(HowName(c.kind));
    delays.AddInt(c.kind == CompletionKind::kFailed
                      ? BackoffDelay(config_.retry_backoff, c.attempt, *rng_).count()
                      : 0);
    summaries.AddText(SanitizeSummary(c.summary));
    errors.AddText(ErrorsJson(c.errors));
    workers.AddText(SanitizeText(c.worker_id));
  }
  // By job and lease token: a batch may hold a stale attempt of a job beside
  // its current one (the same worker claimed it again while the first
  // outcome waited for the database); only the current token applies.
  std::map<std::pair<int64_t, std::string>, JobState> applied;
  auto ran = conn_.Run([&](pqxx::connection_base& conn) {
    applied.clear();
    pqxx::nontransaction tx(conn);
    auto r = Exec(tx, conn_.pooled(), kCompleteStatement, ids.Finish(), tokens.Finish(), hows.Finish(),
                  delays.Finish(), summaries.Finish(), errors.Finish(), workers.Finish());
    for (const auto& row : r) applied[{row[0].as<int64_t>(), LowerAscii(row[2].c_str())}] = StateOf(row[1]);
  });
  if (!ran) return std::unexpected(ran.error());
  for (size_t i = 0; i < out.size(); ++i) {
    auto it = applied.find({completions[i].lease.job_id, LowerAscii(completions[i].lease.token)});
    if (it != applied.end()) {
      out[i].applied = true;
      out[i].new_state = it->second;
      applied.erase(it);  // The same attempt listed twice applies once.
    }
  }
  return out;
}

Result<std::map<std::pair<int64_t, int>, JobState>> JobStore::JobsCompletionRecorded(
    std::span<const Completion> completions) {
  std::map<std::pair<int64_t, int>, JobState> out;
  if (completions.empty()) return out;
  PgArrayBuilder ids, attempts, workers;
  for (const auto& c : completions) {
    ids.AddInt(c.lease.job_id);
    attempts.AddInt(c.attempt);
    workers.AddText(SanitizeText(c.worker_id));
  }
  auto ran = conn_.Run([&](pqxx::connection_base& conn) {
    pqxx::nontransaction tx(conn);
    // Rare (only after a lost answer): an unnamed statement, pooled or not.
    auto r = tx.exec_params(sql::kCompletionRecorded, ids.Finish(), attempts.Finish(), workers.Finish());
    out.clear();
    for (const auto& row : r) out[{row[0].as<int64_t>(), row[1].as<int>()}] = StateOf(row[2]);
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<bool> JobStore::JobProgressSetIfLeased(const Lease& lease,
                                              const std::string& progress_json) {
  if (progress_json.size() > config_.max_payload_bytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "progress: " + std::to_string(progress_json.size()) + " bytes exceeds the limit of " +
                    std::to_string(config_.max_payload_bytes));
  }
  if (!ValidText(progress_json) || CheckJson(progress_json) != JsonVerdict::kOk) {
    return Fail(ErrorCode::kInvalidArgument, "progress: not storable JSON");
  }
  if (!ValidUuid(lease.token)) return false;
  bool applied = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    // Token match alone: it is set only while the job runs (see kHeartbeat).
    auto r = tx.exec_params(
        "UPDATE chime.jobs SET progress = $3::jsonb WHERE id = $1 AND lease_token = $2::uuid",
        lease.job_id, lease.token, progress_json);
    applied = r.affected_rows() == 1;
  });
  if (!ran) return std::unexpected(ran.error());
  return applied;
}

Result<std::vector<int64_t>> JobStore::JobsReleaseIfLeased(std::span<const Lease> leases,
                                                           const std::string& worker_id) {
  std::vector<int64_t> released;
  PgArrayBuilder ids, tokens;
  bool any = false;
  for (const auto& l : leases) {
    if (!ValidUuid(l.token)) continue;
    ids.AddInt(l.job_id);
    tokens.AddText(l.token);
    any = true;
  }
  if (!any) return released;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    auto r = Exec(tx, conn_.pooled(), kReleaseStatement, ids.Finish(), tokens.Finish(),
                  SanitizeText(worker_id));
    for (const auto& row : r) released.push_back(row[0].as<int64_t>());
  });
  if (!ran) return std::unexpected(ran.error());
  return released;
}

Result<RescueResult> JobStore::JobsRescue(const RescueParams& params) {
  return Rescue(params, sql::kRescue);
}

Result<RescueResult> JobStore::JobsRescuePreview(const RescueParams& params) {
  return Rescue(params, sql::kRescuePreview);
}

Result<RescueResult> JobStore::Rescue(const RescueParams& params, const char* statement) {
  if (params.max_rescues < 0) return Fail(ErrorCode::kInvalidArgument, "max_rescues: must be >= 0");
  if (params.limit < 1) return Fail(ErrorCode::kInvalidArgument, "limit: must be >= 1");
  if (params.silent_for && params.silent_for->count() < 1) {
    return Fail(ErrorCode::kInvalidArgument, "silent_for: must be at least 1 s");
  }
  std::optional<int64_t> silent_s;
  if (params.silent_for) silent_s = params.silent_for->count();
  RescueResult out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(statement, params.max_rescues, params.limit, silent_s);
    for (const auto& row : r) {
      const auto state = StateOf(row[1]);
      (IsFinished(state) ? out.discarded : out.rescued).push_back(row[0].as<int64_t>());
    }
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<CleanupResult> JobStore::JobsCleanupPreview(std::chrono::hours retention) {
  const auto retention_s = std::chrono::duration_cast<std::chrono::seconds>(retention).count();
  CleanupResult out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(sql::kCleanupPreview, static_cast<int64_t>(retention_s));
    out.jobs_deleted = r[0][0].as<int64_t>();
    out.runs_deleted = r[0][1].as<int64_t>();
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<CleanupResult> JobStore::JobsCleanup(const CleanupParams& params) {
  if (params.batch_size < 1 || params.batch_size > 100'000 || params.max_batches < 1) {
    return Fail(ErrorCode::kInvalidArgument, "batch_size: must be 1-100000 and max_batches >= 1");
  }
  CleanupResult out;
  const auto retention_s =
      static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(params.retention).count());
  // The run ledger's coming days first, so today's runs never wait in a
  // catch-all partition (migration 0025).
  auto ensured = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    tx.exec(sql::kRunsPartitionsEnsure);
  });
  if (!ensured) return std::unexpected(ensured.error());
  int batches = 0;
  for (const char* statement : {sql::kCleanupJobs, sql::kCleanupRuns}) {
    int64_t& counter = statement == sql::kCleanupJobs ? out.jobs_deleted : out.runs_deleted;
    while (true) {
      if (batches >= params.max_batches) {
        out.more = true;
        return out;
      }
      int64_t deleted = 0;
      auto ran = conn_.Run([&](pqxx::connection_base& c) {
        pqxx::nontransaction tx(c);
        auto r = tx.exec_params(statement, retention_s, params.batch_size);
        deleted = r[0][0].as<int64_t>();
        // The runs' statement also answers the jobs that went with the runs
        // that held them.
        if (statement == sql::kCleanupRuns) out.jobs_deleted += r[0][1].as<int64_t>();
      });
      if (!ran) return std::unexpected(ran.error());
      ++batches;
      counter += deleted;
      if (deleted < params.batch_size) break;
    }
  }
  return out;
}

Result<CancelOutcome> JobStore::JobCancel(int64_t id) {
  std::optional<CancelOutcome> outcome;
  std::optional<JobState> found;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    auto r = tx.exec_params("SELECT state FROM chime.jobs WHERE id = $1 FOR UPDATE", id);
    if (r.empty()) r = tx.exec_params(sql::kHeldJobState, id);  // Finished: nothing to do.
    if (r.empty()) return;
    found = StateOf(r[0][0]);
    if (IsFinished(*found)) return;
    if (*found == JobState::kRunning) {
      tx.exec_params("UPDATE chime.jobs SET cancel_requested = true WHERE id = $1", id);
      outcome = CancelOutcome::kCancelRequested;
    } else {
      tx.exec_params(
          "UPDATE chime.jobs SET state = 'cancelled', outcome = 'cancelled', finished_at = now(), "
          "last_error = 'cancelled by an operator' WHERE id = $1",
          id);
      tx.exec_params(sql::kMarkCancelledFinal, id);
      outcome = CancelOutcome::kCancelled;
    }
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (!found) return Fail(ErrorCode::kNotFound, "job " + std::to_string(id) + " not found");
  if (!outcome) {
    return Fail(ErrorCode::kFailedPrecondition, "job " + std::to_string(id) + " already " +
                                                    std::string(JobStateName(*found)));
  }
  return *outcome;
}

Result<Job> JobStore::JobRetry(int64_t id) {
  std::optional<JobState> found;
  std::optional<Job> job;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    auto r = tx.exec_params("SELECT state FROM chime.jobs WHERE id = $1 FOR UPDATE", id);
    const bool held = r.empty();
    if (held) r = tx.exec_params(sql::kHeldJobState, id);
    if (r.empty()) return;
    found = StateOf(r[0][0]);
    if (*found == JobState::kRunning || *found == JobState::kSucceeded) return;
    // A job its final run holds comes back to chime.jobs first.
    if (held) tx.exec_params(sql::kRestoreHeldJob, id);
    auto updated = tx.exec_params(
        std::string("UPDATE chime.jobs SET state = 'available', run_at = now(), "
                    "finished_at = NULL, outcome = NULL, cancel_requested = false, "
                    "max_attempts = greatest(max_attempts, attempt + 1) "
                    "WHERE id = $1 RETURNING ") +
            sql::kJobColumns,
        id);
    job = ReadJob(updated[0]);
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (!found) return Fail(ErrorCode::kNotFound, "job " + std::to_string(id) + " not found");
  if (!job) {
    return Fail(ErrorCode::kFailedPrecondition, "job " + std::to_string(id) + " is " +
                                                    std::string(JobStateName(*found)) +
                                                    "; only pending or failed jobs can be retried");
  }
  return *job;
}

Result<JobWithRuns> JobStore::JobGet(int64_t id) {
  std::optional<JobWithRuns> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c, "job_get");  // One snapshot for the job and its runs.
    auto r = tx.exec_params(std::string("SELECT ") + sql::kJobColumns +
                                " FROM chime.jobs_all WHERE id = $1",
                            id);
    if (r.empty()) return;
    out.emplace();
    out->job = ReadJob(r[0]);
    if (out->job.Waiting()) {
      // jobs_live_children_idx holds exactly these.
      out->job.children_live = tx.exec_params(
          "SELECT count(*) FROM chime.jobs WHERE parent_id = $1 AND outcome IS NULL", id)[0][0].as<int64_t>();
    }
    auto runs = tx.exec_params(std::string("SELECT ") + sql::kRunColumns +
                                   " FROM chime.runs WHERE job_id = $1 ORDER BY finished_at, id",
                               id);
    for (const auto& row : runs) out->runs.push_back(ReadRun(row));
    auto children = tx.exec_params(
        "SELECT state, coalesce(outcome, ''), count(*) FROM chime.jobs_all WHERE parent_id = $1 "
        "GROUP BY state, outcome",
        id);
    for (const auto& row : children) {
      out->children[StateOf(row[0])] += row[2].as<int64_t>();
      out->children_outcomes[row[1].c_str()] += row[2].as<int64_t>();
    }
    if (out->job.state == JobState::kAvailable || out->job.state == JobState::kRetryable ||
        out->job.state == JobState::kScheduled) {
      for (const auto& row : tx.exec_params(sql::kLimitWaits, id)) {
        LimitWait w = ReadLimitWait(row);
        const bool full = (w.concurrency && w.running >= *w.concurrency) ||
                          (w.rate && w.started_in_window >= *w.rate);
        if (full) out->waiting_on.push_back(std::move(w));
      }
      auto paused = tx.exec_params("SELECT " CHIME_US("paused_at") ", changed_by FROM chime.queues "
                                   "WHERE name = $1 AND paused_at IS NOT NULL",
                                   out->job.queue);
      if (!paused.empty()) {
        out->queue_paused_at = MicrosToTime(paused[0][0].as<int64_t>());
        out->queue_paused_by = paused[0][1].c_str();
      }
    }
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (!out) return Fail(ErrorCode::kNotFound, "job " + std::to_string(id) + " not found");
  return std::move(*out);
}

Result<Job> JobStore::JobFind(int64_t id) {
  std::optional<Job> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(std::string("SELECT ") + sql::kJobColumns + " FROM chime.jobs_all WHERE id = $1", id);
    if (!r.empty()) out = ReadJob(r[0]);
  });
  if (!ran) return std::unexpected(ran.error());
  if (!out) return Fail(ErrorCode::kNotFound, "job " + std::to_string(id) + " not found");
  return std::move(*out);
}

Result<JobPage> JobStore::JobsList(const ListParams& params) {
  if (params.limit < 1 || params.limit > kMaxListLimit) {
    return Fail(ErrorCode::kInvalidArgument, "limit: must be 1-1000");
  }
  // A name no job can have is a caller's mistake, not an empty result.
  if (params.kind && !IsValidName(*params.kind)) {
    return Fail(ErrorCode::kInvalidArgument, "kind: must be " + std::string(kNameRule));
  }
  if (params.queue && !IsValidName(*params.queue)) {
    return Fail(ErrorCode::kInvalidArgument, "queue: must be " + std::string(kNameRule));
  }
  if (params.schedule && !IsValidName(*params.schedule)) {
    return Fail(ErrorCode::kInvalidArgument, "schedule: must be " + std::string(kNameRule));
  }
  if (params.scan_ids && *params.scan_ids < params.limit) {
    return Fail(ErrorCode::kInvalidArgument, "scan_ids: must be at least the limit");
  }
  // Filters become parameters; an unset one is NULL and matches everything.
  std::optional<std::string> states;
  if (!params.states.empty()) {
    PgArrayBuilder b;
    for (auto s : params.states) b.AddText(JobStateName(s));
    states = b.Finish();
  }
  std::optional<std::string> outcomes;
  if (!params.outcomes.empty()) {
    PgArrayBuilder b;
    for (auto o : params.outcomes) b.AddText(JobOutcomeName(o));
    outcomes = b.Finish();
  }
  auto micros = [](const std::optional<TimePoint>& t) -> std::optional<int64_t> {
    if (!t) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::microseconds>(t->time_since_epoch()).count();
  };
  JobPage page;
  bool unknown_schedule = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    page.jobs.clear();
    pqxx::nontransaction tx(c);
    std::optional<int64_t> schedule_id;
    if (params.schedule) {
      auto found = tx.exec_params("SELECT id FROM chime.schedules WHERE name = $1", *params.schedule);
      if (found.empty()) {
        unknown_schedule = true;
        return;
      }
      schedule_id = found[0][0].as<int64_t>();
    }
    const bool other_filters = states || outcomes || params.kind || params.queue || params.since || params.until;
    // A window of ids below the cursor, unless an index narrows the rows.
    std::optional<int64_t> floor_id;
    if (params.scan_ids && !schedule_id && !params.parent_id && other_filters) {
      const int64_t top =
          params.before_id ? *params.before_id
                           : tx.exec("SELECT coalesce(greatest((SELECT max(id) FROM chime.jobs_live), "
                                     "(SELECT max(id) FROM chime.jobs_held)), 0) + 1")[0][0].as<int64_t>();
      floor_id = top - *params.scan_ids;
    }
    const std::string where =
        " WHERE ($1::text[] IS NULL OR state = ANY($1::text[]))"
        " AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR queue = $3)"
        " AND ($4::bigint IS NULL OR created_at >= to_timestamp($4::bigint / 1000000.0))"
        " AND ($5::bigint IS NULL OR created_at < to_timestamp($5::bigint / 1000000.0))"
        " AND ($6::bigint IS NULL OR id < $6)"
        " AND ($8::bigint IS NULL OR schedule_id = $8)"
        " AND ($9::text[] IS NULL OR outcome = ANY($9::text[]))"
        " AND ($10::bigint IS NULL OR parent_id = $10)"
        " AND ($11::bigint IS NULL OR id >= $11)";
    // Newest first down the primary key, or down jobs_schedule_idx /
    // jobs_parent_idx (id is their second column), on each side of
    // chime.jobs_all (the held side down runs_held_idx and its schedule
    // and parent indexes), then merged: the union itself is planned
    // unordered (migration 0030). A schedule with more filters reads all of
    // that schedule's jobs first (OFFSET 0 keeps the planner from walking
    // the primary key past every other schedule's jobs on a guess of how
    // many match: 350 ms for none in a million).
    auto side = [&](const char* view) {
      return std::string("(SELECT * FROM ") + view + where + " ORDER BY id DESC LIMIT $7)";
    };
    const std::string text =
        schedule_id && other_filters
            ? std::string("SELECT ") + sql::kJobColumns + " FROM (SELECT * FROM chime.jobs_all" + where +
                  " OFFSET 0) j ORDER BY id DESC LIMIT $7"
            : std::string("SELECT ") + sql::kJobColumns + " FROM (" + side("chime.jobs_live") + " UNION ALL " +
                  side("chime.jobs_held") + ") j ORDER BY id DESC LIMIT $7";
    auto r = tx.exec_params(text, states, params.kind, params.queue, micros(params.since), micros(params.until),
                            params.before_id, params.limit + 1, schedule_id, outcomes, params.parent_id, floor_id);
    for (const auto& row : r) page.jobs.push_back(ReadJob(row));
    if (static_cast<int>(page.jobs.size()) <= params.limit && floor_id &&
        !tx.exec_params("SELECT 1 FROM chime.jobs_all WHERE id < $1 LIMIT 1", *floor_id).empty()) {
      page.searched_to_id = *floor_id;
    }
  });
  if (!ran) return std::unexpected(ran.error());
  if (unknown_schedule) return Fail(ErrorCode::kNotFound, "schedule " + *params.schedule + " not found");
  if (static_cast<int>(page.jobs.size()) > params.limit) {
    page.jobs.pop_back();
    page.next_before_id = page.jobs.back().id;
  } else if (page.searched_to_id) {
    page.next_before_id = page.searched_to_id;  // Older jobs are still to search.
  }
  return page;
}

Result<Stats> JobStore::JobsStats() {
  Stats stats;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c, "job_stats");
    for (const auto& row : tx.exec(sql::kStats)) {
      stats.rows.push_back({row[0].c_str(), row[1].c_str(), StateOf(row[2]), row[3].as<int64_t>()});
    }
    for (const auto& row : tx.exec(sql::kQueueDepth)) {
      stats.queues.push_back(
          {row[0].c_str(), row[1].as<int64_t>(), milliseconds(std::max<int64_t>(0, row[2].as<int64_t>()))});
    }
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  return stats;
}

}  // namespace chime::db
