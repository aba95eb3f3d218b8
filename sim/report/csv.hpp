#pragma once
// CSV as every file moesim writes it (RFC 4180): a field holding a comma, quote or line break
// is quoted, its quotes doubled. Every writer of text fields goes through csv_field().
#include <string>
#include <string_view>

namespace moesim::report {

std::string csv_field(std::string_view text);

}  // namespace moesim::report
