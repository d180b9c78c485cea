/*
 * file_digest.cpp: fsync and sha256 of a written file (file_digest.h).
 */
#include "common/file_digest.h"

extern "C" {
#include "common/cryptohash.h"
#include "common/sha2.h"
}

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace recio {
namespace {

[[noreturn]] void raise_read_error(const std::string& path, const char* what, int err)
{
    throw Error(ERRCODE_IO_ERROR, format("could not read %s \"%s\": %s", what, path.c_str(), strerror(err)));
}

}  // namespace

void fsync_path(const std::string& path, bool directory, const char* what)
{
    int fd = open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    int rc = fd >= 0 ? fsync(fd) : -1;
    int err = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        throw Error(err == ENOSPC || err == EDQUOT ? ERRCODE_DISK_FULL : ERRCODE_IO_ERROR,
                    format("could not fsync %s \"%s\": %s", directory ? "directory" : what, path.c_str(),
                           strerror(err)));
}

FileDigest digest_file(const std::string& path, const char* what)
{
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        raise_read_error(path, what, errno);
    pg_cryptohash_ctx* ctx = nullptr;
    FileDigest out{0, {}};
    try {
        ctx = pg::call([] { return pg_cryptohash_create(PG_SHA256); });
        if (!ctx || pg::call([&] { return pg_cryptohash_init(ctx); }) < 0)
            throw Error(ERRCODE_OUT_OF_MEMORY, "could not initialize a sha256 context");
        static uint8 buf[1 << 16];
        for (;;) {
            pg::check_for_interrupts();
            ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                raise_read_error(path, what, errno);
            if (n == 0)
                break;
            if (pg::call([&] { return pg_cryptohash_update(ctx, buf, static_cast<size_t>(n)); }) < 0)
                throw Error(ERRCODE_INTERNAL_ERROR, "could not compute sha256");
            out.bytes += n;
        }
        uint8 digest[PG_SHA256_DIGEST_LENGTH];
        if (pg::call([&] { return pg_cryptohash_final(ctx, digest, sizeof digest); }) < 0)
            throw Error(ERRCODE_INTERNAL_ERROR, "could not compute sha256");
        static const char hex[] = "0123456789abcdef";
        for (uint8 b : digest) {
            out.sha256 += hex[b >> 4];
            out.sha256 += hex[b & 15];
        }
    } catch (...) {
        if (ctx)
            pg_cryptohash_free(ctx);
        close(fd);
        throw;
    }
    pg_cryptohash_free(ctx);
    close(fd);
    return out;
}

}  // namespace recio
