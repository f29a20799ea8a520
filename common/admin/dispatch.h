// The generic halves of every command in commands.h: what jobctl sends and
// reads (RequestFor, ReplyOutcome), what runs a command in process (Execute),
// and what the scheduler does with a request that arrived (Dispatch). None
// knows any command by name, so a new command is its declaration in
// commands.h and its Run in operations.cc. Thread-safe (no state).
#pragma once

#include <concepts>
#include <span>
#include <string>

#include "common/admin/commands.h"

namespace chime::admin {

template <typename C>
concept HasCheck = requires(const typename C::In& in) {
  { C::Check(in) } -> std::same_as<Result<void>>;
};

// What jobctl's database path must have before C runs (Needs::kCurrentSchema
// unless C says otherwise).
template <typename C>
constexpr Needs NeedsOf() {
  if constexpr (requires { C::kNeeds; }) {
    return C::kNeeds;
  } else {
    return Needs::kCurrentSchema;
  }
}

// Whether jobctl must not send C's request to another replica once one may
// have received it (false unless C says otherwise).
template <typename C>
constexpr bool SendOnceOf() {
  if constexpr (requires { C::kSendOnce; }) {
    return C::kSendOnce;
  } else {
    return false;
  }
}

// C's own validation of its arguments, if it has one.
template <typename C>
[[nodiscard]] Result<void> CheckArgs(const typename C::In& in) {
  if constexpr (HasCheck<C>) {
    return C::Check(in);
  } else {
    (void)in;
    return {};
  }
}

// Runs C in process: its check, then its one implementation.
template <typename C>
[[nodiscard]] Result<typename C::Out> Execute(Context& ctx, const typename C::In& in) {
  if (auto ok = CheckArgs<C>(in); !ok) return std::unexpected(ok.error());
  return C::Run(ctx, in);
}

// The request jobctl sends for C.
template <typename C>
v1::AdminRequest RequestFor(const typename C::In& in) {
  v1::AdminRequest request;
  C::ToRequest(in, request);
  return request;
}

// Internal "the scheduler answered with an unexpected reply (case N)".
Error UnexpectedReply(const v1::AdminReply& reply);

// C's result from the scheduler's reply: its error, Internal when the reply
// is of another case, else the decoded result.
template <typename C>
[[nodiscard]] Result<typename C::Out> ReplyOutcome(const v1::AdminReply& reply) {
  if (reply.has_error()) return std::unexpected(wire::FromProto(reply.error()));
  if (reply.reply_case() != C::kReply) return std::unexpected(UnexpectedReply(reply));
  return C::FromReply(reply);
}

// Decodes a request, runs its command and encodes the reply (an error reply
// when decoding or the command fails). InvalidArgument for a request without
// a command; Internal for a case no command in AllCommands declares.
v1::AdminReply Dispatch(const v1::AdminRequest& request, Context& ctx);

// The AdminRequest cases Dispatch knows, in AllCommands' order.
std::span<const int> DispatchedRequests();

}  // namespace chime::admin
