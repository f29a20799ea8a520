#include "common/admin/dispatch.h"

#include <array>
#include <tuple>
#include <utility>

namespace chime::admin {
namespace {

v1::AdminReply ErrorReply(const Error& error) {
  v1::AdminReply reply;
  *reply.mutable_error() = wire::ToProto(error);
  return reply;
}

template <typename C>
v1::AdminReply Handle(const v1::AdminRequest& request, Context& ctx) {
  auto in = C::FromRequest(request);
  if (!in) return ErrorReply(in.error());
  auto out = Execute<C>(ctx, *in);
  if (!out) return ErrorReply(out.error());
  v1::AdminReply reply;
  C::ToReply(*out, reply);
  return reply;
}

template <typename... C>
v1::AdminReply DispatchAmong(std::tuple<C...>*, const v1::AdminRequest& request, Context& ctx) {
  const auto which = request.command_case();
  v1::AdminReply reply;
  const bool found = ((which == C::kRequest ? (reply = Handle<C>(request, ctx), true) : false) || ...);
  if (found) return reply;
  if (which == v1::AdminRequest::COMMAND_NOT_SET) {
    return ErrorReply(Error{ErrorCode::kInvalidArgument, "admin request: no command"});
  }
  // Only a build whose AllCommands lacks a case of its own proto gets here
  // (admin_commands_test guards it): a request from a newer jobctl arrives
  // with its unknown case unset.
  return ErrorReply(Error{ErrorCode::kInternal, "admin request " + std::to_string(static_cast<int>(which)) +
                                                    ": no command declared for it"});
}

template <typename... C>
constexpr auto CasesOf(std::tuple<C...>*) {
  return std::array<int, sizeof...(C)>{static_cast<int>(C::kRequest)...};
}

constexpr auto kCases = CasesOf(static_cast<AllCommands*>(nullptr));

// Two commands on one request case would leave the second unreachable.
constexpr bool Distinct() {
  for (size_t i = 0; i < kCases.size(); ++i) {
    for (size_t j = i + 1; j < kCases.size(); ++j) {
      if (kCases[i] == kCases[j]) return false;
    }
  }
  return true;
}
static_assert(Distinct(), "two commands in AllCommands declare the same AdminRequest case");

}  // namespace

Error UnexpectedReply(const v1::AdminReply& reply) {
  return Error{ErrorCode::kInternal, "the scheduler answered with an unexpected reply (case " +
                                         std::to_string(reply.reply_case()) + ")"};
}

v1::AdminReply Dispatch(const v1::AdminRequest& request, Context& ctx) {
  return DispatchAmong(static_cast<AllCommands*>(nullptr), request, ctx);
}

std::span<const int> DispatchedRequests() { return kCases; }

}  // namespace chime::admin
