// connectFrom(localPort, ip, port, timeoutMs, callback(err, fd)): a TCP
// connection that leaves from localPort while a listener holds that port
// (SO_REUSEADDR + SO_REUSEPORT on both), which Node's net cannot make. Hole
// punching needs it: the NAT mapping of the listening port is the address
// the other side dials at the same moment (TCP simultaneous open). The
// blocking connect runs in the libuv thread pool; timeoutMs bounds it.
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct {
  napi_async_work work;
  napi_ref callback;
  int local_port;
  char ip[64];
  int port;
  int timeout_ms;
  int fd;
  int error;
} Request;

static void run(napi_env env, void* data) {
  Request* r = (Request*)data;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { r->error = errno; return; }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  struct timeval tv = { r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000 };
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_in local = { 0 };
  local.sin_family = AF_INET;
  local.sin_port = htons((uint16_t)r->local_port);
  local.sin_addr.s_addr = INADDR_ANY;
  struct sockaddr_in remote = { 0 };
  remote.sin_family = AF_INET;
  remote.sin_port = htons((uint16_t)r->port);
  if (inet_pton(AF_INET, r->ip, &remote.sin_addr) != 1) { r->error = EINVAL; close(fd); return; }
  if (bind(fd, (struct sockaddr*)&local, sizeof local) < 0 ||
      connect(fd, (struct sockaddr*)&remote, sizeof remote) < 0) {
    r->error = errno == EINPROGRESS ? ETIMEDOUT : errno;
    close(fd);
    return;
  }
  r->fd = fd;
}

static void done(napi_env env, napi_status status, void* data) {
  Request* r = (Request*)data;
  napi_value callback, undefined, args[2];
  napi_get_reference_value(env, r->callback, &callback);
  napi_get_undefined(env, &undefined);
  if (r->error != 0) {
    napi_value code, message;
    napi_create_string_utf8(env, r->error == ETIMEDOUT ? "ETIMEDOUT" : r->error == ECONNREFUSED ? "ECONNREFUSED" : r->error == EADDRINUSE ? "EADDRINUSE" : r->error == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : "ECONNFAILED", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, strerror(r->error), NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code, message, &args[0]);
    napi_get_undefined(env, &args[1]);
  } else {
    napi_get_null(env, &args[0]);
    napi_create_int32(env, r->fd, &args[1]);
  }
  napi_call_function(env, undefined, callback, 2, args, NULL);
  napi_delete_reference(env, r->callback);
  napi_delete_async_work(env, r->work);
  free(r);
}

static napi_value connect_from(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 5) { napi_throw_type_error(env, NULL, "connectFrom(localPort, ip, port, timeoutMs, callback)"); return NULL; }
  Request* r = calloc(1, sizeof(Request));
  size_t length;
  napi_get_value_int32(env, argv[0], &r->local_port);
  napi_get_value_string_utf8(env, argv[1], r->ip, sizeof r->ip, &length);
  napi_get_value_int32(env, argv[2], &r->port);
  napi_get_value_int32(env, argv[3], &r->timeout_ms);
  napi_create_reference(env, argv[4], 1, &r->callback);
  napi_value name;
  napi_create_string_utf8(env, "connectFrom", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, run, done, r, &r->work);
  napi_queue_async_work(env, r->work);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "connectFrom", NAPI_AUTO_LENGTH, connect_from, NULL, &fn);
  napi_set_named_property(env, exports, "connectFrom", fn);
  return exports;
}
