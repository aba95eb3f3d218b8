#include "figures_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <ostream>
#include <thread>

#include "config/document.hpp"
#include "config/error.hpp"
#include "config/reader.hpp"
#include "plot_runner.hpp"
#include "study.hpp"
#include "sweep_command.hpp"

namespace moesim::cli {

namespace {

// experiments/figures.yaml
struct FigureList {
  std::vector<std::string> figures;
  template <class V>
  void fields(V& v) {
    v.field("figures", figures,
            "experiment names: experiments/<name>.yaml drawn by plots/<name>.py");
  }
};

}  // namespace

void figures(const FiguresOptions& options, std::ostream& out, std::ostream& err) {
  namespace fs = std::filesystem;
  const auto list_file = data_dir() / "experiments" / "figures.yaml";
  const auto list =
      config::read_document<FigureList>(config::Document::load_file(list_file.string()));
  std::vector<std::string> names;
  for (const auto& name : options.only) {
    if (std::find(list.figures.begin(), list.figures.end(), name) == list.figures.end()) {
      throw config::ConfigError(
          fmt::format("--only {}: not a figure of {}", name, list_file.string()));
    }
  }
  for (const auto& name : list.figures) {
    if (options.only.empty() ||
        std::find(options.only.begin(), options.only.end(), name) != options.only.end()) {
      names.push_back(name);
    }
  }
  std::string why;
  for (const auto& name : names) {
    if (!can_plot(name + ".py", why)) throw Error(fmt::format("figure {}: {}", name, why));
  }
  const int jobs = options.jobs > 0
                       ? options.jobs
                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const MpiSession local(false);  // one process runs every figure's sweep
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> images;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& name = names[i];
    if (options.progress) {
      err << fmt::format("[figures] {}/{} {}\n", i + 1, names.size(), name) << std::flush;
    }
    SweepOptions sweep_options;
    sweep_options.experiment = (data_dir() / "experiments" / (name + ".yaml")).string();
    sweep_options.out = (fs::path(options.out) / name).string();
    sweep_options.jobs = jobs;
    sweep_options.progress = options.progress;
    const auto dir = fs::path(sweep(sweep_options, local, out, err));
    const auto png = dir / (name + ".png");
    run_plot(name + ".py", {(dir / "summary.csv").string(), png.string()});
    images.push_back(png.string());
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  out << fmt::format("{} figures in {:.0f} s ({} jobs):\n", images.size(), took.count(), jobs);
  for (const auto& image : images) out << "  " << image << " (and .pdf)\n";
}

}  // namespace moesim::cli
