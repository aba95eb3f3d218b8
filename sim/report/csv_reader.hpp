#pragma once
// The Fast C++ CSV Parser (Debian: libfccp-dev, header only), for reading back the CSV files
// moesim writes. Its error type copies the file name with strncpy, which GCC flags when
// inlined: silenced here, once.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#include <libfccp/csv.h>
#pragma GCC diagnostic pop
#else
#include <libfccp/csv.h>
#endif
