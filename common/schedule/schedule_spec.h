// What a schedule is, as users write it: in a YAML file loaded at scheduler
// start, through `jobctl schedule create`, or imported from a vercel.json.
// Validation here is the one place that decides whether a schedule is good;
// the database, the scheduler and jobctl all call it. Pure apart from reading
// the zone database; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/cron/cron.h"
#include "common/schedule/health_spec.h"
#include "common/schedule/limit_spec.h"

namespace chime::schedule {

// What a tick does while the schedule's previous job is still live
// (scheduled, available, running or retryable).
enum class OverlapPolicy {
  kSkip,           // Record the tick as skipped_overlap; enqueue nothing (the seeds' "skipped: locked").
  kAllow,          // Enqueue regardless.
  kBufferOne,      // Keep at most one tick waiting; it is enqueued when the live job finishes.
  kCancelRunning,  // Ask the live job to cancel, then enqueue the new one.
};
// "skip", "allow", "buffer_one", "cancel_running" (as in schedules.overlap_policy).
std::string_view OverlapPolicyName(OverlapPolicy policy);
std::optional<OverlapPolicy> ParseOverlapPolicy(std::string_view name);

// What happens to ticks that passed while no scheduler ran.
enum class MisfirePolicy {
  kSkip,     // Drop them; fire at the next tick.
  kRunOnce,  // Fire once for the latest missed tick (the default).
  kRunAll,   // Fire every missed tick, oldest first, up to the scheduler's cap.
};
// "skip", "run_once", "run_all" (as in schedules.misfire_policy).
std::string_view MisfirePolicyName(MisfirePolicy policy);
std::optional<MisfirePolicy> ParseMisfirePolicy(std::string_view name);

struct ScheduleSpec {
  std::string name;                // 1-128 of A-Z a-z 0-9 _ . : -
  std::string cron;                // Five fields or a macro (see common/cron).
  std::string time_zone = "UTC";   // IANA name.
  std::string kind;                // Job kind, same alphabet as name.
  std::string payload = "{}";      // JSON text of the job payload.
  std::string queue = "default";   // Same alphabet as name.
  int priority = 0;                // 0 (first) .. 9 (last).
  int max_attempts = 20;           // 1 .. 1000.
  std::optional<std::chrono::milliseconds> timeout;  // 0 < t <= 7 d; unset: the worker's default.
  std::chrono::milliseconds jitter{0};  // 0 .. 1 h: each fire's job runs up to this much later.
  OverlapPolicy overlap = OverlapPolicy::kSkip;
  MisfirePolicy misfire = MisfirePolicy::kRunOnce;
  bool paused = false;
  HealthSpec health;  // Alert thresholds that differ from the defaults (health_spec.h).
};

// Checks every field; the error (InvalidArgument, one line) names the first
// bad field in declaration order: `cron: minute: 60 is out of range 0-59`,
// `time_zone: "Mars/Base": not in the zone database`, `payload: not valid JSON
// (...)`, `priority: 12 is out of range 0-9`. The payload must also satisfy
// its kind's rules (payload::ValidateJobPayload: an http_request payload
// carries no secret, ...). Limits: name, kind and queue as
// in the comments above (the DB CHECK); payload any JSON value of at most
// 1 MiB, nested at most 64 arrays/objects deep, no U+0000 in strings (jsonb
// refuses it); max_attempts 1-1000; timeout at most 7 days; jitter 0-1 h.
// Messages quote at most 64 characters of a value and never the payload.
// cron_options is for test clocks only.
[[nodiscard]] Result<void> Validate(const ScheduleSpec& spec, cron::ParseOptions cron_options = {});

// One bad entry of a schedule file.
struct Problem {
  size_t index = 0;        // 0-based position in the file's list.
  bool limit = false;      // An entry of `limits:`, not of `schedules:`.
  std::string name;        // The entry's name, or "" when it has none.
  std::string message;     // "cron: minute: 60 is out of range 0-59".
};

// Parses a schedule file:
//
//   schedules:
//     - name: reconcile-exam-capacity
//       cron: "0 */2 * * *"
//       kind: reconcile_exam_capacity
//       time_zone: Europe/Berlin      # optional, default UTC
//       payload: {dry_run: false}     # any YAML value, stored as JSON
//       queue: default                # optional
//       priority: 0                   # optional
//       max_attempts: 3               # optional
//       timeout: 5m                   # optional duration
//       jitter: 30s                   # optional duration
//       overlap: skip                 # skip | allow | buffer_one | cancel_running
//       misfire: run_once             # skip | run_once | run_all
//       paused: false                 # optional
//       health:                       # optional overrides of the alert rules
//         failure_rate: 0.25          # or off; see health_spec.h for every key
//         no_success_within: 2d
//
// Unknown or repeated keys, missing name/cron/kind, values of the wrong type,
// duplicate names (on the later entry) and every Validate failure are
// problems; each bad entry gets one, for the first thing wrong with it.
// Integers and booleans must be plain (unquoted) scalars; booleans are only
// true and false. Durations need a unit ("30s"): a bare number other than 0
// is a problem. In a payload, a plain scalar that is a JSON number, true or
// false becomes that; null, ~ and an empty value become null; every other
// scalar, and any quoted or tagged one, is a string (so yes, 0x1F, 007 and
// .inf stay strings). Map keys in a payload must be scalars and unique.
// Against hostile files: over 4 MiB is refused, yaml-cpp's own nesting guard
// turns very deep input into an error, payloads nest at most 64 levels, and
// aliases may expand to at most 1,000,000 values and 64 MiB of text per file.
//
// Removing a schedule is explicit: a file schedule that is no longer listed
// is kept (a truncated file or an older replica's file must not delete
// anything); its name goes under `remove:` to delete it:
//
//   schedules: [...]
//   remove: [old-report, legacy-sync]   # file schedules to delete
//
// Its fire history stays either way.
//
// Cluster-wide limits (limit_spec.h) may sit beside the schedules; each is
// checked like a schedule entry (problems name "limits entry N"):
//
//   limits:
//     - name: github-rate
//       kind: sync_integration
//       partition_by: provider
//       rate: 5000/1h          # and/or concurrency: N
//       queue: default         # optional, as kind
struct ParsedFile {
  std::vector<ScheduleSpec> schedules;  // The good entries, in file order.
  std::vector<LimitSpec> limits;        // The good `limits:` entries, in file order.
  std::vector<Problem> problems;        // Every bad entry, in file order.
  std::vector<std::string> remove;      // Names under `remove:`, in file order.
};
// Malformed YAML or a top level that is not {schedules: [...], remove:
// [...]} is an error (InvalidArgument, "FILE:LINE:COL: message", 1-based);
// per-entry problems are collected, never thrown away. An empty file and
// `schedules:` without a value are errors (what a truncated file or an
// empty ConfigMap looks like); `schedules: []` is an empty list. A `remove`
// entry that is not a schedule name, is listed twice or is also under
// `schedules` is an error. `source` names the file in messages. Never throws.
[[nodiscard]] Result<ParsedFile> ParseScheduleFile(std::string_view yaml_text,
                                                   std::string_view source,
                                                   cron::ParseOptions cron_options = {});
// Reads and parses a file; a missing or unreadable file is InvalidArgument.
[[nodiscard]] Result<ParsedFile> LoadScheduleFile(const std::string& path,
                                                  cron::ParseOptions cron_options = {});
// The `limits:` of a kinds file (the worker's --kinds-config; the scheduler
// reads it for its limits only): a top-level list of the same entries as a
// schedule file's `limits:`, read and checked by the same code, with the
// same problems ("limits entry N"). Every other top-level key is the
// worker's and is not looked at here; a file without `limits:`, or an empty
// one, declares none. Malformed YAML, a top level that is not a map, or
// `limits:` that is not a list is an error like ParseScheduleFile's.
struct ParsedLimits {
  std::vector<LimitSpec> limits;   // The good entries, in file order.
  std::vector<Problem> problems;   // Every bad entry, in file order.
};
[[nodiscard]] Result<ParsedLimits> ParseKindsFileLimits(std::string_view yaml_text, std::string_view source);
// Reads and parses a file; a missing or unreadable file is InvalidArgument.
[[nodiscard]] Result<ParsedLimits> LoadKindsFileLimits(const std::string& path);

// The limits of two files (a scheduler's schedule file and kinds file), as
// one list for one sync: `a` then `b`. A name declared in both is
// InvalidArgument naming it and both files: one limit has one definition.
[[nodiscard]] Result<std::vector<LimitSpec>> CombineFileLimits(std::string_view a_source,
                                                               const std::vector<LimitSpec>& a,
                                                               std::string_view b_source,
                                                               const std::vector<LimitSpec>& b);

// "FILE: entry 3 (nightly-fanout): cron: minute: 60 is out of range 0-59", one
// line per problem, joined with '\n' and without a trailing one. The number is
// Problem::index (0-based); "(name)" is left out when the entry has none.
std::string FormatProblems(std::string_view source, const std::vector<Problem>& problems);

// The importers' options say how imported http_request schedules call their
// endpoints; a field left unset keeps the importer's default (below).
// auth: "bearer" (Authorization: Bearer <secret>, Vercel's CRON_SECRET),
// "x-cron-secret" (004's header), "header:NAME" (any header, e.g.
// header:x-cron-key for 002) or "none"; the secret is named by secret_ref
// (env:NAME or file:/absolute/path), never the secret itself. timeout is the
// call's own limit (payload timeoutMs, at most 1 h); the job's timeout is
// left unset so that the worker grants the call that plus a margin.

// Turns a vercel.json's "crons" list ([{"path": "/api/cron/sync", "schedule":
// "*/5 * * * *"}]) into schedules of kind http_request that call
// base_url + path. Defaults, as Vercel calls a cron: GET, `Authorization:
// Bearer <secret>` (secret_ref, default env:CRON_SECRET), UTC, the payload's
// default timeout (5 min), max_attempts 3 (Vercel itself does not retry;
// three attempts ride out a deploy), overlap skip, misfire run_once; every
// one can be changed (method POST for routes that only take POST, auth
// x-cron-secret or header:NAME, ...). Names are "vercel" plus the path made
// name-safe ("vercel-api-cron-sync"), made unique with -2, -3 .. A base URL
// that is not http(s)://host[:port][/prefix], a missing or non-list "crons",
// an entry without path or schedule, or a bad schedule is an error naming
// the entry.
//
// Details: the URL is base_url without trailing '/' + "/" + path without its
// leading '/'; the path keeps its query. A base URL holding '@' (credentials)
// is refused so that no secret lands in a payload; messages never echo
// base_url or secret_ref. Names: every run of characters outside
// [A-Za-z0-9] in the path becomes one '-', lower-cased, the whole name cut to
// 100 bytes ("/api/cron/sync-integrations?interval=15min" ->
// "vercel-api-cron-sync-integrations-interval-15min"). Each spec passes
// Validate (its payload ParseHttpRequestPayload). The first bad input is the
// error; nothing is half-imported.
struct VercelImportOptions {
  std::string base_url;
  std::string secret_ref = "env:CRON_SECRET";
  std::optional<std::string> auth;    // Default bearer.
  std::optional<std::string> method;  // Default GET.
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<int> max_attempts;    // Default 3.
  std::optional<OverlapPolicy> overlap;
  std::optional<std::string> time_zone;  // Default UTC.
};
[[nodiscard]] Result<std::vector<ScheduleSpec>> ImportVercel(std::string_view vercel_json,
                                                             const VercelImportOptions& options);

// Turns the JSON of `gcloud scheduler jobs list --format=json` (a list of
// Cloud Scheduler jobs; one job object is taken too) into http_request
// schedules, one per job, named after the job (the last part of "name"):
//   schedule, timeZone            -> cron, time_zone (default UTC)
//   httpTarget.uri, .httpMethod   -> url, method (default POST, as Cloud Scheduler)
//   httpTarget.headers            -> headers; a credential header
//                                    (x-cron-key: ..., Authorization: Bearer ...)
//                                    becomes auth {type header|bearer} with
//                                    secret_ref: its value is never copied
//   httpTarget.body (base64)      -> body (JSON when it parses as JSON)
//   attemptDeadline ("180s")      -> timeoutMs
//   retryConfig.retryCount        -> max_attempts = retryCount + 1 (default 1:
//                                    Cloud Scheduler's default is no retries)
//   state PAUSED                  -> paused
// Options override what the export says (auth replaces the detected one).
// Refused, naming the job: Pub/Sub and App Engine targets, OIDC/OAuth tokens
// (Google mints those; Chime cannot), more than one credential header, a
// schedule in App Engine's "every 5 minutes" form, a body that is not UTF-8.
struct CloudSchedulerImportOptions {
  std::string secret_ref = "env:CRON_SECRET";
  std::optional<std::string> auth;  // Default: what the job's headers show.
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<int> max_attempts;
  std::optional<OverlapPolicy> overlap;
  std::optional<std::string> time_zone;
};
[[nodiscard]] Result<std::vector<ScheduleSpec>> ImportCloudScheduler(std::string_view gcloud_json,
                                                                     const CloudSchedulerImportOptions& options);

}  // namespace chime::schedule
