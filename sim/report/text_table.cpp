#include "text_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace moesim::report {

TextTable::TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

void TextTable::add_row(std::vector<std::string> cells) {
  if (cells.size() != columns_.size()) {
    throw std::logic_error(fmt::format("TextTable: a row of {} cells in a table of {} columns",
                                       cells.size(), columns_.size()));
  }
  rows_.push_back(std::move(cells));
}

std::string TextTable::render() const {
  std::vector<std::size_t> width;
  for (const auto& c : columns_) width.push_back(std::max(c.min_width, c.header.size()));
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  const auto line = [&](const auto& cell_of) {
    std::string text;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) text += ' ';
      const std::string& cell = cell_of(i);
      const std::string pad(width[i] - cell.size(), ' ');
      text += columns_[i].align == Align::kLeft ? cell + pad : pad + cell;
    }
    text.erase(text.find_last_not_of(' ') + 1);
    out += text + '\n';
  };
  line([&](std::size_t i) -> const std::string& { return columns_[i].header; });
  for (const auto& row : rows_) line([&](std::size_t i) -> const std::string& { return row[i]; });
  return out;
}

}  // namespace moesim::report
