// Every frame a peer can send is decoded into a valid envelope or one
// InvalidArgument naming the problem: garbage, truncation, oversize, newer
// protocols and out-of-range values never reach the processes' logic.
#include "common/wire/envelope.h"

#include <gtest/gtest.h>

#include <random>

namespace chime::wire {
namespace {

v1::Envelope Hello() {
  v1::Envelope e;
  auto* h = e.mutable_hello();
  h->set_worker_id("worker-1");
  h->set_host("host");
  h->set_pid(42);
  h->add_queues("default");
  h->set_slots(16);
  h->set_free_slots(16);
  return e;
}

v1::Envelope JobResult() {
  v1::Envelope e;
  auto* r = e.mutable_result();
  r->set_worker_id("worker-1");
  r->set_job_id(7);
  r->set_attempt(1);
  r->set_kind("noop");
  r->set_queue("default");
  r->set_outcome(v1::SUCCEEDED);
  return e;
}

void ExpectInvalid(const Result<v1::Envelope>& r, std::string_view mentions) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find(mentions), std::string::npos) << r.error().message;
}

TEST(EnvelopeTest, RoundTripsEveryWorkerMessage) {
  for (const auto& e : {Hello(), JobResult()}) {
    auto decoded = DecodeEnvelope(EncodeEnvelope(e));
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_EQ(decoded->protocol(), v1::PROTOCOL_V1);
    EXPECT_EQ(decoded->body_case(), e.body_case());
  }
  auto decoded = DecodeEnvelope(EncodeEnvelope(Hello()));
  EXPECT_EQ(decoded->hello().worker_id(), "worker-1");
  EXPECT_EQ(decoded->hello().slots(), 16);
  EXPECT_EQ(BodyName(*decoded), "hello");
}

TEST(EnvelopeTest, RejectsEmptyAndOversizedFramesBeforeParsing) {
  ExpectInvalid(DecodeEnvelope(""), "frame: empty");
  const std::string big(kMaxFrameBytes + 1, 'x');
  ExpectInvalid(DecodeEnvelope(big), "exceeds");
  ExpectInvalid(DecodeEnvelope(std::string(101, 'x'), 100), "101 bytes exceeds 100");
}

TEST(EnvelopeTest, RejectsGarbageAndEveryTruncation) {
  ExpectInvalid(DecodeEnvelope("GET / HTTP/1.1\r\n\r\n"), "not a chime.v1.Envelope");
  const std::string whole = EncodeEnvelope(Hello());
  // Every strict prefix either fails to parse or fails validation: a cut
  // message is never taken for a smaller valid one.
  for (size_t n = 0; n < whole.size(); ++n) {
    auto r = DecodeEnvelope(whole.substr(0, n));
    EXPECT_FALSE(r.has_value()) << "prefix of " << n << " bytes decoded";
  }
}

TEST(EnvelopeTest, RandomBytesNeverCrashAndAreAlmostAlwaysRejected) {
  std::mt19937_64 rng(20261123);
  int accepted = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string frame(1 + rng() % 64, '\0');
    for (char& c : frame) c = static_cast<char>(rng());
    auto r = DecodeEnvelope(frame);
    if (r.has_value()) {
      ++accepted;
      EXPECT_TRUE(ValidateEnvelope(*r).has_value());
    }
  }
  EXPECT_LT(accepted, 200);  // Only frames that happen to be valid envelopes.
}

TEST(EnvelopeTest, RejectsMissingAndNewerProtocols) {
  v1::Envelope e = Hello();
  e.set_protocol(v1::PROTOCOL_UNSPECIFIED);
  ExpectInvalid(DecodeEnvelope(e.SerializeAsString()), "protocol: missing");
  e.set_protocol(static_cast<v1::Protocol>(7));
  ExpectInvalid(DecodeEnvelope(e.SerializeAsString()), "protocol: 7 is newer");
  // Found by fuzz_envelope: a negative version was accepted and re-encoded.
  e.set_protocol(static_cast<v1::Protocol>(-1));
  ExpectInvalid(DecodeEnvelope(e.SerializeAsString()), "protocol: -1 is not a protocol version");
}

TEST(EnvelopeTest, RejectsAnEnvelopeWithNoBody) {
  v1::Envelope e;
  ExpectInvalid(DecodeEnvelope(EncodeEnvelope(e)), "body: no message set");
}

TEST(EnvelopeTest, RejectsOutOfRangeHelloValues) {
  struct Case {
    const char* name;
    void (*mutate)(v1::WorkerHello*);
    const char* mentions;
  };
  const Case cases[] = {
      {"zero slots", [](v1::WorkerHello* h) { h->set_slots(0); h->set_free_slots(0); },
       "hello.slots: 0 is out of range 1-1000"},
      {"too many slots", [](v1::WorkerHello* h) { h->set_slots(1'000'000); }, "hello.slots"},
      {"free above slots", [](v1::WorkerHello* h) { h->set_free_slots(17); }, "hello.free_slots"},
      {"negative free", [](v1::WorkerHello* h) { h->set_free_slots(-1); }, "hello.free_slots"},
      {"no queues", [](v1::WorkerHello* h) { h->clear_queues(); }, "hello.queues: at least one"},
      {"bad queue", [](v1::WorkerHello* h) { h->add_queues("'); DROP TABLE jobs;--"); },
       "hello.queues"},
      {"empty id", [](v1::WorkerHello* h) { h->clear_worker_id(); }, "hello.worker_id"},
      {"long id", [](v1::WorkerHello* h) { h->set_worker_id(std::string(300, 'w')); },
       "hello.worker_id"},
      {"NUL in id", [](v1::WorkerHello* h) { h->set_worker_id(std::string("w\0x", 3)); },
       "hello.worker_id: contains a NUL byte"},
      {"NUL in host", [](v1::WorkerHello* h) { h->set_host(std::string("h\0", 2)); },
       "hello.host: contains a NUL byte"},
      {"long version", [](v1::WorkerHello* h) { h->set_version(std::string(300, 'v')); },
       "hello.version: longer than 256 bytes"},
      {"too many queues",
       [](v1::WorkerHello* h) {
         for (int i = 0; i < 100; ++i) h->add_queues("q" + std::to_string(i));
       },
       "hello.queues: 101 entries exceed 64"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    v1::Envelope e = Hello();
    c.mutate(e.mutable_hello());
    ExpectInvalid(DecodeEnvelope(EncodeEnvelope(e)), c.mentions);
  }
}

TEST(EnvelopeTest, RejectsOutOfRangeResultValues) {
  v1::Envelope unknown_outcome = JobResult();
  unknown_outcome.mutable_result()->set_outcome(static_cast<v1::Outcome>(99));
  ExpectInvalid(DecodeEnvelope(EncodeEnvelope(unknown_outcome)), "result.outcome: 99");
  v1::Envelope no_job = JobResult();
  no_job.mutable_result()->set_job_id(-5);
  ExpectInvalid(DecodeEnvelope(EncodeEnvelope(no_job)), "result.job_id");
  v1::Envelope attempt = JobResult();
  attempt.mutable_result()->set_attempt(0);
  ExpectInvalid(DecodeEnvelope(EncodeEnvelope(attempt)), "result.attempt");
  v1::Envelope duration = JobResult();
  duration.mutable_result()->set_duration_ms(-1);
  ExpectInvalid(DecodeEnvelope(EncodeEnvelope(duration)), "result.duration_ms");
}

TEST(EnvelopeTest, ABatchOfResultsHoldsOneToAThousandValidResults) {
  v1::Envelope batch;
  for (int i = 0; i < 2; ++i) *batch.mutable_results()->add_results() = JobResult().result();
  auto decoded = DecodeEnvelope(EncodeEnvelope(batch));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_EQ(BodyName(*decoded), "results");
  EXPECT_EQ(decoded->results().results_size(), 2);

  v1::Envelope empty;
  empty.mutable_results();
  ExpectInvalid(DecodeEnvelope(EncodeEnvelope(empty)), "results: 0 results, must be 1-1000");
  v1::Envelope too_many;
  for (int i = 0; i <= kMaxBatchedResults; ++i) {
    *too_many.mutable_results()->add_results() = JobResult().result();
  }
  ExpectInvalid(DecodeEnvelope(EncodeEnvelope(too_many)), "results: 1001 results");
  // One bad result refuses the whole message, naming it.
  v1::Envelope bad = batch;
  bad.mutable_results()->mutable_results(1)->set_attempt(0);
  ExpectInvalid(DecodeEnvelope(EncodeEnvelope(bad)), "results[1]: result.attempt");
}

TEST(EnvelopeTest, RejectsDispatchAndHeartbeatOutOfRange) {
  v1::Envelope d;
  d.mutable_dispatch()->set_max_jobs(0);
  ExpectInvalid(DecodeEnvelope(EncodeEnvelope(d)), "dispatch.max_jobs");
  v1::Envelope hb;
  hb.mutable_heartbeat()->set_worker_id("w");
  for (int i = 0; i < 1001; ++i) hb.mutable_heartbeat()->add_running_jobs(i + 1);
  ExpectInvalid(DecodeEnvelope(EncodeEnvelope(hb)), "heartbeat.running_jobs");
}

TEST(EnvelopeTest, RejectsMalformedSignedRequests) {
  v1::Envelope e;
  auto* s = e.mutable_admin_request();
  s->set_timestamp_ms(1);
  s->set_nonce(std::string(15, 'n'));
  s->set_signature(std::string(32, 's'));
  s->set_body("x");
  ExpectInvalid(DecodeEnvelope(EncodeEnvelope(e)), "admin_request.nonce");
}

TEST(EnvelopeTest, RejectsInvalidUtf8InStrings) {
  v1::Envelope e = Hello();
  e.mutable_hello()->set_host("\xff\xfe");
  ExpectInvalid(DecodeEnvelope(e.SerializeAsString()), "not a chime.v1.Envelope");
}

TEST(ValidNameTest, AcceptsTheStoreAlphabetOnly) {
  EXPECT_TRUE(ValidName("sync_integration"));
  EXPECT_TRUE(ValidName("a.b:c-d_9"));
  EXPECT_FALSE(ValidName(""));
  EXPECT_FALSE(ValidName(std::string(129, 'a')));
  EXPECT_TRUE(ValidName(std::string(128, 'a')));
  EXPECT_FALSE(ValidName("a b"));
  EXPECT_FALSE(ValidName(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace chime::wire
