// `jobctl completion bash|zsh`: a shell completion script generated from the
// declared command tree (commands, their options, which options take a
// value, which take a file), so it never lags behind the commands.
//
//   source <(jobctl completion bash)       # this shell; or install it in
//   jobctl completion bash > ~/.local/share/bash-completion/completions/jobctl
//   jobctl completion zsh > "${fpath[1]}/_jobctl"   # zsh, then compinit
//
// Thread-compatible; pure (no process state).
#pragma once

#include <string>
#include <string_view>

#include "common/base/error.h"

namespace CLI {
class App;
}  // namespace CLI

namespace chime::jobctl {

// The script for `shell` ("bash" or "zsh") completing `app`'s commands;
// InvalidArgument naming the shells for any other.
[[nodiscard]] Result<std::string> CompletionScript(const CLI::App& app, std::string_view shell);

}  // namespace chime::jobctl
