// The endpoint's answer is the run's result: each rule of http_response.h,
// on the seeds' documented bodies, and hostile bytes that must still become
// valid UTF-8 that jsonb accepts.
#include "worker/kinds/http_response.h"

#include <gtest/gtest.h>

#include "worker/kinds/response_text.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;
using Kind = ResponseVerdict::Kind;

constexpr char kWhere[] = "POST https://app.example.com/api/cron";

payload::HttpRequestPayload Request(json payload = json::object()) {
  if (!payload.contains("url")) payload["url"] = "https://app.example.com/api/cron";
  auto p = payload::ParseHttpRequestPayload(payload);
  EXPECT_TRUE(p.has_value()) << p.error().message;
  return p.value_or(payload::HttpRequestPayload{});
}

ResponseVerdict Judge(int status, const std::string& body, const std::string& content_type = "application/json",
                      const payload::HttpRequestPayload& request = Request(), bool complete = true) {
  return JudgeResponse({.status = status, .content_type = content_type, .body = body,
                        .body_bytes = body.size(), .body_complete = complete},
                       request, kWhere);
}

// What storing the summary would do: serialise strictly (as the executor
// does) and hold no U+0000 (jsonb refuses it).
void ExpectStorable(const ResponseVerdict& v) {
  std::string dumped;
  ASSERT_NO_THROW(dumped = v.fields.dump());
  EXPECT_EQ(dumped.find("\\u0000"), std::string::npos);
  for (const auto& e : v.errors) {
    EXPECT_EQ(RepairUtf8(e), e);
    for (char c : e) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << e;
  }
  EXPECT_EQ(RepairUtf8(v.skip_reason), v.skip_reason);
}

// 000_edb3c7a58f658e25.txt, "Successful Execution".
constexpr char kSeed000[] = R"({"success": true, "data": {"summary": {"processed": 45, "successful": 45,
  "failed": 0, "updated": 3, "unchanged": 42, "totalCorrections": 5}, "mode": "live", "invocation_type": "cron",
  "results": {"updated": [{"examId": "40577087837", "previousCount": 8, "actualCount": 7}], "unchanged": [],
  "failed": []}}, "message": "\u23f0 Scheduled sync complete: 3 exams updated"})";

TEST(HttpResponseTest, Seed000SucceedsWithItsCountsAsFields) {
  ResponseVerdict v = Judge(200, kSeed000);
  EXPECT_EQ(v.kind, Kind::kSucceeded);
  EXPECT_EQ(v.fields["response"]["data"]["summary"]["processed"], 45);
  EXPECT_EQ(v.fields["response"]["data"]["invocation_type"], "cron");
  EXPECT_EQ(v.fields["counts"]["processed"], 45);
  EXPECT_EQ(v.fields["counts"]["totalCorrections"], 5);
  EXPECT_FALSE(v.fields["counts"].contains("success"));  // A boolean is not a count.
  EXPECT_EQ(v.fields["httpStatus"], 200);
  ExpectStorable(v);
}

// 001_8e7c22c027dcc927.txt: counts at the top level.
TEST(HttpResponseTest, Seed001CountsAtTheTopLevel) {
  ResponseVerdict v = Judge(200, R"({"message": "Sync completed", "usersProcessed": 10, "providersSync": 25,
    "successCount": 23, "failureCount": 2, "durationMs": 15000})");
  EXPECT_EQ(v.kind, Kind::kSucceeded);
  EXPECT_EQ(v.fields["counts"]["successCount"], 23);
  EXPECT_EQ(v.fields["counts"]["failureCount"], 2);
  EXPECT_EQ(v.fields["response"]["usersProcessed"], 10);
}

// 003_391429336cd2c739.txt: status success / partial / failed under data.
TEST(HttpResponseTest, Seed003StatusUnderDataDecides) {
  const std::string partial = R"({"success": true, "data": {"job_id": "j1", "status": "partial",
    "summary": {"total_processed": 70, "total_success": 65, "total_failed": 5, "success_rate": 0.93}}})";
  ResponseVerdict v = Judge(200, partial);
  EXPECT_EQ(v.kind, Kind::kPartial);
  ASSERT_EQ(v.errors.size(), 1u);
  EXPECT_NE(v.errors[0].find("partial"), std::string::npos);
  EXPECT_EQ(v.fields["counts"]["total_failed"], 5);
  EXPECT_EQ(v.fields["counts"]["success_rate"], 0.93);

  ResponseVerdict failed = Judge(200, R"({"success": true, "data": {"status": "failed",
    "error_message": "QContact API returned 503"}})");
  EXPECT_EQ(failed.kind, Kind::kFailed);
  EXPECT_FALSE(failed.retryable);  // A failure body is not retried by default.
  EXPECT_EQ(Judge(200, R"({"data": {"status": "success"}})").kind, Kind::kSucceeded);
}

// 004_75fd9dceafe005e5.txt: errors[] is a partial success; skipped: true is
// the overlap answer; skipped: 3 is a counter.
TEST(HttpResponseTest, Seed004ErrorsArePartialAndSkippedTrueIsASkip) {
  ResponseVerdict v = Judge(200, R"({"total": 7, "resolved": 4, "skipped": 2, "backfilled": 0,
    "errors": ["Failed to process appt_102: timeout", "Failed to process appt_107: not found"]})");
  EXPECT_EQ(v.kind, Kind::kPartial);
  EXPECT_EQ(v.errors, (std::vector<std::string>{"Failed to process appt_102: timeout",
                                                "Failed to process appt_107: not found"}));
  EXPECT_EQ(v.fields["counts"]["resolved"], 4);
  EXPECT_EQ(v.fields["counts"]["skipped"], 2);
  EXPECT_EQ(v.fields["errorCount"], 2);

  ResponseVerdict skip = Judge(200, R"({"skipped": true, "reason": "locked"})");
  EXPECT_EQ(skip.kind, Kind::kSkipped);
  EXPECT_EQ(skip.skip_reason, "locked");

  EXPECT_EQ(Judge(200, R"({"total": 0, "resolved": 0, "skipped": 0, "errors": []})").kind, Kind::kSucceeded);
}

TEST(HttpResponseTest, FailureBodiesFailAndRetryOnlyWhenAsked) {
  for (const char* body : {R"({"success": false, "error": "HubSpot down"})", R"({"status": "error"})",
                           R"({"data": {"status": "failed"}})"}) {
    ResponseVerdict v = Judge(200, body);
    EXPECT_EQ(v.kind, Kind::kFailed) << body;
    EXPECT_FALSE(v.retryable) << body;
    EXPECT_TRUE(Judge(200, body, "application/json", Request({{"retryOn", {"failureBody"}}})).retryable) << body;
  }
  ResponseVerdict v = Judge(200, R"({"success": false, "error": "HubSpot down", "errors": ["exam 1", "exam 2"]})");
  ASSERT_EQ(v.errors.size(), 3u);
  EXPECT_EQ(v.errors[0], std::string(kWhere) + ": the endpoint reported failure: HubSpot down");
  EXPECT_EQ(v.errors[1], "exam 1");
}

TEST(HttpResponseTest, UnexpectedStatusesFailWithTheBodysMessageAndRetryAsConfigured) {
  ResponseVerdict unauthorized = Judge(401, R"({"error": "Unauthorized"})");
  EXPECT_EQ(unauthorized.kind, Kind::kFailed);
  EXPECT_FALSE(unauthorized.retryable);
  EXPECT_EQ(unauthorized.errors[0], std::string(kWhere) + " answered HTTP 401: Unauthorized");
  EXPECT_EQ(unauthorized.fields["response"]["error"], "Unauthorized");
  EXPECT_TRUE(Judge(503, "busy", "text/plain").retryable);
  EXPECT_TRUE(Judge(429, "").retryable);
  EXPECT_TRUE(Judge(408, "").retryable);
  EXPECT_FALSE(Judge(404, "").retryable);
  EXPECT_FALSE(Judge(503, "", "text/plain", Request({{"retryOn", {"timeout"}}})).retryable);
  EXPECT_TRUE(Judge(409, "", "text/plain", Request({{"retryOn", {409}}})).retryable);
  // expectStatus replaces "any 2xx".
  EXPECT_EQ(Judge(204, "", "", Request({{"expectStatus", {200}}})).kind, Kind::kFailed);
  EXPECT_EQ(Judge(302, "", "", Request({{"expectStatus", {302}}})).kind, Kind::kSucceeded);
}

TEST(HttpResponseTest, ErrorItemsAreMessagesCutTo1KiBAndAtMost100) {
  json errors = json::array();
  errors.push_back({{"message", "exam 1 failed"}, {"code", 7}});
  errors.push_back({{"id", 2}});
  errors.push_back(std::string(3000, 'x') + "\xC3\xA9");
  for (int i = 0; i < 200; ++i) errors.push_back("e" + std::to_string(i));
  ResponseVerdict v = Judge(200, json{{"errors", errors}}.dump());
  EXPECT_EQ(v.kind, Kind::kPartial);
  ASSERT_EQ(v.errors.size(), kMaxResponseErrors);
  EXPECT_EQ(v.errors[0], "exam 1 failed");
  EXPECT_EQ(v.errors[1], R"({"id":2})");
  EXPECT_LE(v.errors[2].size(), kMaxErrorBytes);
  EXPECT_TRUE(v.errors[2].ends_with("..."));
  EXPECT_EQ(v.fields["errorCount"], 203);
  ExpectStorable(v);
}

TEST(HttpResponseTest, ResponsePointersReadOtherShapes) {
  const auto request = Request({{"response", {{"errors", "/result/failures"}, {"skipped", "/meta/idle"},
                                              {"reason", "/meta/why"}, {"counts", "/result/tally"},
                                              {"success", "/ok"}}}});
  ResponseVerdict partial = Judge(200, R"({"ok": true, "result": {"failures": [{"message": "row 9"}],
    "tally": {"rows": 10, "bad": 1}}, "errors": ["ignored: not where the pointer says"]})", "application/json",
                                  request);
  EXPECT_EQ(partial.kind, Kind::kPartial);
  EXPECT_EQ(partial.errors, std::vector<std::string>{"row 9"});
  EXPECT_EQ(partial.fields["counts"], json({{"rows", 10}, {"bad", 1}}));
  ResponseVerdict skip = Judge(200, R"({"meta": {"idle": true, "why": "nothing due"}})", "application/json", request);
  EXPECT_EQ(skip.kind, Kind::kSkipped);
  EXPECT_EQ(skip.skip_reason, "nothing due");
  EXPECT_EQ(Judge(200, R"({"ok": false})", "application/json", request).kind, Kind::kFailed);
}

TEST(HttpResponseTest, JsonIsFoundByContentTypeOrByContent) {
  EXPECT_EQ(Judge(200, R"({"errors": ["x"]})", "text/plain").kind, Kind::kPartial);
  EXPECT_EQ(Judge(200, R"(  [1, 2])", "").fields["response"], json({1, 2}));
  // Not JSON after all: the status rule, a text excerpt.
  ResponseVerdict v = Judge(200, "{oops", "application/json");
  EXPECT_EQ(v.kind, Kind::kSucceeded);
  EXPECT_EQ(v.fields["response"]["truncated"], true);
  ResponseVerdict text = Judge(200, "<html>ok</html>", "text/html");
  EXPECT_EQ(text.kind, Kind::kSucceeded);
  EXPECT_EQ(text.fields["bodyExcerpt"], "<html>ok</html>");
  EXPECT_FALSE(text.fields.contains("response"));
}

TEST(HttpResponseTest, LargeJsonIsKeptAsA64KiBExcerptAndStillJudged) {
  json big = {{"errors", {"one failed"}}, {"rows", json::array()}};
  for (int i = 0; i < 20000; ++i) big["rows"].push_back({{"id", i}, {"state", "done"}});
  ResponseVerdict v = Judge(200, big.dump());
  EXPECT_EQ(v.kind, Kind::kPartial);
  EXPECT_EQ(v.fields["response"]["truncated"], true);
  EXPECT_LE(v.fields["response"]["excerpt"].get<std::string>().size(), kMaxResponseJsonBytes);
  ExpectStorable(v);
}

TEST(HttpResponseTest, HostileBytesBecomeStorableText) {
  const std::string bodies[] = {
      std::string("{\"errors\": [\"bad \xff\xfe byte\", \"nul \\u0000 inside\"], \"k\\u0000\": \"v\"}"),
      std::string(4095, 'a') + "\xC3\xA9",  // A cut inside a character, as in issue 18.
      "\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80 plain",
      std::string(1 << 20, '['),  // Nesting a serialiser would recurse into.
      "{\"skipped\": true, \"reason\": \"\x01\x02\xff\"}",
      std::string("raw \0 NUL in a text body\0", 26),  // Found by fuzz_http_response.
      std::string("{\"errors\": [\"raw \0 NUL\"]}", 24),
  };
  for (const std::string& body : bodies) {
    for (const char* type : {"application/json", "text/plain"}) {
      ResponseVerdict v = Judge(200, body, type);
      ExpectStorable(v);
    }
  }
  ResponseVerdict v = Judge(200, bodies[0]);
  EXPECT_EQ(v.kind, Kind::kPartial);
  EXPECT_EQ(v.errors[0], "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");
  EXPECT_EQ(v.errors[1], "nul \xEF\xBF\xBD inside");
  EXPECT_EQ(v.fields["response"]["errors"][1], "nul \xEF\xBF\xBD inside");
  EXPECT_TRUE(v.fields["response"].contains("k\xEF\xBF\xBD"));
}

TEST(HttpResponseTest, ABodyCutAtTheReadCapIsTruncatedAndJudgedByStatus) {
  const std::string head = R"({"errors": ["x"], "rows": [)" + std::string(5000, '1');
  ResponseVerdict v = Judge(200, head, "application/json", Request(), /*complete=*/false);
  EXPECT_EQ(v.kind, Kind::kSucceeded);
  EXPECT_EQ(v.fields["response"]["truncated"], true);
  EXPECT_EQ(v.fields["responseComplete"], false);
  ResponseVerdict text = Judge(500, std::string(9000, 'z'), "text/plain", Request(), /*complete=*/false);
  EXPECT_EQ(text.kind, Kind::kFailed);
  EXPECT_EQ(text.fields["bodyTruncated"], true);
  EXPECT_EQ(text.fields["bodyExcerpt"].get<std::string>().size(), kBodyExcerptBytes);
}

TEST(ResponseTextTest, RepairReplacesEachMaximalInvalidSubpart) {
  EXPECT_EQ(RepairUtf8("plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(RepairUtf8("\x80"), "\xEF\xBF\xBD");
  EXPECT_EQ(RepairUtf8("\xE2\x82"), "\xEF\xBF\xBD");               // Truncated: one U+FFFD.
  EXPECT_EQ(RepairUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");   // Overlong: two.
  EXPECT_EQ(RepairUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // Surrogate.
  EXPECT_EQ(RepairUtf8("\xF4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(RepairUtf8(std::string_view("a\0b", 3)), std::string("a\0b", 3));  // NUL is valid UTF-8.
}

TEST(ResponseTextTest, CutNeverSplitsACharacter) {
  EXPECT_EQ(CutUtf8("ab\xC3\xA9", 3), "ab");
  EXPECT_EQ(CutUtf8("ab\xC3\xA9", 4), "ab\xC3\xA9");
  EXPECT_EQ(CutUtf8("\xF0\x9F\x98\x80x", 3), "");
  EXPECT_EQ(ErrorLine("a\nb\tc\x7f\xC2\x85", 100), "a b c  ");
  EXPECT_EQ(ErrorLine(std::string(20, 'x'), 10), "xxxxxxx...");
}

}  // namespace
}  // namespace chime::worker::kinds
