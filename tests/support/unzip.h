// Unzip: a zip archive's files by name, read with libarchive — for tests that check what the
// server wrote as a zip (XLSX workbooks). Link LibArchive.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace pavilion::testing {

inline std::map<std::string, std::string> Unzip(const std::string& bytes) {
  std::map<std::string, std::string> files;
  archive* a = archive_read_new();
  archive_read_support_format_zip(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string data(size_t(archive_entry_size(e)), '\0');
    EXPECT_EQ(archive_read_data(a, data.data(), data.size()), la_ssize_t(data.size()));
    files[archive_entry_pathname(e)] = std::move(data);
  }
  archive_read_free(a);
  return files;
}

}  // namespace pavilion::testing
