// The job record's field list (common/db/job_fields.h) against the shapes
// expanded from it: each row reaches the proto field and the JSON key it
// names and comes back from the proto, and the proto has no field the list
// forgot. (A db::Job member missing from the list fails the build.)
#include "common/db/job_fields.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/text_format.h>
#include <nlohmann/json.hpp>

#include "common/view/json_view.h"
#include "common/wire/convert.h"

namespace chime::wire {
namespace {

using std::chrono::milliseconds;

// A value other than a default-constructed db::Job's, per member type.
template <typename T>
T Sample();
template <>
int64_t Sample<int64_t>() { return 4242; }
template <>
int Sample<int>() { return 7; }
template <>
bool Sample<bool>() { return true; }
template <>
std::string Sample<std::string>() { return "sample"; }
template <>
db::TimePoint Sample<db::TimePoint>() { return db::TimePoint(milliseconds(1'700'000'000'123)); }
template <>
milliseconds Sample<milliseconds>() { return milliseconds(1500); }
template <>
db::JobState Sample<db::JobState>() { return db::JobState::kDiscarded; }
template <>
db::JobOutcome Sample<db::JobOutcome>() { return db::JobOutcome::kPartial; }
template <>
db::Invocation Sample<db::Invocation>() { return db::Invocation::kCron; }

template <typename T>
struct SampleOf {
  static T Get() { return Sample<T>(); }
};
template <typename T>
struct SampleOf<std::optional<T>> {
  static std::optional<T> Get() { return Sample<T>(); }
};

// Finished, its outcome not yet known: a waiting fan-out, so that the
// kWhileWaiting field shows in the JSON.
db::Job BaseJob() {
  db::Job job;
  job.state = db::JobState::kSucceeded;
  return job;
}

// The proto fields `message` sets that `base` does not, or sets otherwise.
std::set<std::string> ProtoFieldsChanged(const v1::Job& base, const v1::Job& message) {
  std::set<std::string> out;
  const auto* reflection = v1::Job::GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const auto* field : fields) {
    v1::Job one_base, one_message;
    one_base.CopyFrom(base);
    one_message.CopyFrom(message);
    // Compare the field alone: clear every other field on both sides.
    for (int i = 0; i < v1::Job::descriptor()->field_count(); ++i) {
      const auto* other = v1::Job::descriptor()->field(i);
      if (other == field) continue;
      reflection->ClearField(&one_base, other);
      reflection->ClearField(&one_message, other);
    }
    if (one_base.SerializeAsString() != one_message.SerializeAsString()) out.insert(field->name());
  }
  return out;
}

TEST(JobFieldsTest, EveryFieldReachesItsProtoFieldAndJsonKeyAndComesBack) {
  int rows = 0;
#define CHIME_JOB_FIELD_CHECK(member, column, proto, key, encoding)                                 \
  {                                                                                                 \
    ++rows;                                                                                         \
    SCOPED_TRACE(#member);                                                                          \
    const db::Job base = BaseJob();                                                                 \
    db::Job changed = base;                                                                         \
    changed.member = SampleOf<decltype(changed.member)>::Get();                                     \
    const v1::Job base_proto = ToProto(base);                                                       \
    const v1::Job changed_proto = ToProto(changed);                                                 \
    EXPECT_EQ(ProtoFieldsChanged(base_proto, changed_proto), std::set<std::string>{#proto});        \
    EXPECT_EQ(FromProto(changed_proto).member, changed.member) << "lost on the way back";          \
    const auto base_json = view::JobJson(base);                                                     \
    const auto changed_json = view::JobJson(changed);                                               \
    ASSERT_TRUE(changed_json.contains(key));                                                        \
    EXPECT_NE(changed_json[key], base_json[key]) << "the JSON key does not show the member";        \
  }
  CHIME_JOB_FIELDS(CHIME_JOB_FIELD_CHECK)
#undef CHIME_JOB_FIELD_CHECK
  EXPECT_EQ(rows, static_cast<int>(std::size(db::kJobFields)));
}

// Every field set, as a waiting fan-out (so waiting_for_children shows).
db::Job FullJob() {
  db::Job j;
  j.id = 42;
  j.kind = "sync_integration";
  j.queue = "q1";
  j.priority = 3;
  j.state = db::JobState::kSucceeded;
  j.payload = R"({"a":[1,2]})";
  j.attempt = 2;
  j.max_attempts = 5;
  j.rescue_count = 1;
  j.timeout = milliseconds(1500);
  j.unique_key = "uk";
  j.parent_id = 7;
  j.dry_run = true;
  j.cancel_requested = true;
  j.worker_id = "w-1";
  j.created_at = db::TimePoint(milliseconds(1'700'000'000'123));
  j.run_at = db::TimePoint(milliseconds(1'700'000'001'123));
  j.attempted_at = db::TimePoint(milliseconds(1'700'000'002'123));
  j.finished_at = db::TimePoint(milliseconds(1'700'000'003'123));
  j.last_error = "boom\nline";
  j.progress = R"({"done":3})";
  j.invocation = db::Invocation::kCron;
  j.schedule_id = 9;
  j.schedule_name = "nightly";
  j.scheduled_for = db::TimePoint(milliseconds(1'700'000'000'000));
  j.fan_out = true;
  j.children_live = 12;
  return j;
}

// The shapes the hand-written conversions produced before the list existed
// (the dashboard, scripts and older binaries read them). Fields added later
// are not named here and not compared.
constexpr const char* kPinnedJson = R"({
  "id": 42, "kind": "sync_integration", "queue": "q1", "priority": 3, "state": "succeeded",
  "outcome": null, "payload": {"a": [1, 2]}, "attempt": 2, "max_attempts": 5, "rescue_count": 1,
  "timeout_ms": 1500, "unique_key": "uk", "parent_id": 7, "dry_run": true, "invocation": "cron",
  "cancel_requested": true, "worker_id": "w-1", "created_at": "2023-11-14T22:13:20.123Z",
  "run_at": "2023-11-14T22:13:21.123Z", "attempted_at": "2023-11-14T22:13:22.123Z",
  "finished_at": "2023-11-14T22:13:23.123Z", "last_error": "boom\nline", "progress": {"done": 3},
  "schedule_id": 9, "schedule": "nightly", "scheduled_for": "2023-11-14T22:13:20.000Z",
  "fan_out": true, "waiting_for_children": 12})";
constexpr const char* kPinnedProto =
    R"(id: 42 kind: "sync_integration" queue: "q1" priority: 3 state: "succeeded" )"
    R"(payload_json: "{\"a\":[1,2]}" attempt: 2 max_attempts: 5 rescue_count: 1 timeout_ms: 1500 )"
    R"(unique_key: "uk" parent_id: 7 schedule_id: 9 scheduled_for_ms: 1700000000000 dry_run: true )"
    R"(cancel_requested: true worker_id: "w-1" created_at_ms: 1700000000123 run_at_ms: 1700000001123 )"
    R"(attempted_at_ms: 1700000002123 finished_at_ms: 1700000003123 last_error: "boom\nline" )"
    R"(progress_json: "{\"done\":3}" invocation: "cron" schedule_name: "nightly" fan_out: true )"
    R"(children_live: 12)";

TEST(JobFieldsTest, TheShapesOfEveryExistingFieldAreUnchanged) {
  const db::Job job = FullJob();
  const auto pinned_json = nlohmann::ordered_json::parse(kPinnedJson);
  const auto json = view::JobJson(job);
  for (const auto& [key, value] : pinned_json.items()) {
    ASSERT_TRUE(json.contains(key)) << key;
    EXPECT_EQ(json[key], value) << key;
  }
  std::vector<std::string> order;
  for (const auto& [key, value] : json.items()) {
    if (pinned_json.contains(key)) order.push_back(key);
  }
  std::vector<std::string> pinned_order;
  for (const auto& [key, value] : pinned_json.items()) pinned_order.push_back(key);
  EXPECT_EQ(order, pinned_order) << "the JSON's key order changed";

  v1::Job pinned_proto;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kPinnedProto, &pinned_proto));
  // Compare the fields the pinned message sets (all pinned values are set,
  // none is 0 or "").
  std::vector<const google::protobuf::FieldDescriptor*> pinned_fields;
  const auto* reflection = v1::Job::GetReflection();
  reflection->ListFields(pinned_proto, &pinned_fields);
  v1::Job proto = ToProto(job);
  for (int i = 0; i < v1::Job::descriptor()->field_count(); ++i) {
    const auto* field = v1::Job::descriptor()->field(i);
    if (std::ranges::find(pinned_fields, field) == pinned_fields.end()) reflection->ClearField(&proto, field);
  }
  EXPECT_EQ(proto.ShortDebugString(), pinned_proto.ShortDebugString());

  // And back: the pinned message reads as the pinned JSON.
  const auto back = view::JobJson(FromProto(pinned_proto));
  for (const auto& [key, value] : pinned_json.items()) EXPECT_EQ(back[key], value) << key;
}

TEST(JobFieldsTest, NamesAreUniqueInEveryShape) {
  std::set<std::string_view> members, columns, protos, keys;
  for (const auto& f : db::kJobFields) {
    EXPECT_TRUE(members.insert(f.member).second) << f.member;
    if (!f.column.empty()) {
      EXPECT_TRUE(columns.insert(f.column).second) << f.column;
    }
    EXPECT_TRUE(protos.insert(f.proto).second) << f.proto;
    EXPECT_TRUE(keys.insert(f.json).second) << f.json;
  }
}

TEST(JobFieldsTest, TheJsonViewHasNoKeyTheListLacks) {
  const auto json = view::JobJson(BaseJob());
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  std::vector<std::string> listed;
  for (const auto& f : db::kJobFields) listed.emplace_back(f.json);
  EXPECT_EQ(keys, listed);  // Same keys, in the list's order.
}

TEST(JobFieldsTest, EveryProtoFieldIsListedOrDeclaredNotCarried) {
  std::set<std::string> carried;
  for (const auto& f : db::kJobFields) carried.emplace(f.proto);
  for (const auto& name : db::kJobProtoFieldsNotInJob) carried.emplace(name);
  const auto* descriptor = v1::Job::descriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    EXPECT_TRUE(carried.contains(descriptor->field(i)->name()))
        << "chime.v1.Job." << descriptor->field(i)->name()
        << " has no row in CHIME_JOB_FIELDS (common/db/job_fields.h)";
  }
  for (const auto& name : db::kJobProtoFieldsNotInJob) {
    EXPECT_NE(descriptor->FindFieldByName(std::string(name)), nullptr) << name;
  }
}

}  // namespace
}  // namespace chime::wire
