// The admin commands' one declaration (common/admin/commands.h) and the
// generic halves built from it (common/admin/dispatch.h): a request case
// without a command fails here, each command's codec names its own request
// and reply cases, and a command run in process (jobctl's database path)
// answers as the same command dispatched from its request (the scheduler's
// path), through the one implementation.
#include "common/admin/dispatch.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>

#include "common/auth/api_token.h"
#include "common/auth/request_scopes.h"
#include "common/db/migrations.h"
#include "tests/support/test_database.h"

namespace chime::admin {
namespace {

template <typename... C, typename F>
void ForEachCommand(std::tuple<C...>*, F&& f) {
  (f.template operator()<C>(), ...);
}

template <typename F>
void ForEachCommand(F&& f) {
  ForEachCommand(static_cast<AllCommands*>(nullptr), std::forward<F>(f));
}

TEST(AdminCommandsTest, EveryAdminRequestCaseHasExactlyOneCommand) {
  const auto* oneof = v1::AdminRequest::descriptor()->FindOneofByName("command");
  ASSERT_NE(oneof, nullptr);
  std::map<int, int> commands;
  for (int field : DispatchedRequests()) ++commands[field];
  for (int i = 0; i < oneof->field_count(); ++i) {
    const auto* field = oneof->field(i);
    EXPECT_EQ(commands[field->number()], 1)
        << "AdminRequest." << field->name() << " (field " << field->number()
        << ") needs exactly one command in AllCommands (common/admin/commands.h)";
  }
  for (const auto& [field, count] : commands) {
    EXPECT_NE(v1::AdminRequest::descriptor()->FindFieldByNumber(field), nullptr) << field;
  }
}

TEST(AdminCommandsTest, EveryCommandHasAScope) {
  ForEachCommand([]<typename C>() {
    auto scope = auth::ScopeOf(RequestFor<C>(typename C::In{}));
    EXPECT_TRUE(scope.has_value()) << "request case " << C::kRequest;
  });
}

TEST(AdminCommandsTest, EachCommandEncodesItsOwnRequestAndReplyCases) {
  ForEachCommand([]<typename C>() {
    EXPECT_EQ(RequestFor<C>(typename C::In{}).command_case(), C::kRequest);
    v1::AdminReply reply;
    C::ToReply(typename C::Out{}, reply);
    EXPECT_EQ(reply.reply_case(), C::kReply) << "request case " << C::kRequest;
  });
}

TEST(AdminCommandsTest, AReplyOfAnotherCaseIsAnInternalErrorAndAnErrorReplyIsItsError) {
  v1::AdminReply other;
  other.mutable_whoami();
  auto wrong = ReplyOutcome<JobShow>(other);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInternal);

  v1::AdminReply failed;
  *failed.mutable_error() = wire::ToProto(Error{ErrorCode::kNotFound, "job 9 not found"});
  auto error = ReplyOutcome<JobShow>(failed);
  ASSERT_FALSE(error.has_value());
  EXPECT_EQ(error.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(error.error().message, "job 9 not found");
}

class AdminOperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto migrated = db::MigrationsApply(conn_);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().ToString();
  }

  // The scheduler's half: the request as jobctl would send it, dispatched,
  // and its reply read as jobctl would.
  template <typename C>
  Result<typename C::Out> Dispatched(Context& ctx, const typename C::In& in) {
    return ReplyOutcome<C>(Dispatch(RequestFor<C>(in), ctx));
  }

  chime::testing::TestDatabase db_;
  db::Connection conn_{db::ConnectionConfig{.url = db_.url()}};
  Stores stores_{conn_};
};

TEST_F(AdminOperationsTest, ARequestWithoutACommandIsRefused) {
  Context ctx{.stores = stores_};
  v1::AdminReply reply = Dispatch(v1::AdminRequest{}, ctx);
  ASSERT_TRUE(reply.has_error());
  EXPECT_EQ(wire::FromProto(reply.error()).code, ErrorCode::kInvalidArgument);
}

TEST_F(AdminOperationsTest, InProcessAndDispatchedAnswerAlike) {
  Context ctx{.stores = stores_};
  auto local = Execute<Enqueue>(ctx, db::EnqueueParams{.kind = "noop", .queue = "mail"});
  ASSERT_TRUE(local.has_value()) << local.error().ToString();
  auto remote = Dispatched<Enqueue>(ctx, db::EnqueueParams{.kind = "noop", .queue = "mail"});
  ASSERT_TRUE(remote.has_value()) << remote.error().ToString();
  EXPECT_NE(local->job.id, remote->job.id);
  EXPECT_EQ(local->job.queue, remote->job.queue);
  EXPECT_EQ(local->job.state, remote->job.state);

  auto shown_here = Execute<JobShow>(ctx, local->job.id);
  auto shown_there = Dispatched<JobShow>(ctx, local->job.id);
  ASSERT_TRUE(shown_here.has_value() && shown_there.has_value());
  EXPECT_EQ(shown_here->job.id, shown_there->job.id);
  EXPECT_EQ(shown_here->job.kind, "noop");
  EXPECT_EQ(shown_there->job.kind, "noop");

  auto missing = Dispatched<JobShow>(ctx, 987654);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(AdminOperationsTest, AJobMadeReadyIsAnnouncedOnlyWhereThereIsARouter) {
  std::vector<std::string> hints;
  Context scheduler{.stores = stores_,
                    .ready = [&](const db::ReadyQueue& q) { hints.push_back(q.queue + ":" + std::to_string(q.count)); }};
  ASSERT_TRUE(Dispatched<Enqueue>(scheduler, db::EnqueueParams{.kind = "noop", .queue = "mail"}).has_value());
  EXPECT_EQ(hints, std::vector<std::string>{"mail:1"});
  Context database_path{.stores = stores_};
  ASSERT_TRUE(Execute<Enqueue>(database_path, db::EnqueueParams{.kind = "noop", .queue = "mail"}).has_value());
  EXPECT_EQ(hints.size(), 1u);
}

TEST_F(AdminOperationsTest, TheDatabasePathActsAsTheDatabaseLoginAndTheSchedulerAsItsCaller) {
  Context database_path{.stores = stores_};
  auto who = Execute<Whoami>(database_path, None{});
  ASSERT_FALSE(who.has_value());
  EXPECT_EQ(who.error().code, ErrorCode::kFailedPrecondition);

  auto token = auth::ApiToken::Generate("first");
  ASSERT_TRUE(token.has_value()) << token.error().ToString();
  auto made_here =
      Execute<TokenCreate>(database_path, wire::TokenCreateParamsFor(*token, auth::Scope::kAdmin, std::nullopt, ""));
  ASSERT_TRUE(made_here.has_value()) << made_here.error().ToString();
  EXPECT_EQ(made_here->created_by, "database");

  std::vector<std::string> forgotten;
  Context scheduler{.stores = stores_,
                    .who = auth::Principal{.name = "first", .scope = auth::Scope::kAdmin},
                    .token_changed = [&](const std::string& name) { forgotten.push_back(name); }};
  auto second = auth::ApiToken::Generate("second");
  ASSERT_TRUE(second.has_value());
  auto made_there = Dispatched<TokenCreate>(
      scheduler, wire::TokenCreateParamsFor(*second, auth::Scope::kRead, std::nullopt, "ignored"));
  ASSERT_TRUE(made_there.has_value()) << made_there.error().ToString();
  EXPECT_EQ(made_there->created_by, "first");
  EXPECT_EQ(forgotten, std::vector<std::string>{"second"});
  auto whoami = Dispatched<Whoami>(scheduler, None{});
  ASSERT_TRUE(whoami.has_value());
  EXPECT_EQ(whoami->name, "first");
}

}  // namespace
}  // namespace chime::admin
