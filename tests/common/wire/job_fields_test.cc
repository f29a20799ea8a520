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
#define CHIME_JOB_FIELD_CHECK(member, proto, key, encoding)                                         \
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

TEST(JobFieldsTest, NamesAreUniqueInEveryShape) {
  std::set<std::string_view> members, protos, keys;
  for (const auto& f : db::kJobFields) {
    EXPECT_TRUE(members.insert(f.member).second) << f.member;
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
