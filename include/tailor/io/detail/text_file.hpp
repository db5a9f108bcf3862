// tailor/io/detail/text_file.hpp — a whole text file in one buffer and a line iterator over it,
// shared by the line-oriented readers (libsvm.hpp, rlb_dp.hpp). O(bytes), one allocation.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "tailor/core/errors.hpp"

namespace tailor::io::detail {

/// A whole file in one buffer (not zero-filled), with its name for error messages.
struct TextFile {
  std::string source;
  std::unique_ptr<char[]> data;
  std::size_t size = 0;
  std::string_view text() const { return {data.get(), size}; }
};

/// The size of the regular file at `path`, asked of the file system before anything is opened:
/// a directory (whose seek-to-end reports INT64_MAX on Linux), a FIFO or a device is an
/// InvalidArgument naming the path, a missing file a tailor::Error.
inline std::size_t regular_file_size(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    raise<Error>("cannot open '{}': {}", path.string(),
                 ec ? ec.message() : std::generic_category().message(ENOENT));
  }
  if (std::filesystem::is_directory(status)) {
    raise<InvalidArgument>("'{}' is a directory, expected a regular file", path.string());
  }
  if (!std::filesystem::is_regular_file(status)) {
    raise<InvalidArgument>("'{}' is not a regular file (a FIFO, socket or device), expected one",
                           path.string());
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) raise<Error>("{}: cannot determine the file size: {}", path.string(), ec.message());
  return static_cast<std::size_t>(size);
}

inline TextFile read_text_file(const std::filesystem::path& path) {
  TextFile file;
  file.source = path.string();
  file.size = regular_file_size(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    raise<Error>("cannot open '{}': {}", file.source, std::generic_category().message(errno));
  }
  file.data = std::make_unique_for_overwrite<char[]>(file.size + 1);
  in.read(file.data.get(), static_cast<std::streamsize>(file.size));
  if (static_cast<std::size_t>(in.gcount()) != file.size) {
    raise<Error>("{}: read failed after {} of {} bytes", file.source, in.gcount(), file.size);
  }
  return file;
}

/// Calls on_line(line_text, line_number) for each line (without its LF or CRLF), blank lines
/// included; line numbers are 1-based.
template <class OnLine>
void for_each_line(std::string_view text, OnLine&& on_line) {
  const char* p = text.data();
  const char* const end = p + text.size();
  std::size_t line = 1;
  while (p < end) {
    const char* newline =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* stop = newline == nullptr ? end : newline;
    const char* content_end = stop;
    if (content_end > p && content_end[-1] == '\r') --content_end;
    on_line(std::string_view(p, static_cast<std::size_t>(content_end - p)), line);
    if (newline == nullptr) break;
    p = newline + 1;
    ++line;
  }
}

}  // namespace tailor::io::detail
