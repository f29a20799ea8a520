// `jobctl show` and the job record's field list (common/db/job_fields.h): a
// field the layout does not place still shows, as "json_key: value".
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/db/job_fields.h"
#include "jobctl/text_view.h"

namespace chime::jobctl {
namespace {

TEST(ShowFieldsTest, TheLayoutPlacesOnlyFieldsTheListHas) {
  for (std::string_view placed : kShowPlacedFields) {
    EXPECT_TRUE(std::ranges::any_of(db::kJobFields, [&](const auto& f) { return f.json == placed; }))
        << "kShowPlacedFields names \"" << placed << "\", which no job field has";
  }
}

TEST(ShowFieldsTest, AFieldTheLayoutDoesNotPlaceShowsAsItsJson) {
  db::Job job;
  job.rescue_count = 3;
  job.unique_key = "user-1\nsync";
  std::vector<std::string_view> placed = kShowPlacedFields;
  std::erase(placed, "rescue_count");
  std::erase(placed, "unique_key");
  std::erase(placed, "parent_id");
  std::erase(placed, "dry_run");
  EXPECT_EQ(RenderUnplacedJobFields(job, placed),
            "rescue_count:     3\n"
            "unique_key:       user-1 sync\n"
            "parent_id:        -\n"
            "dry_run:          no\n");
}

TEST(ShowFieldsTest, ShowPlacesEveryFieldToday) {
  EXPECT_EQ(RenderUnplacedJobFields(db::Job{}, kShowPlacedFields), "");
}

}  // namespace
}  // namespace chime::jobctl
