// chime-bench: Chime's benchmarks. Everything lives in chime::bench_lib (cli.h).
#include "bench/cli.h"

int main(int argc, char** argv) { return chime::bench::RunBenchCli(argc, argv); }
