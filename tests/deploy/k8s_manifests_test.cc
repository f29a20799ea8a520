// Renders deploy/k8s with `kubectl kustomize` (the kubectl on PATH, or
// $CHIME_KUBECTL) and checks what an operator relies on: the objects exist,
// probes and Services point at ports the containers declare, a worker's
// drain fits in its termination grace period, secrets come only from
// chime-secrets, the autoscaler and disruption budgets select the right pods,
// and the network policies let Chime's own traffic through. Without kubectl
// every test fails: the manifests would go unchecked.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <expected>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;

namespace chime {
namespace {

constexpr std::string_view kSecretName = "chime-secrets";
constexpr std::string_view kSecretDir = "/var/run/secrets/chime";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::filesystem::path SourceDir() {
  const char* dir = std::getenv("CHIME_SOURCE_DIR");
  return dir == nullptr ? std::filesystem::path() : std::filesystem::path(dir);
}

std::optional<std::string> FindKubectl() {
  if (const char* set = std::getenv("CHIME_KUBECTL"); set != nullptr && *set != '\0') return set;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path == nullptr ? "" : path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/kubectl";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

struct Output {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] with argv; stdout and stderr apart (kustomize v5 warns on
// stderr, which must not reach the YAML parser).
std::expected<Output, std::string> Capture(const std::vector<std::string>& argv) {
  int out_pipe[2];
  if (pipe(out_pipe) != 0) return std::unexpected(std::string("pipe: ") + std::strerror(errno));
  char err_path[] = "/tmp/k8s_manifests_test.XXXXXX";
  const int err_fd = mkstemp(err_path);
  if (err_fd < 0) return std::unexpected(std::string("mkstemp: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  Output result;
  if (rc == 0) {
    char buf[65536];
    for (ssize_t n; (n = read(out_pipe[0], buf, sizeof buf)) != 0;) {
      if (n > 0) result.out.append(buf, static_cast<size_t>(n));
      if (n < 0 && errno != EINTR) break;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.err = ReadFile(err_path);
  }
  close(out_pipe[0]);
  close(err_fd);
  unlink(err_path);
  if (rc != 0) return std::unexpected("cannot run " + argv[0] + ": " + std::strerror(rc));
  return result;
}

struct Manifests {
  std::vector<YAML::Node> objects;
  std::string text;
  std::string warnings;  // What kubectl kustomize wrote on stderr.
  std::string problem;   // Empty when rendering and parsing worked.
};

Manifests Render() {
  Manifests m;
  const std::filesystem::path src = SourceDir();
  if (src.empty()) {
    m.problem = "CHIME_SOURCE_DIR is not set (tests/deploy/CMakeLists.txt sets it for ctest)";
    return m;
  }
  const std::optional<std::string> kubectl = FindKubectl();
  if (!kubectl) {
    m.problem = "kubectl is not on PATH, so deploy/k8s cannot be rendered and checked. Install it "
                "(scripts/install-deps.sh installs Debian's kubernetes-client) or set CHIME_KUBECTL.";
    return m;
  }
  auto run = Capture({*kubectl, "kustomize", (src / "deploy/k8s").string()});
  if (!run) {
    m.problem = run.error();
  } else if (run->status != 0) {
    m.problem = *kubectl + " kustomize deploy/k8s exited " + std::to_string(run->status) + ": " + run->err;
  } else {
    m.text = run->out;
    m.warnings = run->err;
    try {
      for (const YAML::Node& doc : YAML::LoadAll(m.text)) {
        if (doc.IsMap()) m.objects.push_back(doc);
      }
    } catch (const YAML::Exception& e) {
      m.problem = std::string("the rendered YAML does not parse: ") + e.what();
    }
  }
  return m;
}

const Manifests& Rendered() {
  static const Manifests manifests = Render();
  return manifests;
}

// node[path[0]][path[1]]...; an undefined node where any step is missing.
// (Never assigns Nodes: yaml-cpp's operator= writes through to the document.)
YAML::Node Get(const YAML::Node& node, std::initializer_list<std::string_view> path) {
  YAML::Node cur(node);
  for (std::string_view key : path) {
    if (!cur.IsDefined() || !cur.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node next = std::as_const(cur)[std::string(key)];
    if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    cur.reset(next);
  }
  return cur;
}

std::string Text(const YAML::Node& node) { return node.IsDefined() && node.IsScalar() ? node.Scalar() : ""; }

std::optional<long> ParseInt(std::string_view text) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<long> Int(const YAML::Node& node) { return ParseInt(Text(node)); }

std::vector<YAML::Node> Items(const YAML::Node& seq) {
  std::vector<YAML::Node> items;
  if (seq.IsDefined() && seq.IsSequence()) {
    for (const YAML::Node& item : seq) items.push_back(item);
  }
  return items;
}

std::vector<YAML::Node> OfKind(std::string_view kind) {
  std::vector<YAML::Node> found;
  for (const YAML::Node& o : Rendered().objects) {
    if (Text(Get(o, {"kind"})) == kind) found.push_back(o);
  }
  return found;
}

YAML::Node Object(std::string_view kind, std::string_view name) {
  for (const YAML::Node& o : OfKind(kind)) {
    if (Text(Get(o, {"metadata", "name"})) == name) return o;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node PodSpec(const YAML::Node& workload) { return Get(workload, {"spec", "template", "spec"}); }
YAML::Node PodLabels(const YAML::Node& workload) { return Get(workload, {"spec", "template", "metadata", "labels"}); }

// Deployments and the Job: everything that runs a pod.
std::vector<YAML::Node> Workloads() {
  std::vector<YAML::Node> all = OfKind("Deployment");
  for (const YAML::Node& job : OfKind("Job")) all.push_back(job);
  return all;
}

std::vector<YAML::Node> Containers(const YAML::Node& pod_spec) {
  std::vector<YAML::Node> all = Items(Get(pod_spec, {"initContainers"}));
  for (const YAML::Node& c : Items(Get(pod_spec, {"containers"}))) all.push_back(c);
  return all;
}

// The first container of a workload: each of Chime's pods runs one.
YAML::Node MainContainer(std::string_view kind, std::string_view name) {
  const std::vector<YAML::Node> containers = Containers(PodSpec(Object(kind, name)));
  return containers.empty() ? YAML::Node(YAML::NodeType::Undefined) : containers.front();
}

// The value of `--flag value` or `--flag=value` in command + args.
std::optional<std::string> Flag(const YAML::Node& container, std::string_view flag) {
  std::vector<std::string> words;
  for (const char* part : {"command", "args"}) {
    for (const YAML::Node& w : Items(Get(container, {part}))) words.push_back(Text(w));
  }
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == flag && i + 1 < words.size()) return words[i + 1];
    if (words[i].starts_with(std::string(flag) + "=")) return words[i].substr(flag.size() + 1);
  }
  return std::nullopt;
}

// A literal env value (not valueFrom).
std::optional<std::string> Env(const YAML::Node& container, std::string_view name) {
  for (const YAML::Node& e : Items(Get(container, {"env"}))) {
    if (Text(Get(e, {"name"})) == name && Get(e, {"value"}).IsDefined()) return Text(Get(e, {"value"}));
  }
  return std::nullopt;
}

// The port of "host:port" or "tcp://host:port"; -1 if there is none.
long PortOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return -1;
  return ParseInt(std::string_view(address).substr(colon + 1)).value_or(-1);
}

// A probe's or Service's target port (number or name) as a containerPort the
// container declares; -1 if it declares no such port.
long DeclaredPort(const YAML::Node& container, const YAML::Node& port) {
  for (const YAML::Node& p : Items(Get(container, {"ports"}))) {
    const long number = Int(Get(p, {"containerPort"})).value_or(-1);
    if (Int(port) == number || (!Int(port) && Text(port) == Text(Get(p, {"name"})))) return number;
  }
  return -1;
}

bool HasLabels(const YAML::Node& required, const YAML::Node& labels) {
  if (!required.IsDefined() || !required.IsMap()) return true;
  for (const auto& kv : required) {
    const YAML::Node have = Get(labels, {kv.first.Scalar()});
    if (!have.IsDefined() || Text(have) != Text(kv.second)) return false;
  }
  return true;
}

// LabelSelector semantics: matchLabels and matchExpressions; {} selects all.
bool Selects(const YAML::Node& selector, const YAML::Node& labels) {
  if (!selector.IsDefined() || !selector.IsMap()) return false;
  if (!HasLabels(Get(selector, {"matchLabels"}), labels)) return false;
  for (const YAML::Node& e : Items(Get(selector, {"matchExpressions"}))) {
    const YAML::Node value = Get(labels, {Text(Get(e, {"key"}))});
    std::set<std::string> values;
    for (const YAML::Node& v : Items(Get(e, {"values"}))) values.insert(Text(v));
    const std::string op = Text(Get(e, {"operator"}));
    const bool in = value.IsDefined() && values.contains(Text(value));
    if ((op == "In" && !in) || (op == "NotIn" && in) || (op == "Exists" && !value.IsDefined()) ||
        (op == "DoesNotExist" && value.IsDefined())) {
      return false;
    }
  }
  return true;
}

// The text of the ConfigMap key a container sees at `path`, through its
// volume mounts; nullopt if no ConfigMap volume is mounted there.
std::optional<std::string> MountedConfigMapFile(const YAML::Node& workload, const YAML::Node& container,
                                                const std::string& path) {
  const std::filesystem::path file(path);
  for (const YAML::Node& mount : Items(Get(container, {"volumeMounts"}))) {
    if (Text(Get(mount, {"mountPath"})) != file.parent_path().string()) continue;
    for (const YAML::Node& volume : Items(Get(PodSpec(workload), {"volumes"}))) {
      if (Text(Get(volume, {"name"})) != Text(Get(mount, {"name"}))) continue;
      const YAML::Node config_map = Object("ConfigMap", Text(Get(volume, {"configMap", "name"})));
      const YAML::Node data = Get(config_map, {"data", file.filename().string()});
      if (data.IsDefined()) return Text(data);
    }
  }
  return std::nullopt;
}

class K8sManifestsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(Rendered().problem.empty()) << Rendered().problem; }
};

TEST_F(K8sManifestsTest, RendersEveryObjectAndNoSecretOrNamespace) {
  std::map<std::string, int> kinds;
  for (const YAML::Node& o : Rendered().objects) {
    ++kinds[Text(Get(o, {"kind"}))];
    EXPECT_FALSE(Get(o, {"metadata", "namespace"}).IsDefined())
        << Text(Get(o, {"metadata", "name"})) << ": the base leaves the namespace to kubectl -n or an overlay";
  }
  EXPECT_EQ(kinds["Deployment"], 2);
  EXPECT_TRUE(Object("Deployment", "chime-scheduler").IsDefined());
  EXPECT_TRUE(Object("Deployment", "chime-worker").IsDefined());
  EXPECT_TRUE(Object("Service", "chime-scheduler").IsDefined());
  EXPECT_EQ(kinds["HorizontalPodAutoscaler"], 1);
  EXPECT_EQ(kinds["PodDisruptionBudget"], 2);
  EXPECT_TRUE(Object("Job", "chime-migrate").IsDefined());
  EXPECT_GE(kinds["ConfigMap"], 1);
  EXPECT_GE(kinds["NetworkPolicy"], 1);
  EXPECT_EQ(kinds["Secret"], 0) << "chime-secrets is created by the operator (README.md), never shipped";
  EXPECT_EQ(kinds["Namespace"], 0);
}

TEST_F(K8sManifestsTest, SchedulerRunsTwoReplicasAndWorkerReplicasAreTheAutoscalers) {
  EXPECT_EQ(Int(Get(Object("Deployment", "chime-scheduler"), {"spec", "replicas"})), 2);
  EXPECT_FALSE(Get(Object("Deployment", "chime-worker"), {"spec", "replicas"}).IsDefined())
      << "a replica count would undo the HPA's on every kubectl apply";
}

TEST_F(K8sManifestsTest, WorkerGracePeriodOutlastsDrainAndHardStop) {
  const YAML::Node worker = MainContainer("Deployment", "chime-worker");
  const std::optional<std::string> drain = Flag(worker, "--shutdown-grace-ms");
  ASSERT_TRUE(drain) << "set --shutdown-grace-ms explicitly so it can be compared";
  const long drain_ms = ParseInt(*drain).value_or(-1);
  const long hard_ms = ParseInt(Flag(worker, "--hard-stop-grace-ms").value_or("5000")).value_or(-1);
  ASSERT_GT(drain_ms, 0);
  ASSERT_GE(hard_ms, 0);
  const std::optional<long> grace_s =
      Int(Get(PodSpec(Object("Deployment", "chime-worker")), {"terminationGracePeriodSeconds"}));
  ASSERT_TRUE(grace_s);
  EXPECT_GT(*grace_s * 1000, drain_ms + hard_ms) << "the kubelet would SIGKILL a draining worker";
}

TEST_F(K8sManifestsTest, ProbesUseTheDeclaredHttpPortAndPaths) {
  for (const YAML::Node& deployment : OfKind("Deployment")) {
    const std::string name = Text(Get(deployment, {"metadata", "name"}));
    for (const YAML::Node& c : Containers(PodSpec(deployment))) {
      const std::optional<std::string> listen =
          Flag(c, "--http-listen") ? Flag(c, "--http-listen") : Env(c, "CHIME_HTTP_LISTEN");
      ASSERT_TRUE(listen) << name << ": no --http-listen or CHIME_HTTP_LISTEN (HTTP is off by default)";
      EXPECT_TRUE(listen->starts_with("0.0.0.0:")) << name << ": " << *listen << " is not reachable by the kubelet";
      const std::map<std::string, std::string> paths = {
          {"startupProbe", "/healthz"}, {"livenessProbe", "/healthz"}, {"readinessProbe", "/readyz"}};
      for (const auto& [probe, path] : paths) {
        const YAML::Node get = Get(c, {probe, "httpGet"});
        if (probe != "startupProbe") {
          EXPECT_TRUE(get.IsDefined()) << name << " has no " << probe;
        }
        if (!get.IsDefined()) continue;
        // Exactly /readyz: ?leader=required would take the standby out.
        EXPECT_EQ(Text(Get(get, {"path"})), path) << name << " " << probe;
        EXPECT_EQ(DeclaredPort(c, Get(get, {"port"})), PortOf(*listen)) << name << " " << probe;
      }
    }
  }
}

TEST_F(K8sManifestsTest, EveryContainerHasRequestsAndLimits) {
  for (const YAML::Node& w : Workloads()) {
    for (const YAML::Node& c : Containers(PodSpec(w))) {
      for (const char* bound : {"requests", "limits"}) {
        for (const char* resource : {"cpu", "memory"}) {
          EXPECT_FALSE(Text(Get(c, {"resources", bound, resource})).empty())
              << Text(Get(w, {"metadata", "name"})) << "/" << Text(Get(c, {"name"})) << ": no " << bound << "."
              << resource;
        }
      }
    }
  }
}

TEST_F(K8sManifestsTest, EveryContainerRunsAsUser10001OnAReadOnlyRoot) {
  for (const YAML::Node& w : Workloads()) {
    const std::string name = Text(Get(w, {"metadata", "name"}));
    const YAML::Node pod = PodSpec(w);
    EXPECT_EQ(Text(Get(pod, {"automountServiceAccountToken"})), "false") << name;
    EXPECT_EQ(Text(Get(pod, {"enableServiceLinks"})), "false") << name << ": would get CHIME_SCHEDULER_* variables";
    for (const YAML::Node& c : Containers(pod)) {
      // A container's setting wins over the pod's.
      auto setting = [&](std::string_view field) {
        const YAML::Node own = Get(c, {"securityContext", field});
        return Text(own.IsDefined() ? own : Get(pod, {"securityContext", field}));
      };
      EXPECT_EQ(setting("runAsNonRoot"), "true") << name;
      EXPECT_EQ(setting("runAsUser"), "10001") << name;
      EXPECT_EQ(Text(Get(c, {"securityContext", "readOnlyRootFilesystem"})), "true") << name;
      EXPECT_EQ(Text(Get(c, {"securityContext", "allowPrivilegeEscalation"})), "false") << name;
      const std::vector<YAML::Node> drop = Items(Get(c, {"securityContext", "capabilities", "drop"}));
      EXPECT_TRUE(std::ranges::any_of(drop, [](const YAML::Node& d) { return Text(d) == "ALL"; })) << name;
    }
  }
}

TEST_F(K8sManifestsTest, SecretsComeFromChimeSecretsWhereTheFileVariablesPoint) {
  for (const YAML::Node& w : Workloads()) {
    const std::string name = Text(Get(w, {"metadata", "name"}));
    std::map<std::string, YAML::Node> secret_volumes;  // Volume name -> its secret source.
    for (const YAML::Node& v : Items(Get(PodSpec(w), {"volumes"}))) {
      if (Get(v, {"secret"}).IsDefined()) secret_volumes.emplace(Text(Get(v, {"name"})), Get(v, {"secret"}));
      EXPECT_FALSE(Get(v, {"projected"}).IsDefined()) << name << ": use a plain secret volume";
      if (Get(v, {"secret"}).IsDefined()) {
        EXPECT_EQ(Text(Get(v, {"secret", "secretName"})), kSecretName) << name;
      }
    }
    for (const YAML::Node& c : Containers(PodSpec(w))) {
      for (const YAML::Node& e : Items(Get(c, {"env"}))) {
        const YAML::Node ref = Get(e, {"valueFrom", "secretKeyRef"});
        if (ref.IsDefined()) {
          EXPECT_EQ(Text(Get(ref, {"name"})), kSecretName) << name;
        }
      }
      for (const YAML::Node& e : Items(Get(c, {"envFrom"}))) {
        if (Get(e, {"secretRef"}).IsDefined()) {
          EXPECT_EQ(Text(Get(e, {"secretRef", "name"})), kSecretName) << name;
        }
      }
      const std::optional<std::string> url_file = Env(c, "CHIME_DATABASE_URL_FILE");
      EXPECT_TRUE(url_file) << name << " has no CHIME_DATABASE_URL_FILE";
      // Every *_FILE under the secret directory is a key of a read-only
      // chime-secrets volume mounted there.
      for (const YAML::Node& e : Items(Get(c, {"env"}))) {
        const std::string var = Text(Get(e, {"name"}));
        const std::filesystem::path file(Text(Get(e, {"value"})));
        if (!var.ends_with("_FILE") || file.parent_path() != kSecretDir) continue;
        bool found = false;
        for (const YAML::Node& mount : Items(Get(c, {"volumeMounts"}))) {
          if (Text(Get(mount, {"mountPath"})) != kSecretDir) continue;
          auto volume = secret_volumes.find(Text(Get(mount, {"name"})));
          if (volume == secret_volumes.end()) continue;
          EXPECT_EQ(Text(Get(mount, {"readOnly"})), "true") << name;
          const std::vector<YAML::Node> items = Items(Get(volume->second, {"items"}));
          found = items.empty() || std::ranges::any_of(items, [&](const YAML::Node& item) {
                    return Text(Get(item, {"key"})) == file.filename().string() &&
                           Text(Get(item, {"path"})) == file.filename().string();
                  });
        }
        EXPECT_TRUE(found) << name << ": " << var << "=" << file.string() << " is not a mounted key of "
                           << kSecretName;
      }
    }
  }
  EXPECT_TRUE(Env(MainContainer("Deployment", "chime-scheduler"), "CHIME_ADMIN_SECRET_FILE"));
}

// The keys of chime-secrets a workload's pods mount.
std::set<std::string> MountedSecretKeys(const YAML::Node& workload) {
  std::set<std::string> keys;
  for (const YAML::Node& v : Items(Get(PodSpec(workload), {"volumes"}))) {
    for (const YAML::Node& item : Items(Get(v, {"secret", "items"}))) keys.insert(Text(Get(item, {"key"})));
  }
  return keys;
}

// Issue 18, finding 6: ZeroMQ was plain TCP where Chime ships a deployment,
// so anyone who reached port 5555 could register workers. The schedulers
// now speak CURVE and hear only the allowlisted keys; each pod mounts only
// the keys its role uses.
TEST_F(K8sManifestsTest, ZeroMqIsCurveByDefaultWithOneKeyPerRole) {
  const std::string dir(kSecretDir);
  const YAML::Node scheduler = MainContainer("Deployment", "chime-scheduler");
  EXPECT_EQ(Env(scheduler, "CHIME_CURVE_SERVER_KEYPAIR_FILE"), dir + "/curve-scheduler-keypair");
  EXPECT_EQ(Env(scheduler, "CHIME_CURVE_ALLOWED_KEYS_FILE"), dir + "/curve-allowed-keys");
  // jobctl inside the scheduler container (kubectl exec) has its own key.
  EXPECT_EQ(Env(scheduler, "CHIME_CURVE_CLIENT_KEYPAIR_FILE"), dir + "/curve-jobctl-keypair");
  EXPECT_EQ(Env(scheduler, "CHIME_CURVE_SERVER_PUBLIC_KEY_FILE"), dir + "/curve-scheduler-public");
  const YAML::Node worker = MainContainer("Deployment", "chime-worker");
  EXPECT_EQ(Env(worker, "CHIME_CURVE_CLIENT_KEYPAIR_FILE"), dir + "/curve-worker-keypair");
  EXPECT_EQ(Env(worker, "CHIME_CURVE_SERVER_PUBLIC_KEY_FILE"), dir + "/curve-scheduler-public");

  // Workers run payloads others write: the database URL and their own key
  // only; never the admin secret, the schedulers' key or jobctl's.
  EXPECT_EQ(MountedSecretKeys(Object("Deployment", "chime-worker")),
            (std::set<std::string>{"database-url", "curve-worker-keypair", "curve-scheduler-public"}));
  EXPECT_EQ(MountedSecretKeys(Object("Job", "chime-migrate")), std::set<std::string>{"database-url"});

  // The script beside the base generates those keys (no key is committed).
  const std::filesystem::path script = SourceDir() / "deploy/k8s/make-secret.sh";
  EXPECT_EQ(access(script.c_str(), X_OK), 0) << script;
  const std::string text = ReadFile(script);
  for (const std::string key : {"curve-keys.sh", "admin-secret", "database-url"}) {
    EXPECT_NE(text.find(key), std::string::npos) << "make-secret.sh does not mention " << key;
  }
  const std::string keys = ReadFile(SourceDir() / "deploy/curve-keys.sh");
  for (const std::string key : {"curve-scheduler-keypair", "curve-scheduler-public", "curve-worker-keypair",
                                "curve-jobctl-keypair", "curve-allowed-keys"}) {
    EXPECT_NE(keys.find(key), std::string::npos) << "deploy/curve-keys.sh does not make " << key;
  }
}

TEST_F(K8sManifestsTest, NoManifestCarriesACredential) {
  const std::regex url_with_password(R"(postgres(ql)?://[^\s/@:]+:[^\s/@]+@)");
  EXPECT_FALSE(std::regex_search(Rendered().text, url_with_password)) << "a database URL with a password";
  for (const YAML::Node& w : Workloads()) {
    for (const YAML::Node& c : Containers(PodSpec(w))) {
      for (const YAML::Node& e : Items(Get(c, {"env"}))) {
        const std::string var = Text(Get(e, {"name"}));
        const bool secret_like = var.find("PASSWORD") != std::string::npos || var.find("TOKEN") != std::string::npos ||
                                 var.find("SECRET") != std::string::npos || var == "CHIME_DATABASE_URL";
        EXPECT_FALSE(secret_like && !var.ends_with("_FILE") && Get(e, {"value"}).IsDefined())
            << var << " has a literal value; read it from " << kSecretName;
      }
    }
  }
}

TEST_F(K8sManifestsTest, HpaScalesTheWorkerOnReadyJobsAndCpu) {
  const std::vector<YAML::Node> hpas = OfKind("HorizontalPodAutoscaler");
  ASSERT_EQ(hpas.size(), 1u);
  const YAML::Node hpa = hpas.front();
  EXPECT_EQ(Text(Get(hpa, {"apiVersion"})), "autoscaling/v2");
  EXPECT_EQ(Text(Get(hpa, {"spec", "scaleTargetRef", "kind"})), "Deployment");
  EXPECT_EQ(Text(Get(hpa, {"spec", "scaleTargetRef", "apiVersion"})), "apps/v1");
  EXPECT_EQ(Text(Get(hpa, {"spec", "scaleTargetRef", "name"})), "chime-worker");
  const long min = Int(Get(hpa, {"spec", "minReplicas"})).value_or(0);
  EXPECT_GE(min, 2);
  EXPECT_GT(Int(Get(hpa, {"spec", "maxReplicas"})).value_or(0), min);
  bool queue = false, cpu = false;
  for (const YAML::Node& m : Items(Get(hpa, {"spec", "metrics"}))) {
    const std::string type = Text(Get(m, {"type"}));
    if (type == "External" && Text(Get(m, {"external", "metric", "name"})) == "chime_queue_ready_jobs") {
      queue = Text(Get(m, {"external", "metric", "selector", "matchLabels", "queue"})) == "default" &&
              Text(Get(m, {"external", "target", "type"})) == "AverageValue" &&
              !Text(Get(m, {"external", "target", "averageValue"})).empty();
    }
    if (type == "Resource" && Text(Get(m, {"resource", "name"})) == "cpu") {
      const long target = Int(Get(m, {"resource", "target", "averageUtilization"})).value_or(0);
      cpu = Text(Get(m, {"resource", "target", "type"})) == "Utilization" && target > 0 && target <= 100;
    }
  }
  EXPECT_TRUE(queue) << "External chime_queue_ready_jobs{queue=default}, AverageValue";
  EXPECT_TRUE(cpu) << "Resource cpu, Utilization";
  EXPECT_GE(Int(Get(hpa, {"spec", "behavior", "scaleDown", "stabilizationWindowSeconds"})).value_or(0), 300)
      << "draining workers would flap";
}

TEST_F(K8sManifestsTest, AutoscalingExamplesMatchTheHpa) {
  const std::filesystem::path examples = SourceDir() / "deploy/k8s/examples";
  const YAML::Node adapter = YAML::LoadFile((examples / "prometheus-adapter/values.yaml").string());
  const std::vector<YAML::Node> rules = Items(Get(adapter, {"rules", "external"}));
  EXPECT_TRUE(std::ranges::any_of(rules, [](const YAML::Node& r) {
    return Text(Get(r, {"name", "as"})) == "chime_queue_ready_jobs";
  })) << "prometheus-adapter must serve the HPA's external metric";
  const YAML::Node keda = YAML::LoadFile((examples / "keda/scaledobject.yaml").string());
  const YAML::Node hpa = Object("HorizontalPodAutoscaler", "chime-worker");
  EXPECT_EQ(Text(Get(keda, {"spec", "scaleTargetRef", "name"})), Text(Get(hpa, {"spec", "scaleTargetRef", "name"})));
  EXPECT_EQ(Text(Get(keda, {"spec", "minReplicaCount"})), Text(Get(hpa, {"spec", "minReplicas"})));
  EXPECT_EQ(Text(Get(keda, {"spec", "maxReplicaCount"})), Text(Get(hpa, {"spec", "maxReplicas"})));
}

TEST_F(K8sManifestsTest, DisruptionBudgetsEachCoverOneDeploymentsPods) {
  const std::vector<YAML::Node> deployments = OfKind("Deployment");
  for (const YAML::Node& d : deployments) {
    const std::string name = Text(Get(d, {"metadata", "name"}));
    EXPECT_TRUE(Selects(Get(d, {"spec", "selector"}), PodLabels(d))) << name << " does not select its own pods";
    int budgets = 0;
    for (const YAML::Node& pdb : OfKind("PodDisruptionBudget")) {
      if (!Selects(Get(pdb, {"spec", "selector"}), PodLabels(d))) continue;
      ++budgets;
      for (const YAML::Node& other : deployments) {
        if (Text(Get(other, {"metadata", "name"})) == name) continue;
        EXPECT_FALSE(Selects(Get(pdb, {"spec", "selector"}), PodLabels(other)))
            << Text(Get(pdb, {"metadata", "name"})) << " also selects " << Text(Get(other, {"metadata", "name"}));
      }
      if (name == "chime-scheduler") {
        EXPECT_EQ(Int(Get(pdb, {"spec", "minAvailable"})), 1);
      }
      EXPECT_TRUE(Get(pdb, {"spec", "minAvailable"}).IsDefined() || Get(pdb, {"spec", "maxUnavailable"}).IsDefined());
    }
    EXPECT_EQ(budgets, 1) << name;
  }
}

TEST_F(K8sManifestsTest, SchedulerServiceSelectsSchedulerPodsAndExposesZmq) {
  const YAML::Node service = Object("Service", "chime-scheduler");
  const YAML::Node selector = Get(service, {"spec", "selector"});
  ASSERT_TRUE(selector.IsDefined() && selector.IsMap() && selector.size() > 0);
  EXPECT_TRUE(HasLabels(selector, PodLabels(Object("Deployment", "chime-scheduler"))));
  EXPECT_FALSE(HasLabels(selector, PodLabels(Object("Deployment", "chime-worker"))));
  const YAML::Node scheduler = MainContainer("Deployment", "chime-scheduler");
  const long bind = PortOf(Flag(scheduler, "--bind").value_or(""));
  bool zmq = false;
  for (const YAML::Node& p : Items(Get(service, {"spec", "ports"}))) {
    if (Text(Get(p, {"name"})) != "zmq") continue;
    zmq = true;
    EXPECT_EQ(Int(Get(p, {"port"})), 5555);
    EXPECT_EQ(DeclaredPort(scheduler, Get(p, {"targetPort"})), bind) << "targetPort is not the --bind port";
  }
  EXPECT_TRUE(zmq) << "no port named zmq";
  EXPECT_EQ(Env(MainContainer("Deployment", "chime-worker"), "CHIME_SCHEDULER"), "tcp://chime-scheduler:5555");
}

TEST_F(K8sManifestsTest, SchedulesConfigMapHoldsTheExampleSchedules) {
  const std::string example = ReadFile(SourceDir() / "deploy/schedules.example.yaml");
  ASSERT_FALSE(example.empty());
  EXPECT_EQ(ReadFile(SourceDir() / "deploy/k8s/schedules.yaml"), example)
      << "deploy/k8s/schedules.yaml must be a copy of deploy/schedules.example.yaml";
  const YAML::Node scheduler = MainContainer("Deployment", "chime-scheduler");
  const std::optional<std::string> path = Flag(scheduler, "--schedules");
  ASSERT_TRUE(path);
  EXPECT_EQ(MountedConfigMapFile(Object("Deployment", "chime-scheduler"), scheduler, *path), example);
}

TEST_F(K8sManifestsTest, KindsConfigMapIsAYamlMapAtTheWorkersPath) {
  const YAML::Node worker = MainContainer("Deployment", "chime-worker");
  const std::optional<std::string> path = Env(worker, "CHIME_KINDS_CONFIG");
  if (!path) return;  // Optional: without it the worker uses the defaults.
  const std::optional<std::string> kinds = MountedConfigMapFile(Object("Deployment", "chime-worker"), worker, *path);
  ASSERT_TRUE(kinds) << *path << " is not a mounted ConfigMap key";
  EXPECT_TRUE(YAML::Load(*kinds).IsMap()) << "the worker refuses a kinds file that is not a map";
}

// The scheduler applies the kinds file's limits (workers may not write
// chime.limits): it mounts the workers' own file, which declares the
// per-provider rate.
TEST_F(K8sManifestsTest, TheSchedulerReadsTheWorkersKindsFileForItsLimits) {
  const YAML::Node scheduler = MainContainer("Deployment", "chime-scheduler");
  const std::optional<std::string> path = Flag(scheduler, "--kinds-config");
  ASSERT_TRUE(path) << "the scheduler is not given the kinds file";
  const std::optional<std::string> mounted =
      MountedConfigMapFile(Object("Deployment", "chime-scheduler"), scheduler, *path);
  ASSERT_TRUE(mounted) << *path << " is not a mounted ConfigMap key";
  EXPECT_EQ(*mounted, ReadFile(SourceDir() / "deploy/k8s/kinds.yaml"));
  const YAML::Node worker = MainContainer("Deployment", "chime-worker");
  const std::optional<std::string> worker_path = Env(worker, "CHIME_KINDS_CONFIG");
  ASSERT_TRUE(worker_path);
  EXPECT_EQ(MountedConfigMapFile(Object("Deployment", "chime-worker"), worker, *worker_path), mounted)
      << "the scheduler and the workers read different kinds files";
  EXPECT_NE(mounted->find("name: provider-rate"), std::string::npos);
}

TEST_F(K8sManifestsTest, EveryContainerRunsTheKustomizeImage) {
  const YAML::Node kustomization = YAML::LoadFile((SourceDir() / "deploy/k8s/kustomization.yaml").string());
  std::string expected;
  for (const YAML::Node& image : Items(Get(kustomization, {"images"}))) {
    if (Text(Get(image, {"name"})) != "chime") continue;
    const std::string repo = Get(image, {"newName"}).IsDefined() ? Text(Get(image, {"newName"})) : "chime";
    expected = Get(image, {"digest"}).IsDefined() ? repo + "@" + Text(Get(image, {"digest"}))
                                                  : repo + ":" + Text(Get(image, {"newTag"}));
  }
  ASSERT_FALSE(expected.empty()) << "kustomization.yaml has no images entry named chime";
  for (const YAML::Node& w : Workloads()) {
    for (const YAML::Node& c : Containers(PodSpec(w))) {
      EXPECT_EQ(Text(Get(c, {"image"})), expected) << Text(Get(w, {"metadata", "name"}));
    }
  }
}

TEST_F(K8sManifestsTest, MigrationJobRunsJobctlMigrateOnce) {
  const YAML::Node job = Object("Job", "chime-migrate");
  std::vector<std::string> words;
  for (const char* part : {"command", "args"}) {
    for (const YAML::Node& w : Items(Get(MainContainer("Job", "chime-migrate"), {part}))) words.push_back(Text(w));
  }
  EXPECT_EQ(words, (std::vector<std::string>{"jobctl", "migrate"}));
  const std::string restart = Text(Get(PodSpec(job), {"restartPolicy"}));
  EXPECT_TRUE(restart == "Never" || restart == "OnFailure") << restart;
  EXPECT_TRUE(Int(Get(job, {"spec", "backoffLimit"})));
}

// Whether the policies let `from` reach `to` on port/protocol. A pod no
// policy isolates (for that direction) allows everything. `to` or `from`
// undefined: a peer outside the namespace's pods (PostgreSQL, DNS, the web),
// matched only by rules without peers or with ipBlock peers.
bool Allowed(const YAML::Node& from, const YAML::Node& to, long port, std::string_view protocol) {
  auto allows = [&](std::string_view direction, const YAML::Node& self, const YAML::Node& peer) {
    const std::string_view peers = direction == "Ingress" ? "from" : "to";
    bool isolated = false;
    for (const YAML::Node& policy : OfKind("NetworkPolicy")) {
      if (!self.IsDefined() || !Selects(Get(policy, {"spec", "podSelector"}), self)) continue;
      const std::vector<YAML::Node> types = Items(Get(policy, {"spec", "policyTypes"}));
      if (!std::ranges::any_of(types, [&](const YAML::Node& t) { return Text(t) == direction; })) continue;
      isolated = true;
      const std::string rules = direction == "Ingress" ? "ingress" : "egress";
      for (const YAML::Node& rule : Items(Get(policy, {"spec", rules}))) {
        const std::vector<YAML::Node> rule_peers = Items(Get(rule, {peers}));
        const bool peer_ok =
            rule_peers.empty() || std::ranges::any_of(rule_peers, [&](const YAML::Node& p) {
              if (!peer.IsDefined()) return Get(p, {"ipBlock"}).IsDefined();
              return !Get(p, {"namespaceSelector"}).IsDefined() && Selects(Get(p, {"podSelector"}), peer);
            });
        const std::vector<YAML::Node> ports = Items(Get(rule, {"ports"}));
        const bool port_ok = ports.empty() || std::ranges::any_of(ports, [&](const YAML::Node& p) {
                               const std::string proto = Text(Get(p, {"protocol"}));
                               return Int(Get(p, {"port"})) == port && (proto.empty() ? "TCP" : proto) == protocol;
                             });
        if (peer_ok && port_ok) return true;
      }
    }
    return !isolated;
  };
  return allows("Egress", from, to) && allows("Ingress", to, from);
}

// Whether the pods `to` accept `port` from some namespace (Prometheus's).
bool OpenToANamespace(const YAML::Node& to, long port) {
  for (const YAML::Node& policy : OfKind("NetworkPolicy")) {
    if (!Selects(Get(policy, {"spec", "podSelector"}), to)) continue;
    for (const YAML::Node& rule : Items(Get(policy, {"spec", "ingress"}))) {
      const std::vector<YAML::Node> peers = Items(Get(rule, {"from"}));
      const std::vector<YAML::Node> ports = Items(Get(rule, {"ports"}));
      if (std::ranges::any_of(peers, [](const YAML::Node& p) { return Get(p, {"namespaceSelector"}).IsDefined(); }) &&
          std::ranges::any_of(ports, [&](const YAML::Node& p) { return Int(Get(p, {"port"})) == port; })) {
        return true;
      }
    }
  }
  return false;
}

TEST_F(K8sManifestsTest, NetworkPoliciesLetChimesOwnTrafficThrough) {
  const YAML::Node scheduler = PodLabels(Object("Deployment", "chime-scheduler"));
  const YAML::Node worker = PodLabels(Object("Deployment", "chime-worker"));
  const YAML::Node migrate = PodLabels(Object("Job", "chime-migrate"));
  // The labels README.md gives a `kubectl run` jobctl pod.
  YAML::Node jobctl = YAML::Clone(worker);
  jobctl["app.kubernetes.io/component"] = "jobctl";
  const YAML::Node outside(YAML::NodeType::Undefined);

  EXPECT_TRUE(Allowed(worker, scheduler, 5555, "TCP")) << "worker -> scheduler zmq";
  EXPECT_TRUE(Allowed(jobctl, scheduler, 5555, "TCP")) << "jobctl -> scheduler zmq";
  EXPECT_FALSE(Allowed(migrate, worker, 9090, "TCP")) << "the worker's port is open to any pod";
  for (const YAML::Node& pod : {scheduler, worker, migrate, jobctl}) {
    const std::string who = Text(Get(pod, {"app.kubernetes.io/component"}));
    EXPECT_TRUE(Allowed(pod, outside, 5432, "TCP")) << who << " -> PostgreSQL";
    EXPECT_TRUE(Allowed(pod, outside, 53, "UDP")) << who << " -> DNS";
    EXPECT_TRUE(Allowed(pod, outside, 53, "TCP")) << who << " -> DNS over TCP";
  }
  EXPECT_TRUE(Allowed(worker, outside, 443, "TCP")) << "worker -> HTTPS endpoints";
  // Issue 22: health alerts could not leave: the scheduler's policy allowed
  // PostgreSQL and DNS only.
  EXPECT_TRUE(Allowed(scheduler, outside, 443, "TCP")) << "scheduler -> the alert webhook (CHIME_ALERT_WEBHOOK_URL)";
  EXPECT_FALSE(Allowed(scheduler, outside, 80, "TCP")) << "scheduler -> plain HTTP anywhere";
  EXPECT_FALSE(Allowed(scheduler, worker, 443, "TCP")) << "the webhook rule opens the cluster's pods";
  const long scheduler_http =
      PortOf(Flag(MainContainer("Deployment", "chime-scheduler"), "--http-listen").value_or(""));
  const long worker_http = PortOf(Env(MainContainer("Deployment", "chime-worker"), "CHIME_HTTP_LISTEN").value_or(""));
  EXPECT_TRUE(OpenToANamespace(scheduler, scheduler_http)) << "Prometheus -> scheduler /metrics";
  EXPECT_TRUE(OpenToANamespace(worker, worker_http)) << "Prometheus -> worker /metrics";
}

// The alert webhook's egress is HTTPS to public addresses: the ranges the
// scheduler's own address policy refuses stay closed (the policy's
// ipBlocks, which Allowed() does not model, checked here).
TEST_F(K8sManifestsTest, TheAlertWebhookRuleOpensOnlyPublicAddresses) {
  const YAML::Node scheduler = PodLabels(Object("Deployment", "chime-scheduler"));
  int rules = 0;
  for (const YAML::Node& policy : OfKind("NetworkPolicy")) {
    if (!Selects(Get(policy, {"spec", "podSelector"}), scheduler)) continue;
    for (const YAML::Node& rule : Items(Get(policy, {"spec", "egress"}))) {
      const std::vector<YAML::Node> ports = Items(Get(rule, {"ports"}));
      if (!std::ranges::any_of(ports, [](const YAML::Node& p) { return Int(Get(p, {"port"})) == 443; })) continue;
      ++rules;
      const std::vector<YAML::Node> peers = Items(Get(rule, {"to"}));
      ASSERT_FALSE(peers.empty()) << "443 to anywhere, the cluster's pods included";
      std::set<std::string> closed;
      for (const YAML::Node& peer : peers) {
        ASSERT_TRUE(Get(peer, {"ipBlock"}).IsDefined()) << "a peer that is not an address block";
        for (const YAML::Node& e : Items(Get(peer, {"ipBlock", "except"}))) closed.insert(Text(e));
      }
      for (const char* range : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8",
                                "100.64.0.0/10", "fc00::/7", "fe80::/10"}) {
        EXPECT_TRUE(closed.contains(range)) << range << " is open to the scheduler on 443";
      }
    }
  }
  EXPECT_EQ(rules, 1);
}

// What commonLabels did, without it: every object, every selector and every
// pod template carries app.kubernetes.io/part-of: chime, whichever kustomize
// renders the base.
TEST_F(K8sManifestsTest, EveryObjectAndSelectorIsPartOfChime) {
  auto part_of = [](const YAML::Node& labels) { return Text(Get(labels, {"app.kubernetes.io/part-of"})) == "chime"; };
  for (const YAML::Node& o : Rendered().objects) {
    const std::string what = Text(Get(o, {"kind"})) + " " + Text(Get(o, {"metadata", "name"}));
    EXPECT_TRUE(part_of(Get(o, {"metadata", "labels"}))) << what;
    const std::string kind = Text(Get(o, {"kind"}));
    if (kind == "Deployment" || kind == "Job") {
      EXPECT_TRUE(part_of(PodLabels(o))) << what << " pods";
      if (kind == "Deployment") {
        EXPECT_TRUE(part_of(Get(o, {"spec", "selector", "matchLabels"}))) << what << " selector";
      }
      for (const YAML::Node& c : Items(Get(PodSpec(o), {"topologySpreadConstraints"}))) {
        EXPECT_TRUE(part_of(Get(c, {"labelSelector", "matchLabels"}))) << what << " topology spread";
      }
    }
    if (kind == "Service") {
      EXPECT_TRUE(part_of(Get(o, {"spec", "selector"}))) << what;
    }
    if (kind == "PodDisruptionBudget") {
      EXPECT_TRUE(part_of(Get(o, {"spec", "selector", "matchLabels"}))) << what;
    }
    if (kind == "NetworkPolicy") {
      EXPECT_TRUE(part_of(Get(o, {"spec", "podSelector", "matchLabels"}))) << what;
      for (const char* direction : {"ingress", "egress"}) {
        for (const YAML::Node& rule : Items(Get(o, {"spec", direction}))) {
          for (const char* peers : {"from", "to"}) {
            for (const YAML::Node& peer : Items(Get(rule, {peers}))) {
              if (!Get(peer, {"podSelector"}).IsDefined()) continue;
              EXPECT_TRUE(part_of(Get(peer, {"podSelector", "matchLabels"}))) << what << " " << direction << " peer";
            }
          }
        }
      }
    }
  }
}

// Issue 22: kustomize v5 (kubectl 1.27+) warned that commonLabels is
// deprecated; `labels:`, its replacement, is refused by kubectl 1.20's
// kustomize v2. The base uses neither and renders without a warning.
TEST_F(K8sManifestsTest, RendersWithoutWarnings) {
  EXPECT_EQ(Rendered().warnings, "") << "kubectl kustomize deploy/k8s warned";
  const YAML::Node kustomization = YAML::LoadFile((SourceDir() / "deploy/k8s/kustomization.yaml").string());
  EXPECT_FALSE(Get(kustomization, {"commonLabels"}).IsDefined()) << "deprecated since kustomize v5";
}

TEST_F(K8sManifestsTest, KustomizationUsesOnlyWhatKustomizeV2Knows) {
  // kubectl before 1.21 embeds kustomize v2: no `labels`, `patches`,
  // `components`, `replacements` or directories in `resources`.
  const std::set<std::string> known = {
      "apiVersion", "kind", "resources", "commonLabels", "commonAnnotations", "configMapGenerator",
      "secretGenerator", "generatorOptions", "images", "namePrefix", "nameSuffix", "patchesStrategicMerge",
      "patchesJson6902"};
  const std::filesystem::path dir = SourceDir() / "deploy/k8s";
  const YAML::Node kustomization = YAML::LoadFile((dir / "kustomization.yaml").string());
  for (const auto& kv : kustomization) {
    EXPECT_TRUE(known.contains(kv.first.Scalar())) << kv.first.Scalar() << " is unknown to kustomize v2";
  }
  for (const YAML::Node& r : Items(Get(kustomization, {"resources"}))) {
    EXPECT_TRUE(std::filesystem::is_regular_file(dir / Text(r))) << Text(r) << " is not a file";
  }
}

}  // namespace
}  // namespace chime
