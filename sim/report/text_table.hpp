#pragma once
// Plain-text tables for the terminal. Each column is as wide as its widest cell (at least its
// minimum), so that no value, however large, pushes the ones after it out of line; columns are
// one space apart and lines carry no trailing spaces.
#include <cstddef>
#include <string>
#include <vector>

namespace moesim::report {

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string header;
    std::size_t min_width = 0;
    Align align = Align::kRight;
  };
  explicit TextTable(std::vector<Column> columns);

  // Throws std::logic_error unless there is one cell per column.
  void add_row(std::vector<std::string> cells);
  // The header line, then one line per row, each ending in '\n'.
  std::string render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace moesim::report
