// The main of a fuzz target built without libFuzzer (NENEP_FUZZ=OFF): runs
// LLVMFuzzerTestOneInput once on every file given, directories read
// recursively, so that ordinary test runs keep the targets compiling and
// the seed corpus (and any regression input saved beside it) passing.
//
//   import_line_fuzzer tests/fuzz/corpus/import_line [more files or dirs]
//
// Fails if an input trips an invariant (the target aborts) or if no input
// was found at all (a mistyped corpus path must not pass silently).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc,
                                                          char*** argv);

namespace nenep::fuzz {
namespace {

bool RunFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  // A copy of exactly the input's size, as libFuzzer gives, so that ASan
  // catches a read past its end.
  std::vector<uint8_t> data(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(data.empty() ? nullptr : data.data(), data.size());
  return true;
}

}  // namespace
}  // namespace nenep::fuzz

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  size_t inputs = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code error;
    if (std::filesystem::is_directory(arg, error)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry :
           std::filesystem::recursive_directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const std::filesystem::path& f : files) {
        ok &= nenep::fuzz::RunFile(f);
        ++inputs;
      }
    } else {
      ok &= nenep::fuzz::RunFile(arg);
      ++inputs;
    }
  }
  if (inputs == 0) {
    std::fprintf(stderr, "%s: no input found in the arguments\n", argv[0]);
    return 1;
  }
  std::printf("%s: %zu input(s) replayed\n", argv[0], inputs);
  return ok ? 0 : 1;
}
