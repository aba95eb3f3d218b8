#pragma once
// The fixture of the command-line tests: runs the moesim binary in a fresh folder as a user
// would, and reads what it wrote.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace moesim_cli_test {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

struct Result {
  int exit_code;
  std::string out;
  std::string err;
};

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    work_ = fs::temp_directory_path() / (std::string("moesim_cli_") + info->name());
    fs::remove_all(work_);
    fs::create_directories(work_);
  }
  void TearDown() override { fs::remove_all(work_); }

  Result run(const std::string& args) const {
    const auto err_file = work_ / "stderr.txt";
    const std::string command = "cd '" + work_.string() + "' && '" MOESIM_BINARY "' " + args +
                                " 2>'" + err_file.string() + "'";
    FILE* pipe = popen(command.c_str(), "r");
    std::string out;
    std::array<char, 4096> buffer{};
    while (const auto n = fread(buffer.data(), 1, buffer.size(), pipe))
      out.append(buffer.data(), n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, slurp(err_file)};
  }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(work_ / name) << text;
    return work_ / name;
  }
  fs::path work_;
};

}  // namespace moesim_cli_test
