#include "jobctl/completion.h"

#include <CLI/CLI.hpp>

#include <map>
#include <vector>

#include "common/base/version.h"

namespace chime::jobctl {
namespace {

struct Word {
  std::string name;
  std::string description;  // First line of the help, for zsh's listing.
};

// What completes at one command path ("" for jobctl itself, "schedule
// create", ...).
struct Node {
  std::vector<Word> commands;
  std::vector<Word> options;                // This command's and jobctl's global ones.
  std::vector<std::string> value_options;   // Of those, the ones that take a value.
  std::vector<std::string> file_options;    // Of those, the ones whose value is a file.
  std::map<std::string, std::vector<std::string>> option_choices;  // --log-level: trace ...
  std::vector<std::string> argument_choices;  // The positional's fixed values, if any.
  bool file_argument = false;                  // The positional is a file.
};

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// "LEVEL:{trace,debug}" -> {"trace", "debug"}: the values CLI::IsMember allows.
std::vector<std::string> Choices(const std::string& type_name) {
  std::vector<std::string> out;
  const size_t open = type_name.find(":{");
  const size_t close = type_name.rfind('}');
  if (open == std::string::npos || close == std::string::npos || close < open) return out;
  const std::string list = type_name.substr(open + 2, close - open - 2);
  for (size_t begin = 0; begin <= list.size();) {
    const size_t comma = std::min(list.find(',', begin), list.size());
    if (comma > begin) out.push_back(list.substr(begin, comma - begin));
    begin = comma + 1;
  }
  return out;
}

bool IsFile(const CLI::Option& option) {
  return option.get_type_name().starts_with("FILE") || option.get_name(true) == "FILE";
}

void AddOptions(const CLI::App& app, Node& node) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_positional() && !option->nonpositional()) continue;
    if (option->get_group().empty()) continue;  // Hidden.
    const bool takes_value = option->get_type_size_max() > 0;
    for (const std::string& lname : option->get_lnames()) {
      const std::string name = "--" + lname;
      node.options.push_back({name, FirstLine(option->get_description())});
      if (!takes_value) continue;
      node.value_options.push_back(name);
      if (IsFile(*option)) node.file_options.push_back(name);
      if (auto choices = Choices(option->get_type_name()); !choices.empty()) {
        node.option_choices[name] = std::move(choices);
      }
    }
  }
}

void Collect(const CLI::App& app, const std::string& path, const CLI::App& root,
             std::map<std::string, Node>& nodes) {
  Node& node = nodes[path];
  for (const CLI::App* sub : app.get_subcommands({})) {
    node.commands.push_back({sub->get_name(), FirstLine(sub->get_description())});
  }
  AddOptions(app, node);
  if (&app != &root) AddOptions(root, node);  // Global options may follow the command.
  for (const CLI::Option* option : app.get_options()) {
    if (!option->get_positional() || option->nonpositional()) continue;
    node.file_argument = node.file_argument || IsFile(*option);
    for (std::string& c : Choices(option->get_type_name())) node.argument_choices.push_back(std::move(c));
  }
  for (const CLI::App* sub : app.get_subcommands({})) {
    Collect(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), root, nodes);
  }
}

// `text` in single quotes for either shell.
std::string Quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// One shell function: `case "$1" in "<path>") <body>;; esac` for every node
// that has something to say.
template <typename Body>
std::string CaseFunction(const std::string& name, const std::string& comment,
                         const std::map<std::string, Node>& nodes, Body body) {
  std::string out = "# " + comment + "\n" + name + "() {\n  case \"$1\" in\n";
  for (const auto& [path, node] : nodes) {
    const std::string text = body(node);
    if (!text.empty()) out += "    " + Quote(path) + ") " + text + " ;;\n";
  }
  return out + "  esac\n}\n";
}

// "printf '%s\n' 'a:desc' 'b:desc'" (names with descriptions, for zsh) or
// "echo 'a b'" (names, for bash).
std::string ListWords(const std::vector<Word>& words) {
  if (words.empty()) return "";
  std::string out = "printf '%s\\n'";
  for (const Word& w : words) out += " " + Quote(w.name + ":" + w.description);
  return out;
}

std::string EchoWords(const std::vector<std::string>& words) {
  return words.empty() ? "" : "echo " + Quote(Join(words));
}

// The helpers both scripts share; each answers for a command path given
// as $1 (and an option as $2).
std::string Helpers(const std::map<std::string, Node>& nodes) {
  std::string out;
  out += CaseFunction("_jobctl_commands", "The subcommands of command path $1, one \"name:help\" a line.",
                      nodes, [](const Node& n) { return ListWords(n.commands); });
  out += CaseFunction("_jobctl_options", "The options at command path $1, one \"name:help\" a line.", nodes,
                      [](const Node& n) { return ListWords(n.options); });
  out += CaseFunction("_jobctl_value_options", "The options at command path $1 that take a value.", nodes,
                      [](const Node& n) { return EchoWords(n.value_options); });
  out += CaseFunction("_jobctl_file_options", "The options at command path $1 whose value is a file.", nodes,
                      [](const Node& n) { return EchoWords(n.file_options); });
  out += CaseFunction("_jobctl_argument", "What the argument of command path $1 is: \"file\" or its values.",
                      nodes, [](const Node& n) {
                        if (n.file_argument) return std::string("echo file");
                        return EchoWords(n.argument_choices);
                      });
  // Choices of an option whatever the path ("$1" is the option here).
  std::map<std::string, std::vector<std::string>> choices;
  for (const auto& [path, node] : nodes) {
    for (const auto& [option, values] : node.option_choices) choices[option] = values;
  }
  out += "# The values option $1 allows, if it names them.\n_jobctl_option_values() {\n  case \"$1\" in\n";
  for (const auto& [option, values] : choices) out += "    " + option + ") echo " + Quote(Join(values)) + " ;;\n";
  out += "  esac\n}\n";
  // The command path the words typed so far select; options are skipped
  // with their value.
  out += R"sh(# The command path that words $@ (those before the cursor) select.
_jobctl_path() {
  local cmdpath="" word sub
  while [ "$#" -gt 0 ]; do
    word=$1
    shift
    case "$word" in
      --*=*) ;;
      -*)
        case " $(_jobctl_value_options "$cmdpath") " in
          *" $word "*) [ "$#" -gt 0 ] && shift ;;
        esac
        ;;
      *)
        for sub in $(_jobctl_commands "$cmdpath" | sed 's/:.*//'); do
          if [ "$sub" = "$word" ]; then
            cmdpath="${cmdpath:+$cmdpath }$word"
            break
          fi
        done
        ;;
    esac
  done
  echo "$cmdpath"
}
)sh";
  return out;
}

std::string BashScript(const std::map<std::string, Node>& nodes) {
  std::string out = "# bash completion for jobctl " + std::string(Version()) +
                    " (generated by `jobctl completion bash`).\n"
                    "#   source <(jobctl completion bash)\n"
                    "# or, for every shell:\n"
                    "#   jobctl completion bash > ~/.local/share/bash-completion/completions/jobctl\n\n";
  out += Helpers(nodes);
  out += R"sh(
_jobctl() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=""
  [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}
  local cmdpath
  cmdpath=$(_jobctl_path "${COMP_WORDS[@]:1:COMP_CWORD-1}")
  COMPREPLY=()
  if [[ "$prev" == -* ]] && [[ " $(_jobctl_value_options "$cmdpath") " == *" $prev "* ]]; then
    if [[ " $(_jobctl_file_options "$cmdpath") " == *" $prev "* ]]; then
      COMPREPLY=($(compgen -f -- "$cur"))
    else
      COMPREPLY=($(compgen -W "$(_jobctl_option_values "$prev")" -- "$cur"))
    fi
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_jobctl_options "$cmdpath" | sed 's/:.*//')" -- "$cur"))
    return 0
  fi
  local commands
  commands=$(_jobctl_commands "$cmdpath" | sed 's/:.*//')
  if [ -n "$commands" ]; then
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    return 0
  fi
  local argument
  argument=$(_jobctl_argument "$cmdpath")
  if [ "$argument" = file ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [ -n "$argument" ]; then
    COMPREPLY=($(compgen -W "$argument" -- "$cur"))
  fi
  return 0
}
complete -o default -F _jobctl jobctl
)sh";
  return out;
}

std::string ZshScript(const std::map<std::string, Node>& nodes) {
  std::string out = "#compdef jobctl\n"
                    "# zsh completion for jobctl " + std::string(Version()) +
                    " (generated by `jobctl completion zsh`).\n"
                    "#   jobctl completion zsh > \"${fpath[1]}/_jobctl\"   # then: compinit\n"
                    "# or, in a shell where compinit ran:\n"
                    "#   source <(jobctl completion zsh)\n\n";
  out += Helpers(nodes);
  out += R"sh(
_jobctl() {
  local cmdpath cur=${words[CURRENT]} prev=${words[CURRENT-1]}
  local -a candidates
  cmdpath=$(_jobctl_path "${(@)words[2,CURRENT-1]}")
  if [[ "$prev" == -* ]] && [[ " $(_jobctl_value_options "$cmdpath") " == *" $prev "* ]]; then
    if [[ " $(_jobctl_file_options "$cmdpath") " == *" $prev "* ]]; then
      _files
    else
      candidates=(${(z)"$(_jobctl_option_values "$prev")"})
      (( ${#candidates} )) && compadd -a candidates
    fi
    return
  fi
  if [[ "$cur" == -* ]]; then
    candidates=("${(@f)$(_jobctl_options "$cmdpath")}")
    _describe -t options 'option' candidates
    return
  fi
  candidates=("${(@f)$(_jobctl_commands "$cmdpath")}")
  if [[ -n "${candidates[1]}" ]]; then
    _describe -t commands 'jobctl command' candidates
    return
  fi
  local argument
  argument=$(_jobctl_argument "$cmdpath")
  if [[ "$argument" == file ]]; then
    _files
  elif [[ -n "$argument" ]]; then
    candidates=(${(z)argument})
    compadd -a candidates
  fi
}

# Autoloaded from fpath, this file is the body of _jobctl: define, then run.
# Sourced, register it.
if [[ "${funcstack[1]}" == _jobctl ]]; then
  _jobctl "$@"
elif (( $+functions[compdef] )); then
  compdef _jobctl jobctl
fi
)sh";
  return out;
}

}  // namespace

Result<std::string> CompletionScript(const CLI::App& app, std::string_view shell) {
  std::map<std::string, Node> nodes;
  Collect(app, "", app, nodes);
  if (shell == "bash") return BashScript(nodes);
  if (shell == "zsh") return ZshScript(nodes);
  return Fail(ErrorCode::kInvalidArgument,
              "completion: unknown shell '" + std::string(shell) + "'; shells: bash, zsh");
}

}  // namespace chime::jobctl
