/*
 * file_digest.h: what snapshot() and export_sqlite() do to a file they have
 * just written: make it durable (fsync of the file and of its directory) and
 * read it back for its size and sha256 (PostgreSQL's cryptohash, no
 * pgcrypto).  Errors name the file as the caller calls it ("snapshot file").
 */
#pragma once

#include <string>

#include "common/error_boundary.h"

namespace recio {

struct FileDigest {
    int64 bytes;
    std::string sha256; /* lower-case hex */
};

/* The file's size and sha256, read back from disk; checks for interrupts between reads. */
FileDigest digest_file(const std::string& path, const char* what);

/* fsync a file (what names it in errors) or a directory; 53100 when the disk is full, else 58030. */
void fsync_path(const std::string& path, bool directory, const char* what);

}  // namespace recio
