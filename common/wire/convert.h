// Conversions between the job store's types (common/db/job.h) and their
// chime.v1 messages, used by the scheduler's admin service and by jobctl.
// Times travel as Unix milliseconds; 0 means unset.
#pragma once

#include "chime/v1/chime.pb.h"
#include "common/base/error.h"
#include "common/db/job.h"
#include "common/db/worker_directory.h"

namespace chime::wire {

v1::Job ToProto(const db::Job& job);
db::Job FromProto(const v1::Job& job);
v1::Run ToProto(const db::Run& run);
db::Run FromProto(const v1::Run& run);
v1::JobPage ToProto(const db::JobPage& page);
db::JobPage FromProto(const v1::JobPage& page);
v1::JobWithRuns ToProto(const db::JobWithRuns& job);
db::JobWithRuns FromProto(const v1::JobWithRuns& job);
v1::StatsReply ToProto(const db::Stats& stats);
db::Stats FromProto(const v1::StatsReply& stats);
// A worker's seen_by and started_at do not travel.
v1::WorkerInfo ToProto(const db::WorkerRow& worker);
db::WorkerRow FromProto(const v1::WorkerInfo& worker);

v1::EnqueueRequest ToProto(const db::EnqueueParams& params);
// InvalidArgument names a field that has no db equivalent (an unknown state).
Result<db::EnqueueParams> FromProto(const v1::EnqueueRequest& request);
v1::ListRequest ToProto(const db::ListParams& params);
Result<db::ListParams> FromProto(const v1::ListRequest& request);

v1::ErrorCode ToProto(ErrorCode code);
ErrorCode FromProto(v1::ErrorCode code);
v1::Error ToProto(const Error& error);
Error FromProto(const v1::Error& error);

}  // namespace chime::wire
