// The one table of scopes: every admin request type has exactly one entry
// (a new AdminRequest field without one fails here), and the entries say
// what the threat model promises each scope can do.
#include "common/auth/request_scopes.h"

#include <gtest/gtest.h>

#include <map>

namespace chime::auth {
namespace {

TEST(RequestScopesTest, EveryAdminRequestTypeHasExactlyOneScope) {
  const auto* oneof = v1::AdminRequest::descriptor()->FindOneofByName("command");
  ASSERT_NE(oneof, nullptr);
  std::map<int, int> entries;
  for (const auto& e : AdminRequestScopes()) ++entries[e.field];
  for (int i = 0; i < oneof->field_count(); ++i) {
    const auto* field = oneof->field(i);
    EXPECT_EQ(entries[field->number()], 1)
        << "AdminRequest." << field->name() << " (field " << field->number()
        << ") needs exactly one entry in common/auth/request_scopes.cc";
    // And ScopeOf finds it for a request of that type.
    v1::AdminRequest request;
    request.GetReflection()->MutableMessage(&request, field);
    auto scope = ScopeOf(request);
    EXPECT_TRUE(scope.has_value()) << field->name();
  }
  // No entry for a field that no longer exists.
  for (const auto& [field, count] : entries) {
    EXPECT_NE(v1::AdminRequest::descriptor()->FindFieldByNumber(field), nullptr) << field;
  }
}

TEST(RequestScopesTest, ReadOperateAndAdminCoverWhatTheyPromise) {
  auto scope_of = [](auto set) {
    v1::AdminRequest r;
    set(r);
    return ScopeOf(r).value().scope;
  };
  using R = v1::AdminRequest;
  EXPECT_EQ(scope_of([](R& r) { r.mutable_list(); }), Scope::kRead);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_show(); }), Scope::kRead);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_stats(); }), Scope::kRead);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_whoami(); }), Scope::kRead);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_limit_list(); }), Scope::kRead);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_retry(); }), Scope::kOperate);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_cancel(); }), Scope::kOperate);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_schedule_trigger(); }), Scope::kOperate);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_schedule_pause(); }), Scope::kOperate);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_enqueue(); }), Scope::kAdmin);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_schedule_create(); }), Scope::kAdmin);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_schedule_update(); }), Scope::kAdmin);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_schedule_delete(); }), Scope::kAdmin);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_schedule_backfill(); }), Scope::kAdmin);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_token_create(); }), Scope::kAdmin);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_token_revoke(); }), Scope::kAdmin);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_token_list(); }), Scope::kAdmin);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_limit_set(); }), Scope::kAdmin);
  EXPECT_EQ(scope_of([](R& r) { r.mutable_limit_delete(); }), Scope::kAdmin);
}

TEST(RequestScopesTest, ARequestWithoutACommandIsRefused) {
  auto r = ScopeOf(v1::AdminRequest{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(RequestScopesTest, EveryApiRouteNeedsAToken) {
  int api = 0;
  for (const auto& route : HttpRouteScopes()) {
    if (route.pattern.starts_with("/api")) {
      ++api;
      // Reads need read; the dashboard's actions (POST) need operate.
      EXPECT_EQ(route.scope, route.method == "POST" ? Scope::kOperate : Scope::kRead) << route.pattern;
    } else {
      EXPECT_FALSE(route.scope.has_value()) << route.pattern;
    }
  }
  EXPECT_GT(api, 0);
  EXPECT_NE(FindRouteScope("GET", "/api/whoami"), nullptr);
  EXPECT_EQ(FindRouteScope("POST", "/api/jobs"), nullptr);
  ASSERT_NE(FindRouteScope("POST", "/api/jobs/([^/]+)/retry"), nullptr);
  EXPECT_EQ(FindRouteScope("POST", "/api/jobs/([^/]+)/retry")->scope, Scope::kOperate);
}

TEST(ScopeTest, ScopesCoverTheOnesBelowThem) {
  EXPECT_TRUE(Covers(Scope::kAdmin, Scope::kOperate));
  EXPECT_TRUE(Covers(Scope::kOperate, Scope::kRead));
  EXPECT_TRUE(Covers(Scope::kRead, Scope::kRead));
  EXPECT_FALSE(Covers(Scope::kRead, Scope::kOperate));
  EXPECT_FALSE(Covers(Scope::kOperate, Scope::kAdmin));
  for (Scope s : {Scope::kRead, Scope::kOperate, Scope::kAdmin}) {
    EXPECT_EQ(ParseScope(ScopeName(s)).value(), s);
  }
  EXPECT_FALSE(ParseScope("Admin").has_value());
}

TEST(ScopeTest, ARefusalNamesTokenScopeRequestAndNeed) {
  Principal ci{.name = "ci", .scope = Scope::kOperate};
  auto r = Authorize(ci, Scope::kAdmin, "enqueue");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(r.error().message, "token 'ci' has scope operate; enqueue needs admin");
  EXPECT_TRUE(Authorize(ci, Scope::kOperate, "retry").has_value());
  EXPECT_TRUE(Authorize(BootstrapPrincipal(), Scope::kAdmin, "enqueue").has_value());
}

}  // namespace
}  // namespace chime::auth
