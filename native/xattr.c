/*
 * Linux extended attributes for Arca's file-system backup, which records them in tree nodes as
 * restic does: Node.js has no xattr API. Every call works on the path itself, never on a
 * symlink's target (the l* variants), and is synchronous: each is one quick system call.
 *
 * Failures throw an Error shaped like Node's own fs errors (code, errno, syscall, path), so
 * callers tell ENOTSUP, EACCES, ENODATA apart as they would for any fs call.
 */
#include "arca.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <sys/xattr.h>
#endif

/* Node's names for the errors these calls give (ENOTSUP is EOPNOTSUPP on Linux). */
static const char *errno_name(int err) {
  switch (err) {
    case ENOTSUP: return "ENOTSUP";
    case ENODATA: return "ENODATA";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ERANGE: return "ERANGE";
    case E2BIG: return "E2BIG";
    case ENOSPC: return "ENOSPC";
    case EDQUOT: return "EDQUOT";
    case EROFS: return "EROFS";
    case EIO: return "EIO";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    default: return "UNKNOWN";
  }
}

static void throw_errno(napi_env env, int err, const char *syscall, const char *path, const char *name) {
  const char *code_name = errno_name(err), *description = strerror(err);
  size_t size = strlen(code_name) + strlen(description) + strlen(syscall) + strlen(path) + 16;
  char *message = malloc(size);
  napi_value code, msg, error, value;
  if (!message) {
    napi_throw_error(env, code_name, description);
    return;
  }
  snprintf(message, size, "%s: %s, %s '%s'", code_name, description, syscall, path);
  /* lower-case first letter, as in Node's messages */
  char *first = message + strlen(code_name) + 2;
  if (*first >= 'A' && *first <= 'Z') *first += 'a' - 'A';
  napi_create_string_utf8(env, code_name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  free(message);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, -err, &value); /* negative, as Node's errno */
  napi_set_named_property(env, error, "errno", value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "syscall", value);
  napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "path", value);
  if (name) {
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &value);
    napi_set_named_property(env, error, "attribute", value);
  }
  napi_throw(env, error);
}

/* A string argument as a new NUL-terminated buffer (free it), or NULL after throwing. */
static char *string_arg(napi_env env, napi_value value, const char *fn, const char *arg, const char *want) {
  size_t len;
  char *s;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) {
    arca_throw_type(env, value, fn, arg, want);
    return NULL;
  }
  s = malloc(len + 1);
  if (!s) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, value, s, len + 1, &len);
  if (strlen(s) != len) { /* an embedded NUL would name another file */
    free(s);
    arca_throw_type(env, value, fn, arg, want);
    return NULL;
  }
  return s;
}

char *arca_path_arg(napi_env env, napi_value value, const char *fn) {
  static const char *want = "a string or Uint8Array without NUL bytes";
  uint8_t *bytes;
  size_t len;
  char *s;
  bool typed = false;
  if (napi_is_typedarray(env, value, &typed) != napi_ok || !typed) return string_arg(env, value, fn, "path", want);
  /* a name that is not UTF-8, as its bytes */
  if (!arca_arg_bytes(env, value, fn, "path", 0, &bytes, &len)) return NULL;
  if (memchr(bytes, 0, len)) {
    arca_throw_type(env, value, fn, "path", want);
    return NULL;
  }
  s = malloc(len + 1);
  if (!s) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  memcpy(s, bytes, len);
  s[len] = 0;
  return s;
}

void arca_throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  throw_errno(env, err, syscall, path, NULL);
}

/* The path and attribute name of a get or set; 0 (with a JS exception pending) if either is bad. */
static int path_and_name(napi_env env, napi_value *args, const char *fn, char **path, char **name) {
  if (!(*path = arca_path_arg(env, args[0], fn))) return 0;
  if (!(*name = string_arg(env, args[1], fn, "name", "a string without NUL bytes"))) {
    free(*path);
    return 0;
  }
  return 1;
}

#ifdef __linux__

/*
 * Size, then read: the list or value can grow between the two calls (ERANGE), so retry. A
 * size of 0 answers with no second call, which is the common case for lists.
 */
typedef ssize_t (*query_fn)(const char *path, const char *name, void *buf, size_t size);

static ssize_t do_list(const char *path, const char *name, void *buf, size_t size) {
  (void)name;
  return llistxattr(path, buf, size);
}

static ssize_t do_get(const char *path, const char *name, void *buf, size_t size) {
  return lgetxattr(path, name, buf, size);
}

/* Fills *out (malloc'd, free it) and returns its length, or -1 with errno set. */
static ssize_t query(query_fn fn, const char *path, const char *name, char **out) {
  *out = NULL;
  for (;;) {
    ssize_t size = fn(path, name, NULL, 0);
    if (size <= 0) return size;
    char *buf = malloc((size_t)size);
    if (!buf) {
      errno = ENOMEM;
      return -1;
    }
    ssize_t got = fn(path, name, buf, (size_t)size);
    if (got >= 0) {
      *out = buf;
      return got;
    }
    free(buf);
    if (errno != ERANGE) return -1;
  }
}

/* llistxattr(path: string): string[] */
static napi_value ListXattr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1], result, item;
  char *path, *list;
  uint32_t count = 0;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL); /* missing ones read as undefined */
  if (!(path = arca_path_arg(env, args[0], "llistxattr"))) return NULL;
  ssize_t len = query(do_list, path, NULL, &list);
  if (len < 0) {
    throw_errno(env, errno, "llistxattr", path, NULL);
    free(path);
    return NULL;
  }
  napi_create_array(env, &result);
  /* NUL-separated names, in the file system's order (restic keeps that order) */
  for (ssize_t at = 0; at < len;) {
    size_t n = strnlen(list + at, (size_t)(len - at));
    if (n > 0) {
      napi_create_string_utf8(env, list + at, n, &item);
      napi_set_element(env, result, count++, item);
    }
    at += (ssize_t)n + 1;
  }
  free(list);
  free(path);
  return result;
}

/* lgetxattr(path: string, name: string): Buffer */
static napi_value GetXattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], result = NULL;
  char *path, *name, *value;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (!path_and_name(env, args, "lgetxattr", &path, &name)) return NULL;
  ssize_t len = query(do_get, path, name, &value);
  if (len < 0) throw_errno(env, errno, "lgetxattr", path, name);
  else napi_create_buffer_copy(env, (size_t)len, len > 0 ? value : "", NULL, &result);
  free(value);
  free(name);
  free(path);
  return result;
}

/* lsetxattr(path: string, name: string, value: Uint8Array): undefined; creates or replaces */
static napi_value SetXattr(napi_env env, napi_callback_info info) {
  size_t argc = 3, len;
  napi_value args[3];
  uint8_t *data;
  char *path, *name;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (!arca_arg_bytes(env, args[2], "lsetxattr", "value", 0, &data, &len)) return NULL;
  if (!path_and_name(env, args, "lsetxattr", &path, &name)) return NULL;
  if (lsetxattr(path, name, len > 0 ? (const void *)data : "", len, 0) != 0) throw_errno(env, errno, "lsetxattr", path, name);
  free(name);
  free(path);
  return NULL;
}

#else

/* No xattrs here: every call fails as on a file system without them. */
static napi_value Unsupported(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  char *path;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (!(path = arca_path_arg(env, args[0], "xattr"))) return NULL;
  throw_errno(env, ENOTSUP, "xattr", path, NULL);
  free(path);
  return NULL;
}
#define ListXattr Unsupported
#define GetXattr Unsupported
#define SetXattr Unsupported

#endif

void register_xattr(napi_env env, napi_value exports) {
  arca_export(env, exports, "llistxattr", ListXattr);
  arca_export(env, exports, "lgetxattr", GetXattr);
  arca_export(env, exports, "lsetxattr", SetXattr);
}
