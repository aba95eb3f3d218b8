#include "output_dir.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <system_error>

#include "core/error.hpp"
#include "interrupts.hpp"

namespace moesim::report {

namespace {

namespace fs = std::filesystem;

fs::path sibling(const fs::path& path, const char* tag) {
  auto out = path.lexically_normal();
  if (out.has_filename() == false) out = out.parent_path();
  out += std::string(".") + tag + "-" + std::to_string(::getpid());
  return out;
}

}  // namespace

// A temporary file renamed into place; the folder must exist.
void write_whole(const fs::path& target, std::string_view content);

namespace {

// Marks a folder as a moesim run's output: only such a folder (or an empty one) is replaced.
constexpr const char* kMarker = ".moesim-output";

// What the commands write (and older versions wrote, before the marker): a folder holding only
// files of these names is a run's output too.
bool written_by_moesim(const fs::path& file) {
  static const std::regex kNames(
      R"((resolved\.yaml|summary\.csv|timeline\.csv|streams\.csv|trace\.json|dag\.csv|)"
      R"(fidelity\.csv|profile\.yaml|network\.yaml|calibration\.csv|residuals\.csv|report\.md|)"
      R"(validation\.csv|(breakdown|trace|dag)_.+\.(csv|json)|.+\.(png|pdf))(\.partial)?)");
  return std::regex_match(file.filename().string(), kNames);
}

bool replaceable(const fs::path& folder) {
  std::error_code ec;
  if (fs::exists(folder / kMarker, ec)) return true;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (!entry.is_regular_file() || !written_by_moesim(entry.path())) return false;
  }
  return !ec;
}

}  // namespace

OutputDir::OutputDir(fs::path path) : path_(std::move(path)), stage_(sibling(path_, "partial")) {
  std::error_code ec;
  if (fs::exists(path_, ec) && !fs::is_directory(path_, ec)) {
    throw moesim::Error("cannot write into '" + path_.string() + "': a file of that name exists");
  }
  if (fs::is_directory(path_, ec) && !replaceable(path_)) {
    throw moesim::Error("'" + path_.string() + "' exists and is not a moesim output folder (no " +
                        kMarker +
                        "): a run replaces its folder whole, so give a new --out or remove it");
  }
  fs::remove_all(stage_, ec);
  fs::create_directories(stage_, ec);
  if (ec || !fs::is_directory(stage_)) {
    throw moesim::Error("cannot create output folder '" + stage_.string() +
                        "': " + (ec ? ec.message() : "a file of that name exists"));
  }
  register_unfinished(stage_);
  write_whole(stage_ / kMarker,
              "a moesim run's output: the next run into this folder replaces it\n");
}

OutputDir::~OutputDir() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(stage_, ec);
  unregister_unfinished(stage_);
}

fs::path OutputDir::write(std::string_view name, std::string_view content) const {
  // Into the staging folder as it is: never re-created (an interruption may have removed it).
  write_whole(stage_ / std::string(name), content);
  return path_ / std::string(name);
}

void OutputDir::commit() {
  std::error_code ec;
  const auto old = sibling(path_, "old");
  const bool replacing = fs::exists(path_, ec);
  if (replacing) {
    fs::remove_all(old, ec);
    fs::rename(path_, old, ec);
    if (ec) {
      throw moesim::Error("cannot replace '" + path_.string() + "': " + ec.message() +
                          "; the new output is in '" + stage_.string() + "'");
    }
  }
  fs::rename(stage_, path_, ec);
  if (ec) {
    if (replacing) fs::rename(old, path_);
    throw moesim::Error("cannot move '" + stage_.string() + "' to '" + path_.string() +
                        "': " + ec.message());
  }
  committed_ = true;
  unregister_unfinished(stage_);
  if (replacing) fs::remove_all(old, ec);
}

fs::path write_file(const fs::path& target, std::string_view content) {
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      throw moesim::Error("cannot create folder '" + target.parent_path().string() +
                          "': " + ec.message());
    }
  }
  write_whole(target, content);
  return target;
}

void write_whole(const fs::path& target, std::string_view content) {
  auto temporary = target;
  temporary += ".partial";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw moesim::Error("cannot write '" + temporary.string() + "': " + std::strerror(errno));
    }
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) {
      fs::remove(temporary);
      throw moesim::Error("cannot write '" + temporary.string() + "' (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(temporary, target, ec);
  if (ec) {
    fs::remove(temporary);
    throw moesim::Error("cannot move '" + temporary.string() + "' into place: " + ec.message());
  }
}

}  // namespace moesim::report
